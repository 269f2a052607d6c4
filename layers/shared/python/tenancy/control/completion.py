"""Lifecycle results -> tenant status (the `provisioning_completion` function's logic).

Only a tenant still waiting for the result moves (PROVISIONING or DEPROVISIONING, same operation):
a duplicate, late or out-of-order result is acknowledged and changes nothing.
"""

from __future__ import annotations

from tenancy.common.errors import IllegalTransitionError, NotFoundError, StaleOperationError
from tenancy.common.observability import count, logger
from tenancy.contracts.events import ResultStatus, TenantDeprovisionedDetail, TenantProvisionedDetail
from tenancy.control.models import Status, Tenant
from tenancy.control.store import ControlStore


def apply_provisioned(store: ControlStore, detail: TenantProvisionedDetail) -> Tenant | None:
    if detail.status is ResultStatus.COMPLETED:
        resources = detail.resources.model_dump(by_alias=True, exclude_none=True)
        return _move(
            store,
            detail.tenant_id,
            Status.PROVISIONED,
            detail.operation_id,
            {"resources": resources},
            ["error"],
        )
    return _move(store, detail.tenant_id, Status.FAILED, detail.operation_id, {"error": _error(detail.error)})


def apply_deprovisioned(store: ControlStore, detail: TenantDeprovisionedDetail) -> Tenant | None:
    if detail.status is ResultStatus.COMPLETED:
        tenant = _move(store, detail.tenant_id, Status.DEPROVISIONED, detail.operation_id, {}, ["error"])
        current = tenant or _find(store, detail.tenant_id)
        if current is not None and current.status is Status.DEPROVISIONED:
            store.release_slug(current.slug, current.tenant_id)  # idempotent: also on a redelivery
        return tenant
    return _move(store, detail.tenant_id, Status.FAILED, detail.operation_id, {"error": _error(detail.error)})


def _find(store: ControlStore, tenant_id: str) -> Tenant | None:
    try:
        return store.get(tenant_id)
    except NotFoundError:
        return None


def _error(message: str | None) -> str:
    return (message or "unknown error")[:2000]


def _move(
    store: ControlStore,
    tenant_id: str,
    target: Status,
    operation_id: str | None,
    set_fields: dict[str, object],
    remove_fields: list[str] | None = None,
) -> Tenant | None:
    try:
        tenant = store.transition(
            tenant_id,
            target,
            operation_id=operation_id,
            set_fields=set_fields,
            remove_fields=remove_fields or [],
        )
    except NotFoundError:  # tenants are never deleted: a result for an unknown id is not ours to retry
        logger.warning("result for an unknown tenant ignored", tenant_id=tenant_id, target=target)
        return None
    except (IllegalTransitionError, StaleOperationError) as refused:
        logger.info(
            "result ignored: tenant no longer waits for it",
            tenant_id=tenant_id,
            target=target,
            reason=refused.message,
        )
        count("LifecycleResultIgnored", tenant_id)
        return None
    logger.info("tenant status moved", tenant_id=tenant_id, status=target)
    count(f"Tenant{target.title()}", tenant_id)
    return tenant
