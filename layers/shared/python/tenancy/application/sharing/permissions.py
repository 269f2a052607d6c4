"""Who may do what with a dashboard: the permission model of the seeds, resolved in two calls.

A caller's permission on a dashboard is: its owner → `owner`; else the highest of a share to the
caller and the shares to the groups the caller belongs to (`owner > editor > viewer`); a tenant
admin sees every dashboard (at least `viewer`); anyone else has none, which the API answers
exactly like a dashboard that does not exist (404).

Resolution costs two calls whatever the number of groups and shares (`DashboardAccess.resolve`):
1. a consistent Query of the caller's memberships, `MEMBEROF#<userId>#` (at most
   `MAX_GROUPS_PER_USER` items, one page);
2. one consistent BatchGetItem of the dashboard, the caller's share and each of those groups'
   shares (`SHARE#<dashboardId>#<type>#<id>`): at most 1 + 1 + 98 = 100 keys, DynamoDB's limit.
Both read the base table consistently, so removing a user from a group (its `MEMBEROF#` item is
deleted in the same transaction as `MEMBER#`) takes away what the group's shares gave at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tenancy.application.store import keys
from tenancy.application.store.engine import TenantStore
from tenancy.common.errors import Forbidden, NotFoundError
from tenancy.contracts.context import TenantContext

# With the dashboard and the caller's own share, a user's groups' shares fit one BatchGetItem.
MAX_GROUPS_PER_USER = 98


class Permission(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Permission) -> bool:
        return self.rank >= needed.rank


_RANK = {Permission.VIEWER: 1, Permission.EDITOR: 2, Permission.OWNER: 3}


class TargetType(StrEnum):
    """Whom a dashboard is shared with."""

    USER = "user"
    GROUP = "group"


def highest(permissions: Iterable[Permission | str | None]) -> Permission | None:
    """The highest of `permissions` (None: there is none)."""
    held = [Permission(permission) for permission in permissions if permission]
    return max(held, key=lambda permission: permission.rank) if held else None


def resolve(
    *,
    caller_id: str,
    is_admin: bool,
    owner_id: str,
    direct: Permission | str | None = None,
    via_groups: Iterable[Permission | str | None] = (),
) -> Permission | None:
    """The caller's permission on a dashboard owned by `owner_id`, given the caller's own share
    (`direct`) and the shares to the groups the caller belongs to (`via_groups`)."""
    if caller_id == owner_id:
        return Permission.OWNER
    found = highest([direct, *via_groups])
    if is_admin:
        found = highest([found, Permission.VIEWER])
    return found


@dataclass(frozen=True)
class Access:
    """A dashboard as stored, and what the caller may do with it."""

    dashboard: dict[str, Any]
    permission: Permission

    def require(self, needed: Permission, action: str) -> Access:
        """403 when the caller may read the dashboard but not do `action` (`change its layout`)."""
        if not self.permission.allows(needed):
            raise Forbidden(
                f"only a dashboard's {needed} or above may {action}; you are its {self.permission}"
            )
        return self


class DashboardAccess:
    """Permission resolution on one tenant's store (the caller's tenant)."""

    def __init__(self, store: TenantStore) -> None:
        self.store = store

    def groups_of(self, user_id: str) -> list[str]:
        """The ids of the groups `user_id` belongs to (one consistent Query)."""
        prefix = keys.member_of_prefix(user_id)
        items = self.store.query_items(prefix, limit=MAX_GROUPS_PER_USER)
        return [str(item["SK"]).removeprefix(prefix) for item in items]

    def resolve(self, dashboard_id: str, caller: TenantContext) -> Access:
        """The dashboard and the caller's permission on it, in two calls; 404 when it does not exist
        or the caller has no permission on it (the two are not told apart)."""
        groups = self.groups_of(caller.user_id)
        dashboard_sk = keys.item_sk(keys.DASHBOARD, dashboard_id)
        direct_sk = keys.share_sk(dashboard_id, TargetType.USER, caller.user_id)
        group_sks = [keys.share_sk(dashboard_id, TargetType.GROUP, group) for group in groups]
        found = self.store.get_items([dashboard_sk, direct_sk, *group_sks])
        dashboard = found.get(dashboard_sk)
        permission = None
        if dashboard is not None:
            permission = resolve(
                caller_id=caller.user_id,
                is_admin=caller.is_admin,
                owner_id=str(dashboard["ownerId"]),
                direct=_permission(found.get(direct_sk)),
                via_groups=[_permission(found.get(sk)) for sk in group_sks],
            )
        if dashboard is None or permission is None:
            raise NotFoundError(f"dashboard {dashboard_id} not found")
        return Access(dashboard, permission)

    def require(self, dashboard_id: str, caller: TenantContext, needed: Permission, action: str) -> Access:
        """`resolve`, then 403 unless the caller holds `needed` (404 before that, as `resolve`)."""
        return self.resolve(dashboard_id, caller).require(needed, action)

    def permissions(
        self, dashboards: list[dict[str, Any]], caller: TenantContext, groups: list[str] | None = None
    ) -> dict[str, Permission | None]:
        """The caller's permission on each of `dashboards` (stored items), by dashboard id: one
        Query of the caller's groups (unless given) and one BatchGetItem per 100 share keys, so a
        listing's cost grows with its page size times the caller's groups (one dashboard's does not)."""
        groups = self.groups_of(caller.user_id) if groups is None else groups
        wanted: dict[str, list[str]] = {}
        for dashboard in dashboards:
            dashboard_id = str(dashboard["dashboardId"])
            if dashboard["ownerId"] != caller.user_id:
                wanted[dashboard_id] = [keys.share_sk(dashboard_id, TargetType.USER, caller.user_id)] + [
                    keys.share_sk(dashboard_id, TargetType.GROUP, group) for group in groups
                ]
        found = self.store.get_items(sk for sks in wanted.values() for sk in sks)
        result: dict[str, Permission | None] = {}
        for dashboard in dashboards:
            dashboard_id = str(dashboard["dashboardId"])
            shares = [_permission(found.get(sk)) for sk in wanted.get(dashboard_id, [])]
            result[dashboard_id] = resolve(
                caller_id=caller.user_id,
                is_admin=caller.is_admin,
                owner_id=str(dashboard["ownerId"]),
                direct=shares[0] if shares else None,
                via_groups=shares[1:],
            )
        return result


def _permission(share: dict[str, Any] | None) -> Permission | None:
    return Permission(share["permission"]) if share else None
