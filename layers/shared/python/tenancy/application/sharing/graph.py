"""The access graph of a tenant's workspace as items: memberships (user ∈ group) and shares
(dashboard → user or group, with a permission). One place writes and removes them, so both halves
of each edge always change in one transaction.

- A membership is `MEMBER#<groupId>#<userId>` (members by group) and `MEMBEROF#<userId>#<groupId>`
  (groups by user). Adding one requires the user (`USER#`) and a group that is not being deleted,
  adds one to the group's `memberCount` and to the user's `groupCount`, which may not pass
  `MAX_GROUPS_PER_USER` (so resolution stays one BatchGetItem).
- A share is `SHARE#<dashboardId>#<type>#<targetId>` (by dashboard) and
  `SHARED#<type>#<targetId>#<dashboardId>` (by target), both holding `permission`. Its id in the API
  is `<type>:<targetId>` (`user:42`, `group:7`): one share per dashboard and target.

The `*_writes` functions add an edge's writes to a transaction the caller commits with its own
audit item; the `remove_*` sweeps delete every edge of a removed user, group or dashboard after that
removal committed (idempotent: an interrupted sweep is finished by the next one).
"""

from __future__ import annotations

from typing import Any

from tenancy.application.sharing.permissions import MAX_GROUPS_PER_USER, Permission, TargetType
from tenancy.application.store import keys
from tenancy.application.store.engine import TenantStore, ValueTakenError
from tenancy.application.store.transaction import Refusal, Transaction
from tenancy.common.errors import (
    ConflictError,
    LimitReachedError,
    NotFoundError,
    StaleVersionError,
    ValidationFailedError,
)

SHARE_ID_SEPARATOR = ":"


def share_id(target_type: TargetType | str, target_id: str) -> str:
    return f"{TargetType(target_type)}{SHARE_ID_SEPARATOR}{target_id}"


def parse_share_id(value: str) -> tuple[TargetType, str]:
    """`user:42` → (USER, "42"); anything else is a share that does not exist (404)."""
    kind, _, target_id = value.partition(SHARE_ID_SEPARATOR)
    if kind not in {t.value for t in TargetType} or not target_id or "#" in target_id:
        raise NotFoundError(f"share {value} not found")
    return TargetType(kind), target_id


def target_sk(target_type: TargetType | str, target_id: str) -> str:
    """The item a share's target is (`USER#<id>` or `GROUP#<id>`)."""
    prefix = keys.USER if TargetType(target_type) is TargetType.USER else keys.GROUP
    return keys.item_sk(prefix, target_id)


# --- memberships ---------------------------------------------------------------------------------


def add_member_writes(tx: Transaction, group_id: str, user_id: str, now: str, by: str) -> Transaction:
    """A new membership: both items, the group's `memberCount` and the user's `groupCount` (409
    `LIMIT_REACHED` at `MAX_GROUPS_PER_USER`, 422 for a user this tenant does not have, 404 for a
    group it does not have or is deleting, 409 `ALREADY_MEMBER` if it is one)."""
    edge = {"groupId": group_id, "userId": user_id, "addedAt": now, "addedBy": by}
    tx.put(keys.member_sk(group_id, user_id), edge, on_fail=_already_member(group_id, user_id))
    tx.put(keys.member_of_sk(user_id, group_id), edge, on_fail=_already_member(group_id, user_id))
    tx.update(
        keys.item_sk(keys.GROUP, group_id),
        "ADD memberCount :one",
        condition="attribute_not_exists(deletingAt)",
        values={":one": 1},
        on_fail=lambda _: NotFoundError(f"group {group_id} not found"),
    )
    tx.update(
        keys.item_sk(keys.USER, user_id),
        "ADD groupCount :one",
        condition="attribute_not_exists(groupCount) OR groupCount < :most",
        values={":one": 1, ":most": MAX_GROUPS_PER_USER},
        on_fail=_user_refusal(user_id),
    )
    return tx


