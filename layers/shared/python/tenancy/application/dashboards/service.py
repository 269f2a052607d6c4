"""Dashboards and their filter views: who may do what (the sharing model), and what each change
writes, in one transaction with its audit item.

Every route that names a dashboard resolves the caller's permission first (`DashboardAccess`, two
calls): none is a 404 like a dashboard that does not exist; viewers read (and clone, and save filter
views); editors change the name, description, layout, filters and default view; only the owner
deletes the dashboard or hands it to another user. A filter view is changed or deleted by its
creator or the dashboard's owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from tenancy.application.dashboards import repository as stored
from tenancy.application.dashboards.models import (
    CloneDashboardRequest,
    CreateDashboardRequest,
    CreateFilterViewRequest,
    Dashboard,
    DashboardSummary,
    DateRange,
    FilterView,
    Layout,
    UpdateDashboardRequest,
    UpdateFilterViewRequest,
    stored_values,
)
from tenancy.application.sharing import ownership
from tenancy.application.sharing.permissions import Access, DashboardAccess, Permission
from tenancy.application.store import keys
from tenancy.application.store.engine import Change, TenantStore
from tenancy.application.store.transaction import MAX_ITEMS, RESERVED, Refusal, Transaction
from tenancy.common.dynamo import Page, update_expression
from tenancy.common.errors import (
    ConflictError,
    Forbidden,
    InvalidRequestError,
    NotFoundError,
    StaleVersionError,
    ValidationFailedError,
)
from tenancy.common.timestamps import now_iso
from tenancy.contracts.context import TenantContext, require_admin

# A PATCH writes the dashboard, at most 5 items of an ownership transfer and 1 check of the default
# view, and 2 items per card it adds or removes: within one transaction (with the store's 2) that
# is at most 45 cards added and removed at once.
MAX_CARD_CHANGES = (MAX_ITEMS - RESERVED - 1 - 5 - 1) // 2
COPY_SUFFIX = " (copy)"
_ATTEMPTS = 3  # a delete raced by a concurrent change of the dashboard resolves it again


def _answer(item: dict[str, Any], permission: Permission | None) -> Dashboard:
    return Dashboard.model_construct(**stored.plain(item), myPermission=permission)


def _summary(item: dict[str, Any], permission: Permission | None) -> DashboardSummary:
    fields = {name: value for name, value in stored.plain(item).items() if name not in ("layout", "filters")}
    return DashboardSummary.model_construct(**fields, myPermission=permission)


def _change(verb: str, dashboard_id: str) -> Change:
    return Change(f"{stored.DASHBOARD_AUDIT}.{verb}", stored.dashboard_sk(dashboard_id))


def _field_error(message: str, field: str, detail: str) -> ValidationFailedError:
    return ValidationFailedError(message, [{"field": field, "location": "body", "message": detail}])


# --- a layout's cards ---------------------------------------------------------------------------------


def _placeable(card: dict[str, Any] | None, caller: TenantContext) -> bool:
    """A card the caller may newly put on a layout: one that exists and that they may read (their own,
    or any as a tenant admin)."""
    return card is not None and (caller.is_admin or card.get("ownerId") == caller.user_id)


_NOT_PLACEABLE = "no card of this id that you may place (your own, or any as a tenant admin)"


def _card_refusal(index: int, card_id: str) -> Refusal:
    """A card that stopped being placeable between the read and the write (deleted, handed on)."""
    field = f"layout.items.{index}.cardId"
    return lambda _: _field_error(f"card {card_id} cannot be placed on this layout", field, _NOT_PLACEABLE)


def _refuse_unplaceable(
    layout: Layout, added: Iterable[str], cards: dict[str, dict[str, Any]], caller: TenantContext
) -> None:
    """422 naming every item of `layout` whose card is new to it and not the caller's to place."""
    new = set(added)
    details = [
        {"field": f"layout.items.{index}.cardId", "location": "body", "message": _NOT_PLACEABLE}
        for index, item in enumerate(layout.items)
        if item.cardId in new and not _placeable(cards.get(item.cardId), caller)
    ]
    if details:
        raise ValidationFailedError("the layout holds cards you may not place on it", details)


def _add_cards(
    tx: Transaction, dashboard_id: str, layout: Layout, added: Iterable[str], caller: TenantContext
) -> None:
    index_of = {item.cardId: index for index, item in enumerate(layout.items)}
    owned_by = None if caller.is_admin else caller.user_id
    for card_id in added:
        stored.add_card_use(
            tx, dashboard_id, card_id, owned_by=owned_by, refusal=_card_refusal(index_of[card_id], card_id)
        )


