"""A tenant's users: only admins manage them; each is a USER# item, an EMAIL# marker and a Cognito user."""

from __future__ import annotations

import uuid

from tenancy.application.store import keys
from tenancy.application.users.directory import UserDirectory
from tenancy.application.users.models import CreateUserRequest, Me, UpdateUserRequest, User
from tenancy.application.users.repository import Users
from tenancy.common.dynamo import Page
from tenancy.common.errors import ConflictError
from tenancy.contracts.context import TenantContext, require_admin
from tenancy.contracts.plans import EffectiveConfig


def me(users: Users, caller: TenantContext) -> Me:
    user = users.get(caller.user_id)
    return Me.model_construct(**{**user.model_dump(exclude_unset=True, warnings=False), "tier": caller.tier})


def create_user(
    users: Users, directory: UserDirectory, caller: TenantContext, request: CreateUserRequest
) -> User:
    require_admin(caller)
    return add_user(
        users, directory, str(uuid.uuid4()), request.email, request.role, caller.effective_config()
    )


def add_user(
    users: Users,
    directory: UserDirectory,
    user_id: str,
    email: str,
    role: str,
    limits: EffectiveConfig | None = None,
) -> User:
    """The USER# item and its EMAIL# marker first (uniqueness, and the tenant's user limit under
    `limits`), then the Cognito user; if Cognito refuses, the items are removed again so nothing
    is half-created."""
    user = users.add(user_id, email, role, limits)
    try:
        directory.create(user_id, keys.normalise_email(email), users.tenant_id, role)
    except Exception:
        users.remove(user, "create.rollback")
        raise
    return user


def list_users(users: Users, caller: TenantContext, limit: int, cursor: str | None) -> Page[User]:
    require_admin(caller)
    return users.page(limit=limit, cursor=cursor)


def get_user(users: Users, caller: TenantContext, user_id: str) -> User:
    require_admin(caller)
    return users.get(user_id)


def update_user(
    users: Users, directory: UserDirectory, caller: TenantContext, user_id: str, request: UpdateUserRequest
) -> User:
    require_admin(caller)
    if user_id == caller.user_id and request.role != caller.role:
        raise ConflictError("an admin cannot change their own role")
    user = users.set_role(user_id, str(request.role), request.version)
    directory.set_role(user_id, str(request.role))
    return user


def delete_user(users: Users, directory: UserDirectory, caller: TenantContext, user_id: str) -> None:
    require_admin(caller)
    if user_id == caller.user_id:
        raise ConflictError("an admin cannot delete themselves")
    users.remove(users.get(user_id))
    directory.remove(user_id)