def remove_member_writes(tx: Transaction, group_id: str, user_id: str) -> Transaction:
    """Remove a membership (404 when it is not one): both items and both counts."""
    missing = _always(NotFoundError(f"user {user_id} is not a member of group {group_id}"))
    tx.delete(keys.member_sk(group_id, user_id), on_fail=missing)
    tx.delete(keys.member_of_sk(user_id, group_id), required=False)
    tx.update(
        keys.item_sk(keys.GROUP, group_id), "ADD memberCount :less", condition=None, values={":less": -1}
    )
    tx.update(keys.item_sk(keys.USER, user_id), "ADD groupCount :less", condition=None, values={":less": -1})
    return tx


def remove_group_members(store: TenantStore, group_id: str) -> int:
    """Sweep every membership of a group being deleted (both items and each user's `groupCount`);
    how many there were."""
    prefix = keys.members_prefix(group_id)
    removed = 0
    for item in store.query_items(prefix):
        user_id = str(item["SK"]).removeprefix(prefix)
        edge = [keys.member_sk(group_id, user_id), keys.member_of_sk(user_id, group_id)]
        _sweep_edge(store, edge, keys.item_sk(keys.USER, user_id), "groupCount")
        removed += 1
    return removed


def remove_user_memberships(store: TenantStore, user_id: str) -> int:
    """Sweep every membership of a deleted user (both items and each group's `memberCount`)."""
    prefix = keys.member_of_prefix(user_id)
    removed = 0
    for item in store.query_items(prefix):
        group_id = str(item["SK"]).removeprefix(prefix)
        edge = [keys.member_sk(group_id, user_id), keys.member_of_sk(user_id, group_id)]
        _sweep_edge(store, edge, keys.item_sk(keys.GROUP, group_id), "memberCount")
        removed += 1
    return removed


# --- shares --------------------------------------------------------------------------------------


def add_share_writes(
    tx: Transaction,
    dashboard_id: str,
    owner_id: str,
    target_type: TargetType,
    target_id: str,
    permission: Permission,
    now: str,
) -> dict[str, Any]:
    """A new share, on the condition that the dashboard is still `owner_id`'s and the target exists
    in this tenant (a group not being deleted); 409 `SHARE_EXISTS` when the target has one."""
    share = {
        "shareId": share_id(target_type, target_id),
        "dashboardId": dashboard_id,
        "targetType": str(target_type),
        "targetId": target_id,
        "permission": str(permission),
        "version": 1,
        "createdAt": now,
        "updatedAt": now,
    }
    exists = _always(
        _conflict("SHARE_EXISTS", f"dashboard {dashboard_id} is already shared with {share['shareId']}")
    )
    tx.put(keys.share_sk(dashboard_id, target_type, target_id), share, on_fail=exists)
    tx.put(keys.shared_with_sk(target_type, target_id, dashboard_id), share, on_fail=exists)
    tx.check(
        keys.item_sk(keys.DASHBOARD, dashboard_id),
        "ownerId = :owner",
        values={":owner": owner_id},
        on_fail=lambda _: NotFoundError(f"dashboard {dashboard_id} not found"),
    )
    tx.check(
        target_sk(target_type, target_id),
        "attribute_not_exists(deletingAt)",
        on_fail=lambda _: ValidationFailedError(
            f"no {target_type} {target_id} in this tenant",
            [{"field": "targetId", "message": f"no such {target_type} in this tenant"}],
        ),
    )
    return share


def change_share_writes(
    tx: Transaction,
    dashboard_id: str,
    owner_id: str,
    target_type: TargetType,
    target_id: str,
    permission: Permission,
    expected_version: int,
    now: str,
) -> None:
    """A share's new permission on both its items (optimistic locking on the by-dashboard item)."""
    values = {":p": str(permission), ":now": now, ":one": 1, ":expected": expected_version}
    expression = "SET #p = :p, updatedAt = :now, version = version + :one"
    names = {"#p": "permission"}
    tx.update(
        keys.share_sk(dashboard_id, target_type, target_id),
        expression,
        condition="version = :expected",
        names=names,
        values=values,
        on_fail=_stale_share(dashboard_id, share_id(target_type, target_id), expected_version),
    )
    tx.update(
        keys.shared_with_sk(target_type, target_id, dashboard_id),
        expression,
        condition=None,
        names=names,
        values={k: v for k, v in values.items() if k != ":expected"},
    )
    tx.check(
        keys.item_sk(keys.DASHBOARD, dashboard_id),
        "ownerId = :owner",
        values={":owner": owner_id},
        on_fail=lambda _: NotFoundError(f"dashboard {dashboard_id} not found"),
    )


