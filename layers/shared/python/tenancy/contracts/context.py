"""Who is calling: the tenant, user and role the authorizer verified, as every tenant-scoped call sees them.

The tenant is taken only from the verified token (`custom:tenantId`), never from a request body or path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tenancy.common.errors import Forbidden, Unauthenticated
from tenancy.contracts.plans import EffectiveConfig, Overrides, StagePlans, effective_config
from tenancy.contracts.tiers import Tier


@dataclass(frozen=True)
class TenantContext:
    tenant_id: str
    user_id: str
    role: str
    tier: str = ""
    # The tenant's effective limits and flags when the authorizer let the request in
    # (tenancy.contracts.plans.EffectiveConfig, compact JSON; empty when none was handed on).
    config: str = ""

    def as_authorizer_context(self) -> dict[str, str]:
        return {
            "tenantId": self.tenant_id,
            "userId": self.user_id,
            "role": self.role,
            "tier": self.tier,
            "config": self.config,
        }

    @classmethod
    def from_authorizer_context(cls, context: Mapping[str, Any] | None) -> TenantContext:
        """The context API Gateway passes from the authorizer (requestContext.authorizer)."""
        context = context or {}
        try:
            return cls(
                str(context["tenantId"]),
                str(context["userId"]),
                str(context["role"]),
                str(context.get("tier", "")),
                str(context.get("config", "")),
            )
        except KeyError:
            raise Unauthenticated("no tenant context: the request did not pass the authorizer") from None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def effective_config(self) -> EffectiveConfig:
        """The tenant's limits and flags as the authorizer computed them (the plan's defaults for
        the tier when the context carries none, e.g. an authorization cached before it did)."""
        if self.config:
            return EffectiveConfig.from_compact(self.config)
        return effective_config(Tier(self.tier or Tier.FREE), Overrides(), StagePlans())


def require_admin(caller: TenantContext) -> None:
    if not caller.is_admin:
        raise Forbidden("only a tenant admin may do this")
