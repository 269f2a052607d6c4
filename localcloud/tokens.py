"""ID tokens for local users (`make token`): a fresh password is set and the user signs in with
ADMIN_USER_PASSWORD_AUTH, exactly as a client would get a token from Cognito."""

from __future__ import annotations

import secrets
from typing import Any


class UnknownUserError(Exception):
    pass


def user_id_for(cognito: Any, pool_id: str, email: str) -> str:
    users = cognito.list_users(UserPoolId=pool_id, Filter=f'email = "{email.strip().lower()}"')["Users"]
    if not users:
        raise UnknownUserError(f"no user with email {email} in the local user pool")
    return str(users[0]["Username"])


def issue_token(cognito: Any, pool_id: str, client_id: str, email: str) -> str:
    """An ID token for the user with this email."""
    username = user_id_for(cognito, pool_id, email)
    password = "Aa1!" + secrets.token_urlsafe(24)
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    result = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]
    return str(result["IdToken"])