# --- dashboards ----------------------------------------------------------------------------------------


def create_dashboard(store: TenantStore, caller: TenantContext, request: CreateDashboardRequest) -> Dashboard:
    """A new dashboard owned by the caller; each card of its layout counted as used by it."""
    dashboard_id, now = str(uuid.uuid4()), now_iso()
    card_ids = request.layout.card_ids()
    _refuse_unplaceable(request.layout, card_ids, stored.get_cards(store, card_ids), caller)
    item = {
        "dashboardId": dashboard_id,
        "name": request.name,
        "description": request.description,
        "ownerId": caller.user_id,
        "layout": request.layout.model_dump(),
        "filters": [definition.model_dump() for definition in request.filters],
        "cardIds": card_ids,
        "version": 1,
        "createdAt": now,
        "updatedAt": now,
    }
    tx = Transaction().put(stored.dashboard_sk(dashboard_id), item)
    tx.put(stored.owner_index_sk(item), {"dashboardId": dashboard_id})
    _add_cards(tx, dashboard_id, request.layout, card_ids, caller)
    store.commit(tx, _change("create", dashboard_id))
    return _answer(item, Permission.OWNER)


def list_dashboards(
    store: TenantStore, caller: TenantContext, owner_id: str | None, limit: int, cursor: str | None
) -> Page[DashboardSummary]:
    """The dashboards of `owner_id` (the caller's own by default; another user's: tenant admins
    only), newest first: one Query of the owner's listing items and one BatchGetItem of the page."""
    owner = owner_id or caller.user_id
    if owner != caller.user_id:
        require_admin(caller)
    page = store.query(keys.dashboards_by_owner_prefix(owner), limit=limit, cursor=cursor, newest_first=True)
    ids = [str(item["dashboardId"]) for item in page.items]
    found = stored.get_dashboards(store, ids)
    # An owner's listing item outlives its dashboard only if a transaction lied: skip it anyway.
    dashboards = [found[i] for i in ids if i in found and found[i]["ownerId"] == owner]
    if owner == caller.user_id:
        permissions: dict[str, Permission | None] = {
            str(d["dashboardId"]): Permission.OWNER for d in dashboards
        }
    else:
        permissions = DashboardAccess(store).permissions(dashboards, caller)
    return Page([_summary(d, permissions[str(d["dashboardId"])]) for d in dashboards], page.next_cursor)


def get_dashboard(store: TenantStore, caller: TenantContext, dashboard_id: str) -> Dashboard:
    access = DashboardAccess(store).resolve(dashboard_id, caller)
    return _answer(access.dashboard, access.permission)


def update_dashboard(
    store: TenantStore, caller: TenantContext, dashboard_id: str, request: UpdateDashboardRequest
) -> Dashboard:
    """Editors change the name, description, layout, filters and default view; the owner also the
    owner. Optimistic locking on `version`; a body that changes nothing writes nothing."""
    changed = request.changes()
    if not changed:
        raise InvalidRequestError(
            "nothing to change",
            [
                {
                    "field": "body",
                    "message": "name, description, layout, filters, defaultFilterViewId or ownerId",
                }
            ],
        )
    access = DashboardAccess(store)
    if "ownerId" in changed:
        found = access.require(dashboard_id, caller, Permission.OWNER, "change its owner")
    else:
        found = access.require(dashboard_id, caller, Permission.EDITOR, "change it")
    dashboard = stored.plain(found.dashboard)
    if dashboard["version"] != request.version:
        raise StaleVersionError(
            f"dashboard {dashboard_id} is at version {dashboard['version']}, not {request.version}",
            {"currentVersion": dashboard["version"], "expectedVersion": request.version},
        )
    sets, removes = _changes(dashboard, request)
    if not sets and not removes:
        return _answer(dashboard, found.permission)

    now = now_iso()
    expression = update_expression(
        sets, raw=["version = version + :one", "updatedAt = :now"], remove_fields=removes
    )
    tx = Transaction().update(
        stored.dashboard_sk(dashboard_id),
        expression.expression,
        condition="version = :expected",
        names=expression.names,
        values={**expression.values, ":one": 1, ":now": now, ":expected": request.version},
        on_fail=stored.stale("dashboard", dashboard_id, request.version),
    )
    if "defaultFilterViewId" in sets:
        view_id = str(sets["defaultFilterViewId"])
        tx.check(
            keys.filter_view_sk(dashboard_id, view_id),
            on_fail=lambda _: _field_error(
                f"dashboard {dashboard_id} has no filter view {view_id}",
                "defaultFilterViewId",
                "no filter view of this id on this dashboard",
            ),
        )
    new_owner = sets.get("ownerId")
    if new_owner is not None:
        ownership.dashboard_moves(
            tx,
            dashboard,
            str(new_owner),
            refusal=lambda _: _field_error(
                f"no user {new_owner} in this tenant", "ownerId", "no such user in this tenant"
            ),
        )
    if "cardIds" in sets:
        _layout_card_writes(store, tx, caller, dashboard, request)
    store.commit(tx, _change("transfer" if new_owner is not None else "update", dashboard_id))

    item = {**dashboard, **sets, "version": dashboard["version"] + 1, "updatedAt": now}
    for name in removes:
        item.pop(name, None)
    permission: Permission | None = found.permission
    if new_owner is not None:  # the caller handed it on: what is left to them is what shares give
        permission = access.permissions([item], caller)[dashboard_id]
    return _answer(item, permission)


