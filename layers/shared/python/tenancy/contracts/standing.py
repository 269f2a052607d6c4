"""The one port between the planes: the application plane asks where a tenant stands.

The authorizer must refuse tenants that are not serving, and hands on the tenant's tier; both are
the control plane's to know. The application plane depends on this protocol only, and the
authorizer's handler wires in the control plane's implementation (`tenancy.control.standing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tenancy.contracts.plans import EffectiveConfig


@dataclass(frozen=True)
class TenantStanding:
    tenant_id: str
    status: str
    tier: str
    serving: bool  # may its users be let in (PROVISIONED)
    # The tenant's limits and flags (plan, stage and its own overrides) at `config.version`.
    config: EffectiveConfig | None = None


class TenantStandings(Protocol):
    def standing_of(self, tenant_id: str) -> TenantStanding:
        """Raises NotFoundError for a tenant that does not exist."""
        ...
