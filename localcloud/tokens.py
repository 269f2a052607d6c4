"""ID tokens for local users (`make token`): a fresh password is set and the user signs in with
ADMIN_USER_PASSWORD_AUTH, exactly as a client would get a token from Cognito.

One email may be a user of several tenants: each membership is a Cognito user of its own (username
= the user's id, `custom:tenantId` its tenant), so a user is found by email *within a tenant*.
"""

from __future__ import annotations

import secrets
from typing import Any

TENANT_ATTRIBUTE = "custom:tenantId"


class UnknownUserError(Exception):
    pass


def user_id_for(cognito: Any, pool_id: str, email: str, tenant_id: str | None = None) -> str:
    """The id of the user with this email in `tenant_id`. Without a tenant, the email must belong
    to exactly one user of the pool (an email of several tenants is refused, never guessed)."""
    email = email.strip().lower()
    users: list[dict[str, Any]] = []
    request: dict[str, Any] = {"UserPoolId": pool_id, "Filter": f'email = "{email}"'}
    while True:
        page = cognito.list_users(**request)
        users += page["Users"]
        if not page.get("PaginationToken"):
            break
        request["PaginationToken"] = page["PaginationToken"]
    if tenant_id is not None:
        users = [user for user in users if _attribute(user, TENANT_ATTRIBUTE) == tenant_id]
    if not users:
        where = f"tenant {tenant_id}" if tenant_id is not None else "the local user pool"
        raise UnknownUserError(f"no user with email {email} in {where}")
    if len(users) > 1:
        raise UnknownUserError(f"{email} is a user of {len(users)} tenants: name the tenant")
    return str(users[0]["Username"])


def issue_token(cognito: Any, pool_id: str, client_id: str, email: str, tenant_id: str | None = None) -> str:
    """An ID token for the user with this email (in `tenant_id`, see user_id_for)."""
    username = user_id_for(cognito, pool_id, email, tenant_id)
    password = "Aa1!" + secrets.token_urlsafe(24)
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    result = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]
    return str(result["IdToken"])


def _attribute(user: dict[str, Any], name: str) -> str | None:
    return next((a["Value"] for a in user.get("Attributes", []) if a["Name"] == name), None)
