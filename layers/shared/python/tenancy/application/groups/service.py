"""A tenant's groups: tenant admins manage them and their members; every member may read them (so
a dashboard's owner can find the group to share it with).

Items (`PK=TENANT#<tenantId>`):
- `GROUP#<groupId>`: the group (name, description, `memberCount`, version); `deletingAt` while a
  delete is under way, from which moment the group is not found anywhere and takes no member or share.
- `GROUPNAME#<casefolded name>` (`ownerId` = the group's id): keeps names unique case-insensitively;
  a rename swaps it in the rename's transaction.
- Memberships, both halves in one transaction (`tenancy.application.sharing.graph`):
  `MEMBER#<groupId>#<userId>` (members by group) and `MEMBEROF#<userId>#<groupId>` (groups by user).
"""

from __future__ import annotations

import uuid
from typing import Any

from tenancy.application.groups.models import (
    AddMemberRequest,
    CreateGroupRequest,
    Group,
    Membership,
    UpdateGroupRequest,
)
from tenancy.application.sharing import graph
from tenancy.application.sharing.permissions import TargetType
from tenancy.application.store import keys, kinds
from tenancy.application.store.engine import Change, TenantStore, ValueTakenError
from tenancy.application.store.transaction import Refusal, Transaction
from tenancy.common.dynamo import Page
from tenancy.common.errors import InvalidRequestError, NotFoundError, StaleVersionError
from tenancy.common.timestamps import now_iso
from tenancy.contracts.context import TenantContext, require_admin

GROUPS_PREFIX = f"{keys.GROUP}#"
NAME_TAKEN = "GROUP_NAME_TAKEN"  # as kinds.GROUP.unique names it (the create's refusal)


def group_sk(group_id: str) -> str:
    return keys.item_sk(keys.GROUP, group_id)


def _not_found(group_id: str) -> NotFoundError:
    return NotFoundError(f"group {group_id} not found")


def _live(item: dict[str, Any]) -> bool:
    return "deletingAt" not in item


def live_group(store: TenantStore, group_id: str) -> dict[str, Any]:
    """The group as stored (one consistent GetItem); 404 when there is none or it is being deleted."""
    item = store.get_item(group_sk(group_id))
    if item is None or not _live(item):
        raise _not_found(group_id)
    return item


def _group(item: dict[str, Any]) -> Group:
    return Group.model_construct(**{**item, "memberCount": int(item.get("memberCount", 0))})


# --- groups --------------------------------------------------------------------------------------


def create_group(store: TenantStore, caller: TenantContext, request: CreateGroupRequest) -> Group:
    """A new group and its name marker in one transaction (409 `GROUP_NAME_TAKEN` when another group
    of the tenant has this name, whatever its case)."""
    require_admin(caller)
    group_id = str(uuid.uuid4())
    item = store.create(
        kinds.GROUP,
        group_id,
        {"groupId": group_id, "name": request.name, "description": request.description, "memberCount": 0},
        Change("group.create", group_sk(group_id)),
        unique_value=keys.normalise_name(request.name),
    )
    return _group(item)


def list_groups(store: TenantStore, limit: int, cursor: str | None) -> Page[Group]:
    """The tenant's groups in id order (one Query); a group being deleted is left out, so a page may
    hold fewer than `limit` while `has_next` says more follow."""
    found = store.query(GROUPS_PREFIX, limit=limit, cursor=cursor, scope="groups")
    return Page([_group(item) for item in found.items if _live(item)], found.next_cursor)


def get_group(store: TenantStore, group_id: str) -> Group:
    return _group(live_group(store, group_id))


def update_group(
    store: TenantStore, caller: TenantContext, group_id: str, request: UpdateGroupRequest
) -> Group:
    """A new name and/or description at `version`; a rename to another name (not merely another
    case of it) puts the new name's marker and deletes the old one in the same transaction."""
    require_admin(caller)
    changes = request.model_dump(exclude={"version"}, exclude_none=True)
    if not changes:
        raise InvalidRequestError("nothing to change", [{"field": "body", "message": "name or description"}])
    current = live_group(store, group_id)
    if int(current["version"]) != request.version:
        raise _stale(group_id, int(current["version"]), request.version)
    now = now_iso()
    fields = sorted(changes.items())
    names = {f"#c{i}": field for i, (field, _) in enumerate(fields)}
    values: dict[str, Any] = {f":c{i}": value for i, (_, value) in enumerate(fields)}
    values.update({":expected": request.version, ":one": 1, ":now": now})
    assignments = [f"#c{i} = :c{i}" for i in range(len(fields))]
    tx = Transaction().update(
        group_sk(group_id),
        "SET " + ", ".join([*assignments, "version = version + :one", "updatedAt = :now"]),
        condition="version = :expected AND attribute_not_exists(deletingAt)",
        names=names,
        values=values,
        on_fail=_update_refusal(group_id, request.version),
    )
    new_name = changes.get("name")
    if new_name is not None and keys.normalise_name(new_name) != keys.normalise_name(str(current["name"])):
        tx.put(
            keys.group_name_sk(new_name),
            {"ownerId": group_id, "createdAt": now},
            on_fail=lambda _: _name_taken(new_name),
        )
        # the old name's marker is this group's while it is at `version` (checked by the update)
        tx.delete(
            keys.group_name_sk(str(current["name"])),
            condition="ownerId = :owner",
            values={":owner": group_id},
        )
    store.commit(tx, Change("group.update", group_sk(group_id)))
    return get_group(store, group_id)


