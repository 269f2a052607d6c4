"""The users routes of the app API: `/me` and `/users` (admins manage users)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from tenancy.application.access.dependencies import Caller, Store
from tenancy.application.users import service
from tenancy.application.users.directory import UserDirectory
from tenancy.application.users.models import CreateUserRequest, UpdateUserRequest
from tenancy.application.users.repository import Users
from tenancy.common import http
from tenancy.common.clients import client
from tenancy.common.config import get_settings
from tenancy.common.http import Cursor, Limit, PathId
from tenancy.common.keys import ID_MAX_LENGTH, ID_PATTERN

router = http.router()
LINKS = ("getUser", "updateUser", "deleteUser")


def users(store: Store) -> Users:
    return Users(store)


def directory() -> UserDirectory:
    return UserDirectory(client("cognito-idp"), get_settings().user_pool_id)


TenantUsers = Annotated[Users, Depends(users)]
Directory = Annotated[UserDirectory, Depends(directory)]


@router.get(
    "/me",
    operation_id="getMe",
    responses=http.responses(200, "Me", links={"userId": LINKS}, errors=[403, 404]),
)
def get_me(caller: Caller, users: TenantUsers) -> Response[str]:
    return http.ok(service.me(users, caller))


@router.get(
    "/users", operation_id="listUsers", responses=http.responses(200, "User", errors=[400, 403], page=True)
)
def list_users(caller: Caller, users: TenantUsers, limit: Limit = 20, cursor: Cursor = None) -> Response[str]:
    return http.page(service.list_users(users, caller, limit, cursor), limit=limit)


@router.post(
    "/users",
    operation_id="createUser",
    responses=http.responses(201, "User", errors=[403, 409], body=True, links={"userId": LINKS}),
)
def create_user(
    body: CreateUserRequest, caller: Caller, users: TenantUsers, cognito: Directory
) -> Response[str]:
    return http.ok(service.create_user(users, cognito, caller, body), status=201)


@router.get(
    "/users/<userId>", operation_id="getUser", responses=http.responses(200, "UserDetail", errors=[403, 404])
)
def get_user(userId: PathId, caller: Caller, users: TenantUsers) -> Response[str]:
    return http.ok(service.get_user(users, caller, userId))


@router.patch(
    "/users/<userId>",
    operation_id="updateUser",
    responses=http.responses(200, "User", errors=[403, 404, 409], body=True),
)
def update_user(
    userId: PathId, body: UpdateUserRequest, caller: Caller, users: TenantUsers, cognito: Directory
) -> Response[str]:
    return http.ok(service.update_user(users, cognito, caller, userId, body))


TransferTo = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=ID_MAX_LENGTH,
        pattern=ID_PATTERN,
        description=(
            "hand every dashboard and card the user owns to this user of the tenant (not the one "
            "deleted) before deleting them; without it, a user who owns any is refused (409 "
            "USER_OWNS_CONTENT)"
        ),
    ),
]


@router.delete(
    "/users/<userId>", operation_id="deleteUser", responses=http.responses(204, errors=[403, 404, 409])
)
def delete_user(
    userId: PathId, caller: Caller, users: TenantUsers, cognito: Directory, transferTo: TransferTo = None
) -> Response[str]:
    service.delete_user(users, cognito, caller, userId, transferTo)
    return http.no_content()
