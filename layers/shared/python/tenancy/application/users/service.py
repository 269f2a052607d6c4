"""A tenant's users: only admins manage them; each is a USER# item, an EMAIL# marker and a Cognito user."""

from __future__ import annotations

import uuid
from typing import Any

from tenancy.application.sharing import memberships, ownership
from tenancy.application.store import keys
from tenancy.application.users.directory import UserDirectory
from tenancy.application.users.models import (
    CreateUserRequest,
    Me,
    UpdateUserRequest,
    User,
    UserDetail,
    UserGroup,
)
from tenancy.application.users.repository import Users
from tenancy.common.dynamo import Page
from tenancy.common.errors import ConflictError, NotFoundError
from tenancy.contracts.context import TenantContext, require_admin
from tenancy.contracts.plans import EffectiveConfig


def me(users: Users, caller: TenantContext) -> Me:
    user = users.get(caller.user_id)
    return Me.model_construct(**{**_with_groups(users, user), "tier": caller.tier})


# Kept on the user item by the access graph (tenancy.application.sharing.graph), not answered.
_INTERNAL = frozenset({"groupCount"})


def _shown(user: User) -> dict[str, Any]:
    return {
        name: value
        for name, value in user.model_dump(exclude_unset=True, warnings=False).items()
        if name not in _INTERNAL
    }


def _user(user: User) -> User:
    return User.model_construct(**_shown(user))


def _with_groups(users: Users, user: User) -> dict[str, Any]:
    """The user's attributes and `groups: [{groupId, name}]` (a Query of their memberships and a
    BatchGetItem of the groups' names: tenancy.application.sharing.memberships)."""
    groups = [UserGroup(**group) for group in memberships.groups_of(users.store, user.userId)]
    return {**_shown(user), "groups": groups}


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
    found = users.page(limit=limit, cursor=cursor)
    return Page([_user(user) for user in found.items], found.next_cursor)


def get_user(users: Users, caller: TenantContext, user_id: str) -> UserDetail:
    require_admin(caller)
    return UserDetail.model_construct(**_with_groups(users, users.get(user_id)))


def update_user(
    users: Users, directory: UserDirectory, caller: TenantContext, user_id: str, request: UpdateUserRequest
) -> User:
    require_admin(caller)
    if user_id == caller.user_id and request.role != caller.role:
        raise ConflictError("an admin cannot change their own role")
    user = users.set_role(user_id, str(request.role), request.version)
    directory.set_role(user_id, str(request.role))
    return _user(user)


def delete_user(
    users: Users,
    directory: UserDirectory,
    caller: TenantContext,
    user_id: str,
    transfer_to: str | None = None,
) -> None:
    """Admins delete a user (not themselves). A user who owns dashboards or cards is refused (409
    `USER_OWNS_CONTENT`) unless `transfer_to` names another user of the tenant (422 otherwise,
    field `transferTo`): every dashboard and card of theirs is then handed to that user, each in
    its own transaction with its audit item (`dashboard.transfer`, `card.transfer`; shares of the
    dashboards stay, a direct share to the new owner goes), before the user is deleted. An
    interrupted transfer is finished by the next DELETE (it lists what the user still owns). After
    the delete, the user's memberships and the shares to them are swept."""
    require_admin(caller)
    if user_id == caller.user_id:
        raise ConflictError("an admin cannot delete themselves")
    try:
        user = users.get(user_id)
    except NotFoundError:
        memberships.forget_user(users.store, user_id)  # finishes an interrupted delete's sweeps
        raise
    if transfer_to is not None:
        ownership.check_recipient(users.store, user_id, transfer_to)  # 422 transferTo
        ownership.hand_over(users.store, user_id, transfer_to)
    ownership.refuse_if_owner(users.store, user_id)  # 409 USER_OWNS_CONTENT
    users.remove(user)
    memberships.forget_user(users.store, user_id)  # memberships and shares to the user
    directory.remove(user_id)
