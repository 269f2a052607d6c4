"""A tenant's plan and configuration: its effective limits and flags, its overrides, tier changes.

Every change goes through the tenant item under optimistic locking on the tenant's `version`, so
the control-table stream turns it into a `TenantUpdated` event like any other change.
"""

from __future__ import annotations

from typing import Any

from tenancy.common.config import get_settings
from tenancy.common.errors import ConflictError, StaleVersionError
from tenancy.contracts.plans import EffectiveConfig, Overrides, effective_config, stage_plans
from tenancy.contracts.tiers import Tier, isolation_for
from tenancy.control.models import (
    PatchConfigRequest,
    ReplaceConfigRequest,
    Tenant,
    UpdateTenantRequest,
)
from tenancy.control.store import LEAVING, ControlStore


class IsolationChangeError(ConflictError):
    """A tier change that would move the tenant between pool and silo (not supported yet)."""

    code = "ISOLATION_CHANGE_UNSUPPORTED"


def config_of(tenant: Tenant) -> EffectiveConfig:
    """The tenant's effective limits and flags: plan, this stage's changes, its own overrides."""
    return effective_config(
        tenant.tier,
        Overrides.from_stored(tenant.overrides),
        stage_plans(get_settings().plans),
        tenant.version,
    )


def config_view(tenant: Tenant) -> dict[str, Any]:
    return {"tenantId": tenant.tenant_id, **config_of(tenant).view(), "overrides": tenant.overrides}


def get_config(store: ControlStore, tenant_id: str) -> Tenant:
    return store.get(tenant_id)


def replace_config(store: ControlStore, tenant_id: str, request: ReplaceConfigRequest) -> Tenant:
    overrides = Overrides(limits=request.limits, flags=request.flags)
    return store.update(tenant_id, request.version, {"overrides": overrides.stored()})


def patch_config(store: ControlStore, tenant_id: str, request: PatchConfigRequest) -> Tenant:
    """Merge onto the overrides read at `request.version`: the write is conditional on that version,
    so a change made in between is a 409, never lost."""
    current = store.get(tenant_id)
    stored = Overrides.from_stored(current.overrides)
    limits: dict[str, Any] = {str(k): v for k, v in stored.limits.given().items()}
    flags: dict[str, Any] = {str(k): v for k, v in stored.flags.given().items()}
    limit_changes, flag_changes = request.changes()
    for target, changes in ((limits, limit_changes), (flags, flag_changes)):
        for name, value in changes.items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
    merged = Overrides.model_validate({"limits": limits, "flags": flags})
    if merged.stored() == stored.stored():
        return unchanged(current, tenant_id, request.version)
    return store.update(tenant_id, request.version, {"overrides": merged.stored()})


def update_tenant(store: ControlStore, tenant_id: str, request: UpdateTenantRequest) -> Tenant:
    """Rename and/or change plan. A tier on the other side of the pool/silo line is refused; a
    request that changes nothing writes nothing."""
    current = store.get(tenant_id)
    changes: dict[str, Any] = {}
    if request.name is not None and request.name != current.name:
        changes["name"] = request.name
    if request.tier is not None and request.tier != current.tier:
        changes["tier"] = str(request.tier)
    if not changes:
        return unchanged(current, tenant_id, request.version)
    if "tier" not in changes or current.status in LEAVING:
        return store.update(tenant_id, request.version, changes)  # an offboarded tenant's 409 first
    target = isolation_for(Tier(changes["tier"]))
    if target != current.isolation:
        raise IsolationChangeError(
            f"tier {request.tier} would move tenant {tenant_id} from {current.isolation} to {target}; "
            "moving a tenant between pool and silo is not supported yet",
            [{"field": "tier", "message": f"{current.tier} → {request.tier} crosses pool/silo"}],
        )
    return store.update(tenant_id, request.version, changes, isolation=str(current.isolation))


def unchanged(current: Tenant, tenant_id: str, expected_version: int) -> Tenant:
    """A change that changes nothing writes nothing (and announces nothing); it still answers a
    stale version with the 409 the write would have given."""
    if current.version != expected_version:
        raise StaleVersionError(
            f"tenant {tenant_id} is at version {current.version}, not {expected_version}",
            {"tenantId": tenant_id, "currentVersion": current.version, "expectedVersion": expected_version},
        )
    return current