def _changes(dashboard: dict[str, Any], request: UpdateDashboardRequest) -> tuple[dict[str, Any], list[str]]:
    """What the body changes of the stored dashboard: attributes to set, attributes to remove."""
    changed = request.changes()
    wanted: dict[str, Any] = {}
    if "name" in changed:
        wanted["name"] = request.name
    if "description" in changed:
        wanted["description"] = request.description
    if "layout" in changed:
        wanted["layout"] = request.layout.model_dump()
        wanted["cardIds"] = request.layout.card_ids()
    if "filters" in changed:
        wanted["filters"] = [definition.model_dump() for definition in request.filters]
    if "ownerId" in changed:
        wanted["ownerId"] = request.ownerId
    removes: list[str] = []
    if "defaultFilterViewId" in changed:
        if request.defaultFilterViewId is not None:
            wanted["defaultFilterViewId"] = request.defaultFilterViewId
        elif "defaultFilterViewId" in dashboard:
            removes.append("defaultFilterViewId")
    sets = {name: value for name, value in wanted.items() if dashboard.get(name) != value}
    return sets, removes


def _layout_card_writes(
    store: TenantStore,
    tx: Transaction,
    caller: TenantContext,
    dashboard: dict[str, Any],
    request: UpdateDashboardRequest,
) -> None:
    """The count and use item of each card the new layout adds or drops (422 for a card added that
    the caller may not place, or more changes than one transaction holds)."""
    before = [str(card_id) for card_id in dashboard.get("cardIds", [])]
    after = request.layout.card_ids()
    added = [card_id for card_id in after if card_id not in before]
    removed = [card_id for card_id in before if card_id not in after]
    if len(added) + len(removed) > MAX_CARD_CHANGES:
        raise _field_error(
            f"a change may add and remove at most {MAX_CARD_CHANGES} cards in all; this one "
            f"{len(added) + len(removed)}",
            "layout.items",
            f"add and remove at most {MAX_CARD_CHANGES} cards at once (make the change in two steps)",
        )
    cards = stored.get_cards(store, [*added, *removed])
    _refuse_unplaceable(request.layout, added, cards, caller)
    dashboard_id = str(dashboard["dashboardId"])
    _add_cards(tx, dashboard_id, request.layout, added, caller)
    for card_id in removed:
        stored.remove_card_use(tx, dashboard_id, card_id, card_exists=card_id in cards)


