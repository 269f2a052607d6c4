"""The groups routes of the app API (`/groups`, `/groups/{groupId}/members`): tenant admins manage
groups and their members; every member of the tenant may list and read them."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from tenancy.application.access.dependencies import Caller, Store
from tenancy.application.groups import service
from tenancy.application.groups.models import AddMemberRequest, CreateGroupRequest, UpdateGroupRequest
from tenancy.common import http
from tenancy.common.http import Cursor, Limit, PathId

router = http.router()
LINKS = ("getGroup", "updateGroup", "deleteGroup", "listGroupMembers", "addGroupMember")


@router.post(
    "/groups",
    operation_id="createGroup",
    responses=http.responses(201, "Group", errors=[403, 409], body=True, links={"groupId": LINKS}),
)
def create_group(body: CreateGroupRequest, caller: Caller, store: Store) -> Response[str]:
    return http.ok(service.create_group(store, caller, body), status=201)


@router.get(
    "/groups", operation_id="listGroups", responses=http.responses(200, "Group", errors=[400, 403], page=True)
)
def list_groups(store: Store, limit: Limit = 20, cursor: Cursor = None) -> Response[str]:
    return http.page(service.list_groups(store, limit, cursor), limit=limit)


@router.get(
    "/groups/<groupId>", operation_id="getGroup", responses=http.responses(200, "Group", errors=[403, 404])
)
def get_group(groupId: PathId, store: Store) -> Response[str]:
    return http.ok(service.get_group(store, groupId))


@router.patch(
    "/groups/<groupId>",
    operation_id="updateGroup",
    responses=http.responses(200, "Group", errors=[403, 404, 409], body=True),
)
def update_group(groupId: PathId, body: UpdateGroupRequest, caller: Caller, store: Store) -> Response[str]:
    return http.ok(service.update_group(store, caller, groupId, body))


@router.delete(
    "/groups/<groupId>", operation_id="deleteGroup", responses=http.responses(204, errors=[403, 404])
)
def delete_group(groupId: PathId, caller: Caller, store: Store) -> Response[str]:
    service.delete_group(store, caller, groupId)
    return http.no_content()


@router.get(
    "/groups/<groupId>/members",
    operation_id="listGroupMembers",
    responses=http.responses(200, "Membership", errors=[400, 403, 404], page=True),
)
def list_members(groupId: PathId, store: Store, limit: Limit = 20, cursor: Cursor = None) -> Response[str]:
    return http.page(service.list_members(store, groupId, limit, cursor), limit=limit)


@router.post(
    "/groups/<groupId>/members",
    operation_id="addGroupMember",
    responses=http.responses(201, "Membership", errors=[403, 404, 409], body=True),
)
def add_member(groupId: PathId, body: AddMemberRequest, caller: Caller, store: Store) -> Response[str]:
    return http.ok(service.add_member(store, caller, groupId, body), status=201)


@router.delete(
    "/groups/<groupId>/members/<userId>",
    operation_id="removeGroupMember",
    responses=http.responses(204, errors=[403, 404]),
)
def remove_member(groupId: PathId, userId: PathId, caller: Caller, store: Store) -> Response[str]:
    service.remove_member(store, caller, groupId, userId)
    return http.no_content()
