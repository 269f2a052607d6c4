"""The REQUEST authorizer's logic: verified token + PROVISIONED tenant -> Allow with tenant context."""

from __future__ import annotations

from typing import Any

from tenancy.auth import (
    Forbidden,
    TokenVerifier,
    api_wide_resource,
    bearer_token,
    context_from_claims,
    policy,
)
from tenancy.errors import NotFoundError
from tenancy.models.domain import Status
from tenancy.observability import bind_tenant, count, logger
from tenancy.store import ControlStore


def authorize(event: dict[str, Any], verifier: TokenVerifier, tenants: ControlStore) -> dict[str, Any]:
    """Allow (with {tenantId, userId, role, tier}) or Deny; raises Unauthenticated for a 401."""
    claims = verifier.verify(bearer_token(event.get("headers")))
    resource = api_wide_resource(str(event.get("methodArn", "")))
    try:
        context = context_from_claims(claims)
        bind_tenant(context.tenant_id)
        tenant = tenants.get(context.tenant_id)
        if tenant.status is not Status.PROVISIONED:
            raise Forbidden(f"tenant is {tenant.status}")
    except (Forbidden, NotFoundError) as refused:
        logger.info("request denied", reason=refused.message)
        count("AuthorizerDenied")
        return policy(str(claims.get("cognito:username", "unknown")), "Deny", resource)
    allowed = type(context)(context.tenant_id, context.user_id, context.role, str(tenant.tier))
    return policy(context.user_id, "Allow", resource, allowed.as_authorizer_context())
