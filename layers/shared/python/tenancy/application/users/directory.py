"""Tenant users in the Cognito user pool: username = the user's id; `custom:tenantId` (set once)
and `custom:role` (admin | member) carry the membership into the ID token."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


class UserDirectory:
    def __init__(self, cognito: Any, user_pool_id: str) -> None:
        self._cognito = cognito
        self._pool = user_pool_id

    def create(self, user_id: str, email: str, tenant_id: str, role: str) -> None:
        """Create the user (idempotent: an existing user with this id is left as it is)."""
        try:
            self._cognito.admin_create_user(
                UserPoolId=self._pool,
                Username=user_id,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "custom:tenantId", "Value": tenant_id},
                    {"Name": "custom:role", "Value": role},
                ],
                DesiredDeliveryMediums=["EMAIL"],
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "UsernameExistsException":
                raise

    def set_role(self, user_id: str, role: str) -> None:
        self._cognito.admin_update_user_attributes(
            UserPoolId=self._pool, Username=user_id, UserAttributes=[{"Name": "custom:role", "Value": role}]
        )

    def remove(self, user_id: str) -> None:
        """Disable, then delete (idempotent): the user can no longer sign in. Tokens already issued
        stay valid JWTs until they expire; what refuses them is the authorizer, which reads the user
        item (deleted before this) on every call (tenancy.application.access.authorizer)."""
        for call in (self._cognito.admin_disable_user, self._cognito.admin_delete_user):
            try:
                call(UserPoolId=self._pool, Username=user_id)
            except ClientError as error:
                if error.response["Error"]["Code"] != "UserNotFoundException":
                    raise
