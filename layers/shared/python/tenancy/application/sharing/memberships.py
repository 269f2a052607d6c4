"""What the users domain needs of the workspace, by keys on the store (domains never import each
other): a user's groups with their names, and the sweep of a deleted user's memberships and of the
shares made to them (whether a user still owns content, and handing it over: `ownership`)."""

from __future__ import annotations

from tenancy.application.sharing import graph
from tenancy.application.sharing.permissions import DashboardAccess, TargetType
from tenancy.application.store import keys
from tenancy.application.store.engine import TenantStore


def groups_of(store: TenantStore, user_id: str) -> list[dict[str, str]]:
    """`[{groupId, name}]` of the groups `user_id` belongs to, in group id order: one consistent
    Query of `MEMBEROF#<userId>#` and, when there are any, one BatchGetItem of the groups (at most
    `MAX_GROUPS_PER_USER`); a group being deleted is left out."""
    group_ids = DashboardAccess(store).groups_of(user_id)
    if not group_ids:
        return []
    found = store.get_items(keys.item_sk(keys.GROUP, group_id) for group_id in group_ids)
    groups = []
    for group_id in group_ids:
        group = found.get(keys.item_sk(keys.GROUP, group_id))
        if group is not None and "deletingAt" not in group:
            groups.append({"groupId": group_id, "name": str(group["name"])})
    return groups


def forget_user(store: TenantStore, user_id: str) -> None:
    """After a user's deletion committed: sweep their memberships (both halves, each group's
    `memberCount`) and the shares made to them (both halves). Idempotent."""
    graph.remove_user_memberships(store, user_id)
    graph.remove_shares_to(store, TargetType.USER, user_id)
