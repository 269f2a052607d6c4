"""Waiting for a tenant's silo stack: bounded by the invocation's time, resumable on redelivery."""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tenancy.application.provisioning.silo import Deadline, SiloStacks, StackFailed, StackStillInProgress


class FakeCloudFormation:
    """A stack whose status advances through `script` on each DescribeStacks."""

    def __init__(self, script: list[str] | None = None) -> None:
        self.script = list(script or [])
        self.status: str | None = None
        self.created: list[dict[str, Any]] = []
        self.deleted: list[dict[str, Any]] = []

    def create_stack(self, **request: Any) -> None:
        self.created.append(request)
        self.status = "CREATE_IN_PROGRESS"

    def delete_stack(self, **request: Any) -> None:
        self.deleted.append(request)
        self.status = "DELETE_IN_PROGRESS"

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        if self.script and self.status is not None:
            self.status = self.script.pop(0)
        if self.status in (None, "DELETE_COMPLETE"):
            raise ClientError(
                {
                    "Error": {
                        "Code": "ValidationError",
                        "Message": f"Stack with id {StackName} does not exist",
                    }
                },
                "DescribeStacks",
            )
        outputs = [
            {"OutputKey": "BucketName", "OutputValue": "bkt"},
            {"OutputKey": "TableName", "OutputValue": "tbl"},
        ]
        return {"Stacks": [{"StackName": StackName, "StackStatus": self.status, "Outputs": outputs}]}

    def describe_stack_events(self, StackName: str) -> dict[str, Any]:
        return {
            "StackEvents": [
                {
                    "LogicalResourceId": "TenantTable",
                    "ResourceStatus": "CREATE_FAILED",
                    "ResourceStatusReason": "limit exceeded",
                }
            ]
        }


def deadline(seconds: float) -> Deadline:
    return Deadline(lambda: int(seconds * 1000), margin_seconds=1.0, poll_seconds=0.1)


def stacks(cf: FakeCloudFormation) -> SiloStacks:
    return SiloStacks(
        cf, "https://s3.amazonaws.com/assets/silo.json", "arn:aws:iam::1:role/silo", sleep=lambda _s: None
    )


def test_creates_the_stack_and_waits_for_its_outputs() -> None:
    cf = FakeCloudFormation(["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"])
    created = stacks(cf).ensure_created("app-dev-tenant-t1", "t1", deadline(60))
    assert (created.bucket, created.table) == ("bkt", "tbl")
    [request] = cf.created
    assert request["StackName"] == "app-dev-tenant-t1"
    assert request["TemplateURL"] == "https://s3.amazonaws.com/assets/silo.json"
    assert request["RoleARN"] == "arn:aws:iam::1:role/silo"
    assert request["Parameters"] == [{"ParameterKey": "TenantId", "ParameterValue": "t1"}]


def test_out_of_time_raises_and_a_redelivery_resumes_without_creating_again() -> None:
    cf = FakeCloudFormation(["CREATE_IN_PROGRESS"] * 3)
    with pytest.raises(StackStillInProgress, match="CREATE_IN_PROGRESS"):
        stacks(cf).ensure_created("s", "t1", deadline(1.05))
    cf.script = ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    assert stacks(cf).ensure_created("s", "t1", deadline(60)).table == "tbl"
    assert len(cf.created) == 1


def test_a_failed_stack_reports_the_resource_and_reason() -> None:
    cf = FakeCloudFormation(["ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"])
    with pytest.raises(StackFailed, match="TenantTable: limit exceeded"):
        stacks(cf).ensure_created("s", "t1", deadline(60))


def test_a_failed_stack_from_an_earlier_attempt_is_replaced() -> None:
    cf = FakeCloudFormation()
    cf.status = "ROLLBACK_COMPLETE"
    cf.script = ["ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_COMPLETE", "CREATE_COMPLETE"]
    assert stacks(cf).ensure_created("s", "t1", deadline(60)).bucket == "bkt"
    assert len(cf.deleted) == 1
    assert len(cf.created) == 1


def test_deletion_waits_and_is_idempotent() -> None:
    cf = FakeCloudFormation()
    cf.status = "CREATE_COMPLETE"
    cf.script = ["CREATE_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    stacks(cf).ensure_deleted("s", deadline(60))
    assert cf.deleted == [{"StackName": "s", "RoleARN": "arn:aws:iam::1:role/silo"}]
    stacks(cf).ensure_deleted("s", deadline(60))  # already gone: nothing to do
    assert len(cf.deleted) == 1


def test_a_failed_deletion_is_reported() -> None:
    cf = FakeCloudFormation()
    cf.status = "CREATE_COMPLETE"
    cf.script = ["CREATE_COMPLETE", "DELETE_FAILED"]
    with pytest.raises(StackFailed, match="DELETE_FAILED"):
        stacks(cf).ensure_deleted("s", deadline(60))
