"""Dashboard shares: who may see and change them, and the dashboards shared with the caller.

A dashboard's owner creates, changes and removes its shares; its owner and editors may list and read
them (viewers 403); anyone else finds no dashboard (404). Each share is two items written and
removed together (`graph`), with an audit item `share.create|update|delete` on `SHARE#<d>#<type>#<id>`.

Calls per request (DynamoDB, besides the request limiter's UpdateItem):
- every `/dashboards/{id}/shares` route first resolves the caller's permission: 2 (Query of the
  caller's groups + one BatchGetItem of the dashboard and the caller's shares);
- list: + 1 Query; get: + 1 GetItem; create: + 1 TransactWriteItems; change: + 1 TransactWriteItems
  + 1 GetItem (the share as it now is); delete: + 1 TransactWriteItems;
- `GET /shared-with-me`: 1 Query of the caller's groups, 1 Query per target (the caller and each of
  their groups, at most 1 + 98), 1 BatchGetItem of the page's dashboards.
"""

from __future__ import annotations

from tenancy.application.sharing import graph
from tenancy.application.sharing.models import (
    CreateShareRequest,
    Share,
    SharedDashboard,
    UpdateShareRequest,
)
from tenancy.application.sharing.permissions import (
    Access,
    DashboardAccess,
    Permission,
    TargetType,
)
from tenancy.application.store import keys
from tenancy.application.store.engine import Change, TenantStore
from tenancy.application.store.transaction import Transaction
from tenancy.common.cursors import decode_cursor, encode_cursor
from tenancy.common.dynamo import Page
from tenancy.common.errors import InvalidRequestError, NotFoundError, ValidationFailedError
from tenancy.common.keys import checked_id
from tenancy.common.timestamps import now_iso
from tenancy.contracts.context import TenantContext

READ_SHARES = "see whom it is shared with"
CHANGE_SHARES = "change whom it is shared with"
_CURSOR_KEY = "dashboardId"


def _owned(store: TenantStore, caller: TenantContext, dashboard_id: str) -> Access:
    return DashboardAccess(store).require(dashboard_id, caller, Permission.OWNER, CHANGE_SHARES)


def list_shares(
    store: TenantStore, caller: TenantContext, dashboard_id: str, limit: int, cursor: str | None
) -> Page[Share]:
    """The dashboard's shares in target order (users after groups, ids ascending); owner and editors."""
    DashboardAccess(store).require(dashboard_id, caller, Permission.EDITOR, READ_SHARES)
    found = store.query(keys.shares_prefix(dashboard_id), limit=limit, cursor=cursor, scope="shares")
    return Page([Share.model_validate(item) for item in found.items], found.next_cursor)


def get_share(store: TenantStore, caller: TenantContext, dashboard_id: str, share_id: str) -> Share:
    DashboardAccess(store).require(dashboard_id, caller, Permission.EDITOR, READ_SHARES)
    target_type, target_id = graph.parse_share_id(share_id)
    item = store.get_item(keys.share_sk(dashboard_id, target_type, target_id))
    if item is None:
        raise NotFoundError(f"share {share_id} not found")
    return Share.model_validate(item)


def create_share(
    store: TenantStore, caller: TenantContext, dashboard_id: str, request: CreateShareRequest
) -> Share:
    """The owner shares the dashboard with a user or a group of the tenant: 422 for a target the
    tenant does not have (or a group being deleted) and for the owner themselves, 409
    `SHARE_EXISTS` when the target has a share already (change it with PATCH)."""
    access = _owned(store, caller, dashboard_id)
    owner_id = str(access.dashboard["ownerId"])
    if request.targetType is TargetType.USER and request.targetId == owner_id:
        raise ValidationFailedError(
            "a dashboard is not shared with its owner",
            [{"field": "targetId", "message": "is the dashboard's owner"}],
        )
    tx = Transaction()
    share = graph.add_share_writes(
        tx,
        dashboard_id,
        owner_id,
        request.targetType,
        request.targetId,
        Permission(request.permission),
        now_iso(),
    )
    sk = keys.share_sk(dashboard_id, request.targetType, request.targetId)
    store.commit(tx, Change("share.create", sk))
    return Share.model_validate(share)


