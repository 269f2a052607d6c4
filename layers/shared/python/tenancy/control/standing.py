"""The control plane's side of the standing port (`tenancy.contracts.standing`)."""

from __future__ import annotations

from tenancy.contracts.standing import TenantStanding
from tenancy.control.configuration import config_of
from tenancy.control.models import Status
from tenancy.control.store import ControlStore


class ControlPlaneStandings:
    def __init__(self, store: ControlStore) -> None:
        self._store = store

    def standing_of(self, tenant_id: str) -> TenantStanding:
        tenant = self._store.get(tenant_id)
        return TenantStanding(
            tenant.tenant_id,
            str(tenant.status),
            str(tenant.tier),
            tenant.status is Status.PROVISIONED,
            config_of(tenant),
        )