def remove_share_writes(tx: Transaction, dashboard_id: str, target_type: TargetType, target_id: str) -> None:
    """Remove one share (404 when there is none): both items."""
    missing = _always(NotFoundError(f"share {share_id(target_type, target_id)} not found"))
    tx.delete(keys.share_sk(dashboard_id, target_type, target_id), on_fail=missing)
    tx.delete(keys.shared_with_sk(target_type, target_id, dashboard_id), required=False)


def remove_shares_of(store: TenantStore, dashboard_id: str) -> int:
    """Sweep every share of a deleted dashboard (both items); how many there were."""
    prefix = keys.shares_prefix(dashboard_id)
    doomed: list[str] = []
    for item in store.query_items(prefix):
        doomed += [str(item["SK"]), keys.shared_with_sk(item["targetType"], item["targetId"], dashboard_id)]
    store.delete_items(doomed)
    return len(doomed) // 2


def remove_shares_to(store: TenantStore, target_type: TargetType, target_id: str) -> int:
    """Sweep every share to a deleted user or group (both items); how many there were. The
    by-dashboard items go first: they are what resolution reads."""
    prefix = keys.shared_with_prefix(target_type, target_id)
    found = store.query_items(prefix)
    store.delete_items(keys.share_sk(str(item["dashboardId"]), target_type, target_id) for item in found)
    store.delete_items(str(item["SK"]) for item in found)
    return len(found)


# --- refusals ------------------------------------------------------------------------------------


def _always(error: Exception) -> Refusal:
    """A refusal that reads the same whatever the item was."""
    return lambda _: error


def _conflict(code: str, message: str) -> Exception:
    return ValueTakenError(code, message)


def _already_member(group_id: str, user_id: str) -> Refusal:
    return lambda _: _conflict("ALREADY_MEMBER", f"user {user_id} is already a member of group {group_id}")


def _user_refusal(user_id: str) -> Refusal:
    def refusal(old: dict[str, Any] | None) -> Exception:
        if old is None:
            return ValidationFailedError(
                f"no user {user_id} in this tenant",
                [{"field": "userId", "message": "no such user in this tenant"}],
            )
        return LimitReachedError(
            f"user {user_id} belongs to {old.get('groupCount')} groups, the most a user may ({MAX_GROUPS_PER_USER})",
            {
                "limit": "groupsPerUser",
                "maximum": MAX_GROUPS_PER_USER,
                "current": int(old.get("groupCount", 0)),
            },
        )

    return refusal


def _stale_share(dashboard_id: str, share: str, expected: int) -> Refusal:
    def refusal(old: dict[str, Any] | None) -> Exception:
        if old is None:
            return NotFoundError(f"share {share} not found")
        return StaleVersionError(
            f"share {share} of dashboard {dashboard_id} is at version {old.get('version')}, not {expected}",
            {"currentVersion": int(old.get("version", 0)), "expectedVersion": expected},
        )

    return refusal


def _sweep_edge(store: TenantStore, edge: list[str], counted_sk: str, counter: str) -> None:
    """Delete both items of an edge and take one off `counter` of the item at the other end, where
    it still exists (it may be going too: then the edge's items alone)."""
    for attempt in range(2):
        tx = Transaction()
        for sk in edge:
            tx.delete(sk, required=False)
        if attempt == 0 and store.get_item(counted_sk) is not None:
            tx.update(counted_sk, f"ADD {counter} :less", condition=None, values={":less": -1})
        try:
            store.commit(tx, None)
            return
        except ConflictError:
            if attempt == 1:
                raise