def clone_dashboard(
    store: TenantStore, caller: TenantContext, dashboard_id: str, request: CloneDashboardRequest
) -> Dashboard:
    """A copy owned by the caller (any reader may clone): the same layout, filters and description,
    and the default filter view copied as a view of the copy created by the caller.

    A clone is not a permanent grant: its layout holds only cards its new owner may place (their
    own; any card for a tenant admin), so what the caller reads through it (`GET
    /cards/{c}?dashboardId=<clone>`) never outlives their share of the source. Every other card of
    the layout is copied as a new card owned by the caller (the same name, description, datasetIds,
    code, params, usedColumns and filterColumns; `copiedFrom`: the card's id), and the clone's layout
    holds the copy where the source holds the card.

    The copies are committed first, each in its own transaction with its audit item (`card.copy`;
    with its dataset items a copy is up to 12 items: 40 of them do not fit in one transaction),
    used by no dashboard yet;
    then the clone's transaction writes the dashboard, its owner's listing item, the copied view,
    and counts each card of its layout as used (`dashboardCount` +1 and `CARDUSE#`, on the condition
    that the card is still the caller's unless they are an admin). When that transaction is refused
    (or fails), the copies are deleted again (each with `card.copy.rollback`): a refused clone
    leaves nothing but those audit items. A process stopped between the two leaves unused copies,
    ordinary cards of the caller's that they may delete."""
    source = stored.plain(DashboardAccess(store).resolve(dashboard_id, caller).dashboard)
    card_ids = [str(card_id) for card_id in source.get("cardIds", [])]
    cards = stored.get_cards(store, card_ids)
    for card_id in card_ids:
        if card_id not in cards:
            raise _card_moved(dashboard_id, card_id)(None)
    foreign = [cards[card_id] for card_id in card_ids if not _placeable(cards[card_id], caller)]
    copies = ownership.copy_cards(store, foreign, caller.user_id)
    try:
        return _commit_clone(store, caller, source, request, copies)
    except Exception:
        ownership.remove_copies(store, copies.values())
        raise


def _commit_clone(
    store: TenantStore,
    caller: TenantContext,
    source: dict[str, Any],
    request: CloneDashboardRequest,
    copies: dict[str, dict[str, Any]],
) -> Dashboard:
    """The clone's transaction: its layout holds each copy in place of the card it copies."""
    dashboard_id = str(source["dashboardId"])
    placed = {card_id: str(copy["cardId"]) for card_id, copy in copies.items()}
    layout = dict(source.get("layout") or Layout().model_dump())
    layout["items"] = [
        {**entry, "cardId": placed.get(str(entry["cardId"]), str(entry["cardId"]))}
        for entry in layout.get("items", [])
    ]
    card_ids = [placed.get(str(card_id), str(card_id)) for card_id in source.get("cardIds", [])]
    clone_id, now = str(uuid.uuid4()), now_iso()
    item: dict[str, Any] = {
        "dashboardId": clone_id,
        "name": request.name or copy_name(str(source["name"])),
        "description": source.get("description", ""),
        "ownerId": caller.user_id,
        "layout": layout,
        "filters": source.get("filters", []),
        "cardIds": card_ids,
        "version": 1,
        "createdAt": now,
        "updatedAt": now,
    }
    tx = Transaction()
    default_id = source.get("defaultFilterViewId")
    default = store.get_item(keys.filter_view_sk(dashboard_id, str(default_id))) if default_id else None
    if default is not None:
        view = _new_view(clone_id, str(default["name"]), stored.plain(default["values"]), caller, now)
        item["defaultFilterViewId"] = view["viewId"]
        tx.put(keys.filter_view_sk(clone_id, view["viewId"]), view)
    tx.put(stored.dashboard_sk(clone_id), item)
    tx.put(stored.owner_index_sk(item), {"dashboardId": clone_id})
    owned_by = None if caller.is_admin else caller.user_id
    for card_id in card_ids:
        stored.add_card_use(
            tx, clone_id, card_id, owned_by=owned_by, refusal=_card_moved(dashboard_id, card_id)
        )
    store.commit(tx, _change("clone", clone_id))
    return _answer(item, Permission.OWNER)


def _card_moved(dashboard_id: str, card_id: str) -> Refusal:
    """A card of the layout that went, or stopped being the caller's, while the clone was made."""

    def refusal(old: dict[str, Any] | None) -> Exception:
        if old is None:
            return ConflictError(f"card {card_id} of dashboard {dashboard_id}'s layout no longer exists")
        return ConflictError(
            f"card {card_id} of dashboard {dashboard_id}'s layout changed owner; clone again"
        )

    return refusal


def copy_name(name: str) -> str:
    """`<name> (copy)`, the name shortened to keep within a name's 100 characters."""
    return name[: 100 - len(COPY_SUFFIX)].rstrip() + COPY_SUFFIX


