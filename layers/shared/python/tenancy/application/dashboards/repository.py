"""A tenant's dashboards and filter views as stored, on the tenant-bound store.

- `DASHBOARD#<id>`: the dashboard (name, description, ownerId, layout, filters, cardIds: the layout's
  distinct cards, defaultFilterViewId when it has one, version, createdAt, updatedAt).
- `DASHOWNER#<ownerId>#<createdAt>#<id>` {dashboardId}: dashboards by owner, newest first; moved in
  the transaction that changes the owner (`tenancy.application.sharing.ownership`).
- `CARDUSE#<cardId>#<dashboardId>` {cardId, dashboardId}, and the card's `dashboardCount`: a card on a
  layout, written in the transaction that adds or removes it (so a card in use cannot be deleted).
- `VIEW#<dashboardId>#<viewId>`: a filter view.

The cards are another domain's items: this module reads and counts them by key (`CARD#<id>`,
`ownerId`, `dashboardCount`), never through that domain's code.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from tenancy.application.sharing import graph
from tenancy.application.store import keys
from tenancy.application.store.engine import TenantStore
from tenancy.application.store.transaction import Refusal, Transaction
from tenancy.common.errors import NotFoundError, StaleVersionError

DASHBOARD_AUDIT = "dashboard"
VIEW_AUDIT = "filterView"


def dashboard_sk(dashboard_id: str) -> str:
    return keys.item_sk(keys.DASHBOARD, dashboard_id)


def card_sk(card_id: str) -> str:
    return keys.item_sk(keys.CARD, card_id)


def owner_index_sk(dashboard: dict[str, Any], owner_id: str | None = None) -> str:
    """The dashboard's item in its owner's listing (`owner_id`: another owner's)."""
    return keys.dashboard_by_owner_sk(
        owner_id or str(dashboard["ownerId"]), str(dashboard["createdAt"]), str(dashboard["dashboardId"])
    )


def plain(value: Any) -> Any:
    """A stored value as the API shows it: DynamoDB's numbers (Decimal, at any depth) as ints."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {name: plain(member) for name, member in value.items()}
    if isinstance(value, list):
        return [plain(member) for member in value]
    return value


# --- reads ---------------------------------------------------------------------------------------


def get_dashboards(store: TenantStore, dashboard_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The dashboards of `dashboard_ids` that exist, by id (one BatchGetItem per 100)."""
    found = store.get_items(dashboard_sk(dashboard_id) for dashboard_id in dashboard_ids)
    return {str(item["dashboardId"]): plain(item) for item in found.values()}


def get_cards(store: TenantStore, card_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The cards of `card_ids` that exist, by id (one BatchGetItem; none when there are none)."""
    wanted = list(card_ids)
    if not wanted:
        return {}
    found = store.get_items(card_sk(card_id) for card_id in wanted)
    return {str(item["cardId"]): item for item in found.values()}


def get_view(store: TenantStore, dashboard_id: str, view_id: str) -> dict[str, Any]:
    view = store.get_item(keys.filter_view_sk(dashboard_id, view_id))
    if view is None:
        raise NotFoundError(f"filter view {view_id} not found")
    return dict(plain(view))


# --- writes: a layout's cards ----------------------------------------------------------------------


def add_card_use(
    tx: Transaction, dashboard_id: str, card_id: str, *, owned_by: str | None, refusal: Refusal
) -> None:
    """Card `card_id` joins the layout: one more on its `dashboardCount` (on the condition that it
    exists, and with `owned_by`, that it is that user's) and its `CARDUSE#` item."""
    tx.update(
        card_sk(card_id),
        "ADD dashboardCount :one",
        condition=None if owned_by is None else "ownerId = :owner",
        values={":one": 1, **({":owner": owned_by} if owned_by is not None else {})},
        on_fail=refusal,
    )
    use = {"cardId": card_id, "dashboardId": dashboard_id}
    tx.put(keys.card_use_sk(card_id, dashboard_id), use, new=False)


def remove_card_use(tx: Transaction, dashboard_id: str, card_id: str, *, card_exists: bool) -> None:
    """Card `card_id` leaves the layout: one less on its count (where the card still exists) and its
    `CARDUSE#` item gone."""
    if card_exists:
        tx.update(card_sk(card_id), "ADD dashboardCount :less", condition=None, values={":less": -1})
    tx.delete(keys.card_use_sk(card_id, dashboard_id), required=False)


# --- sweeps ------------------------------------------------------------------------------------------


def sweep_dashboard(store: TenantStore, dashboard_id: str) -> tuple[int, int]:
    """After a dashboard's delete committed: its shares (both items) and its filter views, whether
    or not an earlier sweep got through some of them; (shares, views) removed."""
    shares = graph.remove_shares_of(store, dashboard_id)
    views = [str(item["SK"]) for item in store.query_items(keys.filter_views_prefix(dashboard_id))]
    store.delete_items(views)
    return shares, len(views)


# --- refusals ----------------------------------------------------------------------------------------


def stale(label: str, item_id: str, expected: int) -> Refusal:
    """A versioned item's refusal: gone (404) or at another version (409)."""

    def refusal(old: dict[str, Any] | None) -> Exception:
        if old is None:
            return NotFoundError(f"{label} {item_id} not found")
        return StaleVersionError(
            f"{label} {item_id} is at version {old.get('version')}, not {expected}",
            {"currentVersion": int(old.get("version", 0)), "expectedVersion": expected},
        )

    return refusal
