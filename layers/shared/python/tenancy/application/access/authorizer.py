"""The REQUEST authorizer's logic: verified token + PROVISIONED tenant + a user the tenant still has
-> Allow with tenant context.

A token stays valid for its lifetime whatever happens to its user, so the token alone cannot say
whether the user is still in. The tenant's own user item (`USER#<userId>` in its partition) is the
membership's source of truth: `DELETE /users/{id}` deletes it (with the email marker, in one
transaction) before it disables and deletes the Cognito user, and `PATCH /users/{id}` changes its
role before Cognito's. So every authorization reads it, strongly consistent and never cached here:
a removed user is refused, and the role handed to the API is the stored one, not the token's claim.
The only delay left is API Gateway's cache of the authorizer's answer per token
(`tenancy_infra.topology.AUTHORIZER_RESULT_TTL_SECONDS`).
"""

from __future__ import annotations

from typing import Any

from tenancy.application.access.tenant_data import TenantData
from tenancy.application.access.tokens import (
    TokenVerifier,
    api_wide_resource,
    bearer_token,
    context_from_claims,
    policy,
)
from tenancy.application.store import kinds
from tenancy.application.store.engine import Actor
from tenancy.common.errors import Forbidden, NotFoundError
from tenancy.common.observability import bind_tenant, count, logger
from tenancy.contracts.context import TenantContext
from tenancy.contracts.standing import TenantStandings

ROLES = ("admin", "member")


class Members:
    """A tenant's users as stored: the user item in the tenant's own table (pool or silo, from its
    route), read with the tenant-scoped credentials the app API uses (IAM pins the partition)."""

    def __init__(self, tenant_data: TenantData) -> None:
        self._tenant_data = tenant_data

    def role_of(self, tenant_id: str, user_id: str) -> str | None:
        """The user's stored role; None for a user the tenant does not have (never had, or removed)."""
        store = self._tenant_data.store(tenant_id, Actor(user_id, "authorizer"))
        try:
            user = store.get(kinds.USER, user_id)  # ConsistentRead
        except NotFoundError:
            return None
        return str(user.get("role", ""))


def authorize(
    event: dict[str, Any], verifier: TokenVerifier, tenants: TenantStandings, members: Members
) -> dict[str, Any]:
    """Allow (with {tenantId, userId, role, tier, config}) or Deny; raises Unauthenticated for a 401."""
    claims = verifier.verify(bearer_token(event.get("headers")))
    resource = api_wide_resource(str(event.get("methodArn", "")))
    try:
        context = context_from_claims(claims)
        bind_tenant(context.tenant_id)
        tenant = tenants.standing_of(context.tenant_id)
        if not tenant.serving:
            raise Forbidden(f"tenant is {tenant.status}")
        role = members.role_of(context.tenant_id, context.user_id)
        if role is None:
            raise Forbidden("the user is no longer a user of the tenant")
        if role not in ROLES:
            raise Forbidden(f"the user's stored role {role!r} is not a role")
    except (Forbidden, NotFoundError) as refused:
        logger.info("request denied", reason=refused.message)
        count("AuthorizerDenied")
        return policy(str(claims.get("cognito:username", "unknown")), "Deny", resource)
    config = tenant.config.compact() if tenant.config else ""
    allowed = TenantContext(context.tenant_id, context.user_id, role, tenant.tier, config)
    return policy(context.user_id, "Allow", resource, allowed.as_authorizer_context())
