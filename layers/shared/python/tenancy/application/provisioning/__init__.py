"""The application plane's provisioner: TenantOnboarding/TenantOffboarding -> resources -> result event.

Every failure becomes a FAILED result carrying the error, so no tenant is left waiting; only a silo
stack still in progress when the invocation runs out of time is raised, to be resumed by a retry.
A request redelivered after its tenant has moved on to a later operation is ignored, and a request
arriving while another invocation works on the same tenant is refused with OperationInProgress, to
be retried when that invocation has finished (ledger.py: the claim is a lease).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from tenancy.application.access.routing import Route, RouteStore
from tenancy.application.provisioning import pool
from tenancy.application.provisioning.ledger import Ledger, OperationInProgress
from tenancy.application.provisioning.silo import Deadline, SiloStacks, StackStillInProgress
from tenancy.application.secrets.vault import purge_tenant_secrets
from tenancy.application.store import keys, kinds
from tenancy.application.store.engine import Actor, TenantStore
from tenancy.application.users.directory import UserDirectory
from tenancy.application.users.repository import Users
from tenancy.application.users.service import add_user
from tenancy.common.config import Settings
from tenancy.common.errors import ConflictError
from tenancy.common.names import (
    DEPROVISIONED,
    OFFBOARDING,
    ONBOARDING,
    PROVISIONED,
    pool_prefix,
    silo_stack_name,
)
from tenancy.common.observability import count, logger
from tenancy.common.timestamps import now_iso
from tenancy.contracts.events import (
    ResultStatus,
    TenantDeprovisionedDetail,
    TenantLifecycleDetail,
    TenantProvisionedDetail,
)
from tenancy.contracts.publisher import Event, EventPublisher
from tenancy.contracts.resources import ProvisionedResources
from tenancy.contracts.tiers import Isolation, isolation_for

__all__ = ["Deadline", "Ledger", "OperationInProgress", "Provisioner", "StackStillInProgress"]


PROVISIONER_ACTOR = "system:tenant-provisioner"
# A request finding another invocation at work on its tenant waits this long (within its own time)
# for the lease to end before it is refused: the holder is usually done in a second or two, and
# copies of one request arriving together would otherwise use up their retries refusing each other.
LEASE_WAIT_SECONDS = 10.0
LEASE_POLL_SECONDS = (0.05, 1.0)  # the first pause between claims, and the longest (doubling)


@dataclass
class Provisioner:
    settings: Settings
    s3: Any
    dynamodb: Any
    routes: RouteStore
    stacks: SiloStacks
    publisher: EventPublisher
    users: UserDirectory
    ledger: Ledger
    secretsmanager: Any = None  # the tenants' secrets, deleted at offboarding (None: none to delete)

    def handle(
        self,
        detail_type: str,
        detail: TenantLifecycleDetail,
        deadline: Deadline,
        invocation_id: str | None = None,
    ) -> Event | str:
        """Do the requested work, publish its result, and return the published event; or, for a
        stale request (see ledger.py), do nothing and say why. While another invocation holds the
        tenant's lease, wait for it (LEASE_WAIT_SECONDS at most); then raise OperationInProgress,
        having done nothing: retry later.

        `invocation_id` names this invocation in the lease (Lambda's request id, which its retries
        of the event keep: a retry takes over the lease of an attempt that died holding it)."""
        if detail_type not in (ONBOARDING, OFFBOARDING):
            raise ValueError(f"unexpected detail-type {detail_type!r}")
        holder = invocation_id or str(uuid.uuid4())
        try:
            superseded_by = self._claim(detail_type, detail, holder, deadline)
        except OperationInProgress as busy:
            logger.warning(
                "lifecycle request deferred: another invocation holds the tenant",
                tenant_id=detail.tenant_id,
                detail_type=detail_type,
                operation_id=detail.operation_id,
                running_operation_id=busy.operation_id,
                lease_until_ms=busy.running_until_ms,
            )
            count("LifecycleRequestDeferred", detail.tenant_id)
            raise
        if superseded_by is not None:
            logger.warning(
                "stale lifecycle request ignored",
                tenant_id=detail.tenant_id,
                detail_type=detail_type,
                operation_id=detail.operation_id,
                latest_operation_id=superseded_by,
            )
            count("StaleLifecycleRequestIgnored", detail.tenant_id)
            return f"stale request: the tenant's latest operation is {superseded_by}"
        try:
            if detail_type == ONBOARDING:
                event = Event(PROVISIONED, self.onboard(detail, deadline))
            else:
                event = Event(DEPROVISIONED, self.offboard(detail, deadline))
            self.publisher.publish([event])
        except BaseException:
            # The lease ends with the invocation; the error is Lambda's to retry. BaseException: an
            # invocation that dies unwinds through here in the local cloud, as a timeout ends the
            # lease on AWS (it lapses then). An out-of-memory kill releases nothing: its lease
            # lapses at its end, or Lambda's retry of the event (same request id) takes it over.
            try:
                self._release(detail, holder)
            except Exception:  # the original error matters; the lease lapses at its end anyway
                logger.exception("could not release the tenant's lease", tenant_id=detail.tenant_id)
            raise
        # A failed release fails the invocation: the retry redoes the (idempotent) work and releases,
        # instead of the tenant staying locked until the lease lapses.
        self._release(detail, holder)
        return event

    def _claim(
        self, detail_type: str, detail: TenantLifecycleDetail, holder: str, deadline: Deadline
    ) -> str | None:
        """Claim the request's lease, waiting up to LEASE_WAIT_SECONDS for another holder's."""
        started = time.monotonic()
        pause, longest = LEASE_POLL_SECONDS
        refused = 0
        while True:
            running_until = time.time() + deadline.remaining_millis() / 1000
            try:
                claimed = self.ledger.claim(detail_type, detail, holder, running_until)
            except OperationInProgress:
                refused += 1
                if time.monotonic() - started + pause > LEASE_WAIT_SECONDS or not deadline.can_wait():
                    raise
            else:
                if refused:
                    logger.info(
                        "waited for another invocation's lease on the tenant",
                        tenant_id=detail.tenant_id,
                        waited_seconds=round(time.monotonic() - started, 3),
                    )
                return claimed
            time.sleep(pause)
            pause = min(pause * 2, longest)

    def _release(self, detail: TenantLifecycleDetail, holder: str) -> None:
        if not self.ledger.release(detail, holder):
            logger.warning(
                "the tenant's lease lapsed before the invocation finished and was taken over",
                tenant_id=detail.tenant_id,
                operation_id=detail.operation_id,
            )
            count("LifecycleLeaseOverrun", detail.tenant_id)

    def onboard(self, detail: TenantLifecycleDetail, deadline: Deadline) -> TenantProvisionedDetail:
        tenant_id = detail.tenant_id
        isolation = isolation_for(detail.tier)
        try:
            if isolation is Isolation.SILO:
                resources = self._provision_silo(tenant_id, deadline)
            else:
                resources = self._provision_pool(tenant_id)
            table = resources.dedicated_table or self.settings.app_table_name
            # Every tenant write requires the partition marker; the counters start at zero.
            self._tenant_store(tenant_id, table).open_partition(kinds.COUNTED)
            if detail.admin_email:
                self._create_first_admin(tenant_id, table, detail.admin_email)
        except StackStillInProgress:
            raise
        except Exception as error:  # every failure is reported, never dropped
            self._report_failure("provisioning", detail, isolation, error)
            if isolation is Isolation.SILO:
                self._discard_failed_stack(tenant_id)
            return TenantProvisionedDetail(**_result(detail, ResultStatus.FAILED, error))
        logger.info("tenant provisioned", tenant_id=tenant_id, isolation=isolation)
        count("TenantResourcesProvisioned", tenant_id)
        return TenantProvisionedDetail(**_result(detail, ResultStatus.COMPLETED), resources=resources)

    def offboard(self, detail: TenantLifecycleDetail, deadline: Deadline) -> TenantDeprovisionedDetail:
        tenant_id = detail.tenant_id
        isolation = isolation_for(detail.tier)
        try:
            route = self.routes.get(tenant_id)
            table = route.table_name if route else self.settings.app_table_name
            if isolation is Isolation.POOL or (
                # The users are removed before the silo stack's deletion starts, and the stack takes
                # their USER# items with its table: once it is deleting, a retry has no users to find.
                route is not None and not self.stacks.deletion_started(self._stack_name(tenant_id))
            ):
                self._remove_users(tenant_id, table)
            if isolation is Isolation.SILO:
                self._deprovision_silo(tenant_id, deadline)
            else:
                self._deprovision_pool(tenant_id)
            self._purge_secrets(tenant_id)
            self.routes.delete(tenant_id)
        except StackStillInProgress:
            raise
        except Exception as error:
            self._report_failure("deprovisioning", detail, isolation, error)
            return TenantDeprovisionedDetail(**_result(detail, ResultStatus.FAILED, error))
        logger.info("tenant deprovisioned", tenant_id=tenant_id, isolation=isolation)
        count("TenantResourcesDeprovisioned", tenant_id)
        return TenantDeprovisionedDetail(**_result(detail, ResultStatus.COMPLETED))

    @staticmethod
    def _report_failure(
        operation: str, detail: TenantLifecycleDetail, isolation: Isolation, error: Exception
    ) -> None:
        logger.exception(f"{operation} failed", tenant_id=detail.tenant_id, isolation=isolation)
        count(f"{operation.capitalize()}Failed", detail.tenant_id)

    # --- users ---------------------------------------------------------------------------

    def _tenant_store(self, tenant_id: str, table: str) -> TenantStore:
        return TenantStore(
            self.dynamodb, table, tenant_id, Actor(PROVISIONER_ACTOR, f"provisioner:{tenant_id}")
        )

    def _create_first_admin(self, tenant_id: str, table: str, email: str) -> None:
        """The tenant's first admin: its USER#/EMAIL# items and Cognito user (idempotent: the id is
        derived from tenant and email, so a redelivery finds what the first attempt created). It is
        counted against the users limit but never refused by it: a tenant always has its admin."""
        user_id = str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"tenancy:{tenant_id}:admin:{keys.normalise_email(email)}")
        )
        try:
            add_user(Users(self._tenant_store(tenant_id, table)), self.users, user_id, email, "admin")
        except ConflictError:  # created by an earlier delivery: make sure Cognito has it too
            self.users.create(user_id, keys.normalise_email(email), tenant_id, "admin")
        logger.info("first admin created", tenant_id=tenant_id, user_id=user_id)

    def _remove_users(self, tenant_id: str, table: str) -> None:
        """Disable and delete every Cognito user of the tenant (found through its USER# items)."""
        users = Users(self._tenant_store(tenant_id, table))
        cursor: str | None = None
        removed = 0
        while True:
            page = users.page(limit=100, cursor=cursor)
            for user in page.items:
                self.users.remove(user.userId)
                removed += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        logger.info("tenant users removed", tenant_id=tenant_id, users=removed)

    # --- secrets ---------------------------------------------------------------------------

    def _purge_secrets(self, tenant_id: str) -> None:
        """Every secret under the tenant's path, deleted without recovery (idempotent)."""
        if self.secretsmanager is None:
            return
        settings = self.settings
        deleted = purge_tenant_secrets(self.secretsmanager, settings.app_name, settings.stage, tenant_id)
        logger.info("tenant secrets deleted", tenant_id=tenant_id, secrets=deleted)

    # --- pool ------------------------------------------------------------------------------

    def _provision_pool(self, tenant_id: str) -> ProvisionedResources:
        bucket = self.settings.tenant_bucket_name
        prefix = pool.create_prefix(self.s3, bucket, tenant_id)
        self.routes.put(tenant_id, Route(Isolation.POOL, self.settings.app_table_name, bucket, prefix))
        return ProvisionedResources(s3_prefix=prefix)

    def _deprovision_pool(self, tenant_id: str) -> None:
        items = pool.purge_partition(self.dynamodb, self.settings.app_table_name, tenant_id)
        objects = pool.delete_prefix(self.s3, self.settings.tenant_bucket_name, pool_prefix(tenant_id))
        logger.info("pool data purged", tenant_id=tenant_id, items=items, objects=objects)

    # --- silo ------------------------------------------------------------------------------

    def _stack_name(self, tenant_id: str) -> str:
        return silo_stack_name(self.settings.app_name, self.settings.stage, tenant_id)

    def _provision_silo(self, tenant_id: str, deadline: Deadline) -> ProvisionedResources:
        created = self.stacks.ensure_created(self._stack_name(tenant_id), tenant_id, deadline)
        prefix = pool.create_prefix(self.s3, created.bucket, tenant_id)
        self.routes.put(tenant_id, Route(Isolation.SILO, created.table, created.bucket, prefix))
        return ProvisionedResources(
            s3_prefix=prefix, dedicated_bucket=created.bucket, dedicated_table=created.table
        )

    def _deprovision_silo(self, tenant_id: str, deadline: Deadline) -> None:
        stack_name = self._stack_name(tenant_id)
        bucket = self.stacks.outputs(stack_name).get("BucketName")
        if bucket:  # CloudFormation cannot delete a bucket that still holds objects
            pool.delete_prefix(self.s3, bucket, pool_prefix(tenant_id))
            _empty_bucket(self.s3, bucket)
        self.stacks.ensure_deleted(stack_name, deadline)

    def _discard_failed_stack(self, tenant_id: str) -> None:
        try:
            self.stacks.discard_failed(self._stack_name(tenant_id))
        except Exception:
            logger.exception("could not discard the failed silo stack", tenant_id=tenant_id)


def _empty_bucket(s3: Any, bucket: str) -> None:
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        objects = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})


def _result(
    detail: TenantLifecycleDetail, status: ResultStatus, error: Exception | None = None
) -> dict[str, Any]:
    """The fields every result shares: tenant, status, time, the operation it answers, the error."""
    return {
        "tenant_id": detail.tenant_id,
        "status": status,
        "timestamp": now_iso(),
        "operation_id": detail.operation_id,
        "error": _describe(error) if error is not None else None,
    }


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]
