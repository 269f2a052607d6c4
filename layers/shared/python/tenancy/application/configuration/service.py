"""The caller's tenant's configuration: its effective limits and flags, and what it uses of them."""

from __future__ import annotations

from tenancy.application.configuration.models import Config, ConfigFlag, ConfigLimit
from tenancy.application.store.engine import TenantStore
from tenancy.contracts.context import TenantContext


def tenant_config(store: TenantStore, caller: TenantContext) -> Config:
    """The effective configuration from the request's context (any member may read it), with the
    counts of the counted kinds (one query of the tenant's counters)."""
    effective = caller.effective_config()
    used = store.counts()
    return Config(
        tenantId=caller.tenant_id,
        tier=effective.tier,
        version=effective.version,
        limits={
            str(name): ConfigLimit(
                value=int(limit.value), source=limit.source, **({"used": used[name]} if name in used else {})
            )
            for name, limit in effective.limits.items()
        },
        flags={
            str(name): ConfigFlag(value=bool(flag.value), source=flag.source)
            for name, flag in effective.flags.items()
        },
    )