def delete_group(store: TenantStore, caller: TenantContext, group_id: str) -> None:
    """Mark the group `deletingAt` (from then on it is not found and takes no member or share),
    sweep the shares made to it and its memberships, then delete it and its name marker (audited).
    A group already marked (an interrupted delete) is finished the same way."""
    require_admin(caller)
    group = store.get_item(group_sk(group_id))
    if group is None:
        raise _not_found(group_id)
    if "deletingAt" not in group:
        mark = Transaction().update(
            group_sk(group_id),
            "SET deletingAt = :now",
            values={":now": now_iso()},
            on_fail=lambda _: _not_found(group_id),
        )
        store.commit(mark, None)
        # a rename may have committed between the read and the mark; none can after it
        group = store.get_item(group_sk(group_id))
        if group is None:
            raise _not_found(group_id)
    graph.remove_shares_to(store, TargetType.GROUP, group_id)
    graph.remove_group_members(store, group_id)
    tx = Transaction().delete(group_sk(group_id), on_fail=lambda _: _not_found(group_id))
    tx.delete(
        keys.group_name_sk(str(group["name"])), condition="ownerId = :owner", values={":owner": group_id}
    )
    store.commit(tx, Change("group.delete", group_sk(group_id)))


# --- members -------------------------------------------------------------------------------------


def list_members(store: TenantStore, group_id: str, limit: int, cursor: str | None) -> Page[Membership]:
    """The group's memberships in user id order (a GetItem of the group, a Query of `MEMBER#<g>#`)."""
    live_group(store, group_id)
    found = store.query(keys.members_prefix(group_id), limit=limit, cursor=cursor, scope="members")
    return Page([Membership.model_construct(**item) for item in found.items], found.next_cursor)


def add_member(
    store: TenantStore, caller: TenantContext, group_id: str, request: AddMemberRequest
) -> Membership:
    """Both halves of the membership and both counts, in one transaction: 404 for a group that does
    not exist (or is being deleted), 422 for a user the tenant does not have, 409 `ALREADY_MEMBER`,
    409 `LIMIT_REACHED` for a user already in `MAX_GROUPS_PER_USER` groups."""
    require_admin(caller)
    live_group(store, group_id)  # a group being deleted is a 404 before anything else
    now = now_iso()
    tx = graph.add_member_writes(Transaction(), group_id, request.userId, now, caller.user_id)
    store.commit(tx, Change("membership.create", keys.member_sk(group_id, request.userId)))
    return Membership(groupId=group_id, userId=request.userId, addedAt=now, addedBy=caller.user_id)


def remove_member(store: TenantStore, caller: TenantContext, group_id: str, user_id: str) -> None:
    """Both halves of the membership and both counts; 404 when the user is not a member."""
    require_admin(caller)
    live_group(store, group_id)
    tx = graph.remove_member_writes(Transaction(), group_id, user_id)
    store.commit(tx, Change("membership.delete", keys.member_sk(group_id, user_id)))


# --- refusals ------------------------------------------------------------------------------------


def _stale(group_id: str, current: int, expected: int) -> StaleVersionError:
    return StaleVersionError(
        f"group {group_id} is at version {current}, not {expected}",
        {"currentVersion": current, "expectedVersion": expected},
    )


def _update_refusal(group_id: str, expected: int) -> Refusal:
    def refusal(old: dict[str, Any] | None) -> Exception:
        if old is None or "deletingAt" in old:
            return _not_found(group_id)
        return _stale(group_id, int(old.get("version", 0)), expected)

    return refusal


def _name_taken(name: str) -> ValueTakenError:
    return ValueTakenError(
        NAME_TAKEN,
        f"{name} is already a group of this tenant (names are compared case-insensitively)",
        [{"field": "name", "message": "already in use in this tenant"}],
    )
