"""Silo isolation: one CloudFormation stack per tenant holding a dedicated bucket and app table.

Waiting respects the Lambda's remaining time: when the stack is still in progress and time runs
short, StackStillInProgress is raised, the invocation is retried, and the retry resumes waiting on
the same stack (every step looks at the stack's current state first).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tenancy.common.errors import TenancyError
from tenancy.common.observability import logger

CREATED = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}
CREATE_FAILED = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED"}
DELETE_FAILED = {"DELETE_FAILED"}
GONE = {"DELETE_COMPLETE"}


class StackStillInProgress(TenancyError):
    """The stack is still changing and this invocation is out of time: retry to resume waiting."""

    status_code = 503
    code = "STACK_IN_PROGRESS"


class StackFailed(TenancyError):
    """The stack reached a failed state; the message says why."""

    code = "STACK_FAILED"


@dataclass(frozen=True)
class Deadline:
    """Remaining time of the invocation, with a safety margin kept for reporting the result."""

    remaining_millis: Callable[[], int]
    margin_seconds: float
    poll_seconds: float

    def can_wait(self) -> bool:
        return self.remaining_millis() / 1000 - self.margin_seconds > self.poll_seconds


@dataclass(frozen=True)
class SiloResources:
    bucket: str
    table: str


class SiloStacks:
    def __init__(
        self,
        cloudformation: Any,
        template_url: str,
        role_arn: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._cf = cloudformation
        self._template_url = template_url
        self._role_arn = role_arn
        self._sleep = sleep

    # --- provisioning ------------------------------------------------------------------------

    def ensure_created(self, stack_name: str, tenant_id: str, deadline: Deadline) -> SiloResources:
        """Create the tenant's stack unless it exists, then wait for it to be complete."""
        stack = self._describe(stack_name)
        if stack is not None and stack["StackStatus"] in CREATE_FAILED:
            # A failed earlier attempt: remove it so this attempt starts clean.
            self._delete(stack_name)
            stack = self._wait(stack_name, GONE, DELETE_FAILED, deadline)
        if stack is None or stack["StackStatus"] in GONE:
            if not self._template_url:
                raise StackFailed("SILO_TEMPLATE_URL is not configured")
            request: dict[str, Any] = {
                "StackName": stack_name,
                "TemplateURL": self._template_url,
                "Parameters": [{"ParameterKey": "TenantId", "ParameterValue": tenant_id}],
                "Tags": [{"Key": "tenancy:tenant-id", "Value": tenant_id}],
                "OnFailure": "ROLLBACK",
            }
            if self._role_arn:
                request["RoleARN"] = self._role_arn
            logger.info("creating silo stack", stack_name=stack_name)
            self._cf.create_stack(**request)
        stack = self._wait(stack_name, CREATED, CREATE_FAILED, deadline)
        assert stack is not None
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if "BucketName" not in outputs or "TableName" not in outputs:
            raise StackFailed(f"stack {stack_name} has no BucketName/TableName outputs")
        return SiloResources(bucket=outputs["BucketName"], table=outputs["TableName"])

    def discard_failed(self, stack_name: str) -> None:
        """Start deleting a failed stack (best effort) so a retry can create it again."""
        stack = self._describe(stack_name)
        if stack is not None and stack["StackStatus"] in CREATE_FAILED:
            self._delete(stack_name)

    # --- deprovisioning ----------------------------------------------------------------------

    def outputs(self, stack_name: str) -> dict[str, str]:
        stack = self._describe(stack_name)
        if stack is None:
            return {}
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def deletion_started(self, stack_name: str) -> bool:
        """The stack is being deleted or gone (its resources may be gone already)."""
        stack = self._describe(stack_name)
        return stack is None or stack["StackStatus"] in GONE | {"DELETE_IN_PROGRESS"}

    def ensure_deleted(self, stack_name: str, deadline: Deadline) -> None:
        stack = self._describe(stack_name)
        if stack is None or stack["StackStatus"] in GONE:
            return
        if stack["StackStatus"] != "DELETE_IN_PROGRESS":
            logger.info("deleting silo stack", stack_name=stack_name)
            self._delete(stack_name)
        self._wait(stack_name, GONE, DELETE_FAILED, deadline)

    # --- helpers ---------------------------------------------------------------------------

    def _delete(self, stack_name: str) -> None:
        request = {"StackName": stack_name}
        if self._role_arn:
            request["RoleARN"] = self._role_arn
        self._cf.delete_stack(**request)

    def _describe(self, stack_name: str) -> dict[str, Any] | None:
        try:
            stacks = self._cf.describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as error:
            if "does not exist" in str(error):
                return None
            raise
        return stacks[0] if stacks else None

    def _wait(
        self, stack_name: str, done: set[str], failed: set[str], deadline: Deadline
    ) -> dict[str, Any] | None:
        while True:
            stack = self._describe(stack_name)
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            if status in done:
                return stack
            if status in failed:
                raise StackFailed(
                    f"stack {stack_name} is {status}: {self._failure_reason(stack_name, stack)}"
                )
            if not deadline.can_wait():
                raise StackStillInProgress(f"stack {stack_name} is still {status}")
            self._sleep(deadline.poll_seconds)

    def _failure_reason(self, stack_name: str, stack: dict[str, Any] | None) -> str:
        try:
            events = self._cf.describe_stack_events(StackName=stack_name).get("StackEvents", [])
        except ClientError:
            events = []
        for event in events:
            if str(event.get("ResourceStatus", "")).endswith("FAILED") and event.get("ResourceStatusReason"):
                return f"{event.get('LogicalResourceId')}: {event['ResourceStatusReason']}"
        return str((stack or {}).get("StackStatusReason") or "no reason given")
