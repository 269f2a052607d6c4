"""The reconciler: no tenant stays in a transient status forever.

Run on a schedule. A tenant left in PENDING or OFFBOARDING (its stream record exhausted its retries)
is driven again exactly as the stream handler would; a tenant left in PROVISIONING or
DEPROVISIONING past the deadline (its result was lost) becomes FAILED with an error saying so, and
can then be retried or offboarded through the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tenancy.common.errors import IllegalTransitionError, StaleOperationError
from tenancy.common.observability import MetricUnit, count, logger, measure
from tenancy.contracts.publisher import EventPublisher
from tenancy.control.lifecycle import request_lifecycle
from tenancy.control.models import Status, Tenant
from tenancy.control.store import ControlStore

# Tenants each run found stuck (re-driven or failed), one point per run with the service dimension.
STUCK_TENANTS_METRIC = "StuckTenants"
UNSTARTED = (Status.PENDING, Status.OFFBOARDING)
WAITING = (Status.PROVISIONING, Status.DEPROVISIONING)


@dataclass
class Report:
    redriven: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)


def reconcile(
    store: ControlStore,
    publisher: EventPublisher,
    *,
    redrive_after: timedelta,
    fail_after: timedelta,
    now: datetime | None = None,
) -> Report:
    now = now or datetime.now(UTC)
    report = Report()
    for status in UNSTARTED:
        for tenant in _older_than(store, status, now - redrive_after):
            if request_lifecycle(store, publisher, tenant.tenant_id, status):
                report.redriven.append(tenant.tenant_id)
    for status in WAITING:
        for tenant in _older_than(store, status, now - fail_after):
            if tenant.tenant_id not in report.redriven and _time_out(store, tenant, fail_after):
                report.timed_out.append(tenant.tenant_id)
    if report.redriven or report.timed_out:
        logger.warning("reconciled stuck tenants", redriven=report.redriven, timed_out=report.timed_out)
    # One point every run, 0 included (the stuck-tenants alarm: stacks/monitoring.py).
    measure(STUCK_TENANTS_METRIC, len(report.redriven) + len(report.timed_out), MetricUnit.Count)
    return report


def _older_than(store: ControlStore, status: Status, cutoff: datetime) -> list[Tenant]:
    stamp = cutoff.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return store.list_stale(status=status, updated_before=stamp)


def _time_out(store: ControlStore, tenant: Tenant, waited: timedelta) -> bool:
    seconds = int(waited.total_seconds())
    error = f"no result for {tenant.status} operation {tenant.operation_id} within {seconds}s; marked FAILED"
    try:
        store.transition(
            tenant.tenant_id, Status.FAILED, operation_id=tenant.operation_id, set_fields={"error": error}
        )
    except (IllegalTransitionError, StaleOperationError):
        return False  # it moved meanwhile
    count("TenantTimedOut", tenant.tenant_id)
    return True
