"""Who is calling: the tenant, user and role the authorizer verified, as every tenant-scoped call sees them.

The tenant is taken only from the verified token (`custom:tenantId`), never from a request body or path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tenancy.common.errors import Forbidden, Unauthenticated


@dataclass(frozen=True)
class TenantContext:
    tenant_id: str
    user_id: str
    role: str
    tier: str = ""

    def as_authorizer_context(self) -> dict[str, str]:
        return {"tenantId": self.tenant_id, "userId": self.user_id, "role": self.role, "tier": self.tier}

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
            )
        except KeyError:
            raise Unauthenticated("no tenant context: the request did not pass the authorizer") from None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def require_admin(caller: TenantContext) -> None:
    if not caller.is_admin:
        raise Forbidden("only a tenant admin may do this")