def delete_dashboard(store: TenantStore, caller: TenantContext, dashboard_id: str) -> None:
    """The owner only. One transaction deletes the dashboard, its owner's listing item and its card
    uses (each card's count one less); then its shares and filter views are swept. A dashboard that
    is gone answers 404 after sweeping them again (which finishes an interrupted delete)."""
    access = DashboardAccess(store)
    for attempt in range(_ATTEMPTS):
        try:
            found = access.require(dashboard_id, caller, Permission.OWNER, "delete it")
        except NotFoundError:
            if store.get_item(stored.dashboard_sk(dashboard_id)) is None:
                stored.sweep_dashboard(store, dashboard_id)
            raise
        dashboard = stored.plain(found.dashboard)
        card_ids = [str(card_id) for card_id in dashboard.get("cardIds", [])]
        cards = stored.get_cards(store, card_ids)
        tx = Transaction().delete(
            stored.dashboard_sk(dashboard_id),
            condition="version = :expected",
            values={":expected": dashboard["version"]},
            on_fail=stored.stale("dashboard", dashboard_id, int(dashboard["version"])),
        )
        tx.delete(stored.owner_index_sk(dashboard), required=False)
        for card_id in card_ids:
            stored.remove_card_use(tx, dashboard_id, card_id, card_exists=card_id in cards)
        try:
            store.commit(tx, _change("delete", dashboard_id))
        except StaleVersionError:  # changed since it was read: read it again
            if attempt == _ATTEMPTS - 1:
                raise
            continue
        stored.sweep_dashboard(store, dashboard_id)
        return


# --- filter views -------------------------------------------------------------------------------------


def _view(item: dict[str, Any]) -> FilterView:
    return FilterView.model_construct(**stored.plain(item))


def _new_view(
    dashboard_id: str, name: str, values: dict[str, Any], caller: TenantContext, now: str
) -> dict[str, Any]:
    return {
        "viewId": str(uuid.uuid4()),
        "dashboardId": dashboard_id,
        "name": name,
        "values": values,
        "creatorId": caller.user_id,
        "version": 1,
        "createdAt": now,
        "updatedAt": now,
    }


def _checked_values(dashboard: dict[str, Any], values: dict[str, list[str] | DateRange]) -> dict[str, Any]:
    """`values` as stored, if each names a filter of the dashboard with a value of its shape: a list
    of the category filter's values (one at most unless it is multi-select; among its options when
    it has any, each once), or `{from, to}` for a date range. 422 naming each that does not."""
    filters = {str(definition["filterId"]): definition for definition in dashboard.get("filters", [])}
    details = []
    for filter_id, value in values.items():
        problem = _value_problem(filters.get(filter_id), value)
        if problem:
            details.append({"field": f"values.{filter_id}", "location": "body", "message": problem})
    if details:
        raise ValidationFailedError("the values do not fit the dashboard's filters", details)
    return stored_values(values)


def _value_problem(definition: dict[str, Any] | None, value: list[str] | DateRange) -> str | None:
    if definition is None:
        return "the dashboard has no filter of this id"
    if definition["type"] == "dateRange":
        return None if isinstance(value, DateRange) else "a date range filter's value is {from, to}"
    if isinstance(value, DateRange):
        return "a category filter's value is a list of its values"
    if len(set(value)) != len(value):
        return "each value at most once"
    if not definition.get("multiSelect") and len(value) > 1:
        return "this filter selects one value at most (it is not multi-select)"
    options = definition.get("options") or []
    unknown = [option for option in value if options and option not in options]
    if unknown:
        return f"not among the filter's options: {', '.join(unknown)}"
    return None


def list_filter_views(
    store: TenantStore, caller: TenantContext, dashboard_id: str, limit: int, cursor: str | None
) -> Page[FilterView]:
    """A dashboard's filter views in id order (any reader)."""
    DashboardAccess(store).resolve(dashboard_id, caller)
    page = store.query(keys.filter_views_prefix(dashboard_id), limit=limit, cursor=cursor)
    return Page([_view(item) for item in page.items], page.next_cursor)


def create_filter_view(
    store: TenantStore, caller: TenantContext, dashboard_id: str, request: CreateFilterViewRequest
) -> FilterView:
    """Any reader saves a view; its values must fit the dashboard's filters (422)."""
    access = DashboardAccess(store).resolve(dashboard_id, caller)
    values = _checked_values(access.dashboard, request.values)
    view = _new_view(dashboard_id, request.name, values, caller, now_iso())
    view_sk = keys.filter_view_sk(dashboard_id, view["viewId"])
    tx = Transaction().put(view_sk, view)
    tx.check(stored.dashboard_sk(dashboard_id), on_fail=_dashboard_gone(dashboard_id))
    store.commit(tx, Change(f"{stored.VIEW_AUDIT}.create", view_sk))
    return _view(view)