def update_share(
    store: TenantStore, caller: TenantContext, dashboard_id: str, share_id: str, request: UpdateShareRequest
) -> Share:
    """The owner changes a share's permission (409 `VERSION_CONFLICT` on a stale version)."""
    access = _owned(store, caller, dashboard_id)
    target_type, target_id = graph.parse_share_id(share_id)
    tx = Transaction()
    graph.change_share_writes(
        tx,
        dashboard_id,
        str(access.dashboard["ownerId"]),
        target_type,
        target_id,
        Permission(request.permission),
        request.version,
        now_iso(),
    )
    sk = keys.share_sk(dashboard_id, target_type, target_id)
    store.commit(tx, Change("share.update", sk))
    item = store.get_item(sk)
    if item is None:  # removed between the change and this read
        raise NotFoundError(f"share {share_id} not found")
    return Share.model_validate(item)


def delete_share(store: TenantStore, caller: TenantContext, dashboard_id: str, share_id: str) -> None:
    _owned(store, caller, dashboard_id)
    target_type, target_id = graph.parse_share_id(share_id)
    tx = Transaction()
    graph.remove_share_writes(tx, dashboard_id, target_type, target_id)
    store.commit(tx, Change("share.delete", keys.share_sk(dashboard_id, target_type, target_id)))


# --- shared with me ------------------------------------------------------------------------------


def _cursor_scope(store: TenantStore, caller: TenantContext) -> str:
    return f"{store.tenant_id}|shared-with-me|{caller.user_id}"


def _after(store: TenantStore, caller: TenantContext, cursor: str | None) -> str | None:
    """The last dashboard id of the previous page (None: the first page); 400 for a bad cursor."""
    if cursor is None:
        return None
    key = decode_cursor(cursor, _cursor_scope(store, caller), frozenset({_CURSOR_KEY}))
    try:
        return checked_id(str(key[_CURSOR_KEY]))
    except ValueError:
        raise InvalidRequestError(
            "cursor is invalid", [{"field": "cursor", "message": "cursor is invalid"}]
        ) from None


def shared_with_me(
    store: TenantStore, caller: TenantContext, limit: int, cursor: str | None
) -> Page[SharedDashboard]:
    """The dashboards shared with the caller directly or through their groups, in dashboard id
    order, each once with the highest permission the caller holds, without the caller's own and
    without dashboards that no longer exist (their shares are swept after them): a page may hold
    fewer than `limit` dashboards and still have a next one."""
    after = _after(store, caller, cursor)
    access = DashboardAccess(store)
    targets = [(TargetType.USER, caller.user_id)]
    targets += [(TargetType.GROUP, group) for group in access.groups_of(caller.user_id)]
    # Each target's first `limit + 1` shares after the cursor hold the first `limit + 1` dashboards
    # of their union: a dashboard among those has fewer than `limit` of the union before it.
    held: dict[str, list[Permission]] = {}
    for target_type, target_id in targets:
        prefix = keys.shared_with_prefix(target_type, target_id)
        start = prefix + after if after is not None else None
        for item in store.query_items(prefix, after=start, limit=limit + 1):
            dashboard_id = str(item["SK"]).removeprefix(prefix)
            held.setdefault(dashboard_id, []).append(Permission(item["permission"]))
    candidates = sorted(held)
    page_ids, more = candidates[:limit], len(candidates) > limit
    dashboards = store.get_items(keys.item_sk(keys.DASHBOARD, d) for d in page_ids)
    shown: list[SharedDashboard] = []
    for dashboard_id in page_ids:
        dashboard = dashboards.get(keys.item_sk(keys.DASHBOARD, dashboard_id))
        if dashboard is None or dashboard.get("ownerId") == caller.user_id:
            continue  # deleted (its shares not swept yet), or the caller's own through a group
        shown.append(SharedDashboard.of(dashboard, max(held[dashboard_id], key=lambda p: p.rank)))
    next_cursor = None
    if more:
        next_cursor = encode_cursor({_CURSOR_KEY: page_ids[-1]}, _cursor_scope(store, caller))
    return Page(shown, next_cursor)
