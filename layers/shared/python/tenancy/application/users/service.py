"""A tenant's users: only admins manage them; each is a USER# item, an EMAIL# marker and a Cognito user."""

from __future__ import annotations

import uuid
from typing import Any

from tenancy.application.store import keys
from tenancy.application.store.engine import Change, TenantStore
from tenancy.application.users.directory import UserDirectory
from tenancy.application.users.models import CreateUserRequest, UpdateUserRequest
from tenancy.common.dynamo import Page
from tenancy.common.errors import ConflictError
from tenancy.common.keys import tenant_pk
from tenancy.contracts.context import TenantContext, require_admin


def me(store: TenantStore, caller: TenantContext) -> dict[str, Any]:
    return {**store.get(keys.USER, caller.user_id), "tier": caller.tier}


def create_user(
    store: TenantStore, users: UserDirectory, caller: TenantContext, request: CreateUserRequest
) -> dict[str, Any]:
    require_admin(caller)
    return add_user(store, users, str(uuid.uuid4()), request.email, request.role)


def add_user(store: TenantStore, users: UserDirectory, user_id: str, email: str, role: str) -> dict[str, Any]:
    """The USER# item and its EMAIL# marker first (uniqueness), then the Cognito user; if Cognito
    refuses, the items are removed again so nothing is half-created."""
    email = keys.normalise_email(email)
    user = store.create(
        keys.USER,
        user_id,
        {
            "userId": user_id,
            "email": email,
            "role": role,
            "GSI2PK": keys.user_tenants_pk(user_id),
            "GSI2SK": tenant_pk(store.tenant_id),
        },
        Change("user.create", keys.item_sk(keys.USER, user_id)),
        unique_email=email,
    )
    try:
        users.create(user_id, email, store.tenant_id, role)
    except Exception:
        store.delete(
            keys.USER,
            user_id,
            Change("user.create.rollback", keys.item_sk(keys.USER, user_id)),
            release_email=email,
        )
        raise
    return user


def list_users(store: TenantStore, caller: TenantContext, limit: int, cursor: str | None) -> Page:
    require_admin(caller)
    return store.list_items(keys.USER, limit=limit, cursor=cursor)


def get_user(store: TenantStore, caller: TenantContext, user_id: str) -> dict[str, Any]:
    require_admin(caller)
    return store.get(keys.USER, user_id)


def update_user(
    store: TenantStore, users: UserDirectory, caller: TenantContext, user_id: str, request: UpdateUserRequest
) -> dict[str, Any]:
    require_admin(caller)
    if user_id == caller.user_id and request.role != caller.role:
        raise ConflictError("an admin cannot change their own role")
    user = store.update(
        keys.USER,
        user_id,
        {"role": str(request.role)},
        request.version,
        Change("user.update", keys.item_sk(keys.USER, user_id)),
    )
    users.set_role(user_id, str(request.role))
    return user


def delete_user(store: TenantStore, users: UserDirectory, caller: TenantContext, user_id: str) -> None:
    require_admin(caller)
    if user_id == caller.user_id:
        raise ConflictError("an admin cannot delete themselves")
    user = store.get(keys.USER, user_id)
    store.delete(
        keys.USER,
        user_id,
        Change("user.delete", keys.item_sk(keys.USER, user_id)),
        release_email=user["email"],
    )
    users.remove(user_id)