def get_filter_view(store: TenantStore, caller: TenantContext, dashboard_id: str, view_id: str) -> FilterView:
    DashboardAccess(store).resolve(dashboard_id, caller)
    return _view(stored.get_view(store, dashboard_id, view_id))


def _may_change_view(access: Access, view: dict[str, Any], caller: TenantContext, action: str) -> None:
    if view.get("creatorId") != caller.user_id and access.permission is not Permission.OWNER:
        raise Forbidden(f"only a filter view's creator or the dashboard's owner may {action}")


def update_filter_view(
    store: TenantStore,
    caller: TenantContext,
    dashboard_id: str,
    view_id: str,
    request: UpdateFilterViewRequest,
) -> FilterView:
    """Its creator or the dashboard's owner renames it or changes its values (optimistic locking)."""
    changed = request.model_fields_set - {"version"}
    if not changed:
        raise InvalidRequestError("nothing to change", [{"field": "body", "message": "name or values"}])
    access = DashboardAccess(store).resolve(dashboard_id, caller)
    view = stored.get_view(store, dashboard_id, view_id)
    _may_change_view(access, view, caller, "change it")
    if view["version"] != request.version:
        raise StaleVersionError(
            f"filter view {view_id} is at version {view['version']}, not {request.version}",
            {"currentVersion": view["version"], "expectedVersion": request.version},
        )
    sets: dict[str, Any] = {}
    if "name" in changed:
        sets["name"] = request.name
    if "values" in changed:
        sets["values"] = _checked_values(access.dashboard, request.values)
    now = now_iso()
    view_sk = keys.filter_view_sk(dashboard_id, view_id)
    expression = update_expression(sets, raw=["version = version + :one", "updatedAt = :now"])
    tx = Transaction().update(
        view_sk,
        expression.expression,
        condition="version = :expected",
        names=expression.names,
        values={**expression.values, ":one": 1, ":now": now, ":expected": request.version},
        on_fail=stored.stale("filter view", view_id, request.version),
    )
    tx.check(stored.dashboard_sk(dashboard_id), on_fail=_dashboard_gone(dashboard_id))
    store.commit(tx, Change(f"{stored.VIEW_AUDIT}.update", view_sk))
    return _view({**view, **sets, "version": view["version"] + 1, "updatedAt": now})


class _DefaultMoved(Exception):
    """The dashboard's default view changed between the read and the write: read it again."""


def delete_filter_view(store: TenantStore, caller: TenantContext, dashboard_id: str, view_id: str) -> None:
    """Its creator or the dashboard's owner deletes it; when it is the dashboard's default view, the
    same transaction clears `defaultFilterViewId` (a change of the dashboard: its version goes up)."""
    view_sk = keys.filter_view_sk(dashboard_id, view_id)
    for attempt in range(_ATTEMPTS):
        access = DashboardAccess(store).resolve(dashboard_id, caller)
        view = stored.get_view(store, dashboard_id, view_id)
        _may_change_view(access, view, caller, "delete it")
        tx = Transaction().delete(
            view_sk, on_fail=lambda _: NotFoundError(f"filter view {view_id} not found")
        )
        values = {":view": view_id}
        moved = _default_moved(dashboard_id)
        if access.dashboard.get("defaultFilterViewId") == view_id:
            tx.update(
                stored.dashboard_sk(dashboard_id),
                "SET version = version + :one, updatedAt = :now REMOVE defaultFilterViewId",
                condition="defaultFilterViewId = :view",
                values={**values, ":one": 1, ":now": now_iso()},
                on_fail=moved,
            )
        else:
            tx.check(
                stored.dashboard_sk(dashboard_id),
                "attribute_not_exists(defaultFilterViewId) OR defaultFilterViewId <> :view",
                values=values,
                on_fail=moved,
            )
        try:
            store.commit(tx, Change(f"{stored.VIEW_AUDIT}.delete", view_sk))
            return
        except _DefaultMoved:
            if attempt == _ATTEMPTS - 1:
                raise ConflictError(f"dashboard {dashboard_id} kept changing; try again") from None


def _dashboard_gone(dashboard_id: str) -> Refusal:
    return lambda _: NotFoundError(f"dashboard {dashboard_id} not found")


def _default_moved(dashboard_id: str) -> Refusal:
    def refusal(old: dict[str, Any] | None) -> Exception:
        return NotFoundError(f"dashboard {dashboard_id} not found") if old is None else _DefaultMoved()

    return refusal
