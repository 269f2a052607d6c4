"""Who owns a dashboard or a card, and what handing one on writes: the one place that moves an
owner's items, used by the dashboards' and cards' `PATCH ownerId`, by the clone of a dashboard
(cards copied to their new owner) and by the users domain (`DELETE /users/{id}?transferTo=`), which
may import neither domain (import-linter): everything here works by keys on the store.

- A dashboard's owner is `ownerId` on `DASHBOARD#<id>` and its listing item
  `DASHOWNER#<ownerId>#<createdAt>#<id>`; handing it on moves that item and deletes the direct share
  to the new owner, both halves (an owner needs none).
- A card's owner is `ownerId` on `CARD#<id>`, its listing item `CARDOWNER#<ownerId>#<createdAt>#<id>`
  and the `ownerId` each `CARDDATASET#<datasetId>#<id>` holds (listings by dataset filter on it).
- The new owner must be a user of the tenant: each transfer checks `USER#<newOwner>` in its own
  transaction (`refusal` says how the caller answers when it is not).

`*_moves` are the writes beside the item's own update, for callers that fold `ownerId` into their
own version-conditioned update (PATCH); `transfer_*` also update the item, conditioned on its old
owner (and, for a card, its version, since its dataset items follow its `datasetIds`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from tenancy.application.sharing.permissions import TargetType
from tenancy.application.store import keys
from tenancy.application.store.engine import Change, TenantStore, ValueTakenError
from tenancy.application.store.transaction import Refusal, Transaction
from tenancy.common.errors import ConflictError, ValidationFailedError
from tenancy.common.timestamps import now_iso

DASHBOARD_TRANSFER = "dashboard.transfer"
CARD_TRANSFER = "card.transfer"
CARD_COPY = "card.copy"
CARD_COPY_ROLLBACK = "card.copy.rollback"
# The fields of a card a copy takes (as stored: `paramsJson` is the params' JSON text).
COPIED_FIELDS = ("name", "description", "datasetIds", "code", "paramsJson", "usedColumns", "filterColumns")
# Listing items read per Query while handing a user's content on.
_CHUNK = 100
# A card changed (another version) between its read and its transfer: read again, this many times.
_ATTEMPTS = 3

OWNS_CONTENT = "USER_OWNS_CONTENT"


def dashboard_sk(dashboard_id: str) -> str:
    return keys.item_sk(keys.DASHBOARD, dashboard_id)


def card_sk(card_id: str) -> str:
    return keys.item_sk(keys.CARD, card_id)


def _dashboard_index(dashboard: dict[str, Any], owner_id: str) -> str:
    return keys.dashboard_by_owner_sk(owner_id, str(dashboard["createdAt"]), str(dashboard["dashboardId"]))


def _card_index(card: dict[str, Any], owner_id: str) -> str:
    return keys.card_by_owner_sk(owner_id, str(card["createdAt"]), str(card["cardId"]))


def _dataset_ids(card: dict[str, Any]) -> list[str]:
    return [str(dataset_id) for dataset_id in card.get("datasetIds") or []]


# --- the writes of a transfer -------------------------------------------------------------------------


def dashboard_moves(tx: Transaction, dashboard: dict[str, Any], new_owner: str, refusal: Refusal) -> None:
    """Beside the dashboard's own update of `ownerId`: `new_owner` must be a user of the tenant
    (`refusal` otherwise), the owner's listing item moves to them, and their direct share goes."""
    dashboard_id = str(dashboard["dashboardId"])
    tx.check(keys.item_sk(keys.USER, new_owner), on_fail=refusal)
    tx.delete(_dashboard_index(dashboard, str(dashboard["ownerId"])), required=False)
    tx.put(_dashboard_index(dashboard, new_owner), {"dashboardId": dashboard_id}, new=False)
    tx.delete(keys.share_sk(dashboard_id, TargetType.USER, new_owner), required=False)
    tx.delete(keys.shared_with_sk(TargetType.USER, new_owner, dashboard_id), required=False)


def transfer_dashboard(
    tx: Transaction,
    dashboard: dict[str, Any],
    new_owner: str,
    now: str,
    *,
    refusal: Refusal,
    moved: Refusal,
) -> None:
    """The dashboard handed to `new_owner` (a change: its version goes up), on the condition that
    it is still its owner's as read (`moved` otherwise: gone or handed on meanwhile)."""
    tx.update(
        dashboard_sk(str(dashboard["dashboardId"])),
        "SET ownerId = :new, version = version + :one, updatedAt = :now",
        condition="ownerId = :old",
        values={":new": new_owner, ":old": str(dashboard["ownerId"]), ":one": 1, ":now": now},
        on_fail=moved,
    )
    dashboard_moves(tx, dashboard, new_owner, refusal)


def card_moves(
    tx: Transaction, card: dict[str, Any], new_owner: str, dataset_ids: Iterable[str], refusal: Refusal
) -> None:
    """Beside the card's own update of `ownerId`: `new_owner` must be a user of the tenant, the
    owner's listing item moves to them, and the dataset items of `dataset_ids` (the datasets the
    card has after the change) name them."""
    card_id = str(card["cardId"])
    tx.check(keys.item_sk(keys.USER, new_owner), on_fail=refusal)
    tx.delete(_card_index(card, str(card["ownerId"])), required=False)
    tx.put(_card_index(card, new_owner), {"cardId": card_id}, new=False)
    for dataset_id in dataset_ids:
        index = {"cardId": card_id, "ownerId": new_owner}
        tx.put(keys.card_by_dataset_sk(dataset_id, card_id), index, new=False)


def transfer_card(
    tx: Transaction,
    card: dict[str, Any],
    new_owner: str,
    now: str,
    *,
    refusal: Refusal,
    moved: Refusal,
) -> None:
    """The card handed to `new_owner` (its version goes up), on the condition that it is still as
    read: the same owner and version (its dataset items follow its `datasetIds`)."""
    tx.update(
        card_sk(str(card["cardId"])),
        "SET ownerId = :new, version = version + :one, updatedAt = :now",
        condition="ownerId = :old AND version = :expected",
        values={
            ":new": new_owner,
            ":old": str(card["ownerId"]),
            ":expected": int(card["version"]),
            ":one": 1,
            ":now": now,
        },
        on_fail=moved,
    )
    card_moves(tx, card, new_owner, _dataset_ids(card), refusal)


# --- a card copied to a new owner (a dashboard's clone) -------------------------------------------------


def copy_card_writes(tx: Transaction, card: dict[str, Any], owner_id: str, now: str) -> dict[str, Any]:
    """A new card owned by `owner_id` with the fields of `card` (`COPIED_FIELDS`) and `copiedFrom`,
    used by no dashboard yet (`dashboardCount` 0: whoever places it counts it), with its owner's
    listing item and its dataset items: the copy as stored."""
    copy_id = str(uuid.uuid4())
    item: dict[str, Any] = {
        "cardId": copy_id,
        "ownerId": owner_id,
        **{name: card[name] for name in COPIED_FIELDS if name in card},
        "copiedFrom": str(card["cardId"]),
        "dashboardCount": 0,
        "version": 1,
        "createdAt": now,
        "updatedAt": now,
    }
    tx.put(card_sk(copy_id), item)
    tx.put(keys.card_by_owner_sk(owner_id, now, copy_id), {"cardId": copy_id})
    for dataset_id in _dataset_ids(item):
        tx.put(keys.card_by_dataset_sk(dataset_id, copy_id), {"cardId": copy_id, "ownerId": owner_id})
    return item


def copy_cards(
    store: TenantStore, cards: Iterable[dict[str, Any]], owner_id: str
) -> dict[str, dict[str, Any]]:
    """Each of `cards` copied for `owner_id`, each copy in its own transaction with its audit item
    (`card.copy`); the copies by the id of the card they copy. A failure deletes the copies made
    so far (`remove_copies`) before it is raised."""
    copies: dict[str, dict[str, Any]] = {}
    try:
        for card in cards:
            tx = Transaction()
            copy = copy_card_writes(tx, card, owner_id, now_iso())
            store.commit(tx, Change(CARD_COPY, card_sk(str(copy["cardId"]))))
            copies[str(card["cardId"])] = copy
    except Exception:
        remove_copies(store, copies.values())
        raise
    return copies


def remove_copies(store: TenantStore, copies: Iterable[dict[str, Any]]) -> None:
    """Undo `copy_cards`: each copy and its index items deleted (whether or not they are still
    there), each in a transaction with its audit item (`card.copy.rollback`)."""
    for copy in copies:
        copy_id = str(copy["cardId"])
        tx = Transaction().delete(card_sk(copy_id), required=False)
        tx.delete(_card_index(copy, str(copy["ownerId"])), required=False)
        for dataset_id in _dataset_ids(copy):
            tx.delete(keys.card_by_dataset_sk(dataset_id, copy_id), required=False)
        store.commit(tx, Change(CARD_COPY_ROLLBACK, card_sk(copy_id)))


# --- a user's content handed on (a user's delete) ----------------------------------------------------


class _Moved(Exception):
    """The item is not as read any more: handed on, deleted, or (a card) changed meanwhile."""


def _moved(_: dict[str, Any] | None) -> Exception:
    return _Moved()


def _recipient_error(user_id: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(
        f"cannot hand user {user_id}'s content to that user: {message}",
        [{"field": "transferTo", "location": "query", "message": message}],
    )


def check_recipient(store: TenantStore, user_id: str, recipient: str) -> None:
    """422 (field `transferTo`) unless `recipient` is a user of this tenant other than `user_id`."""
    if recipient == user_id:
        raise _recipient_error(user_id, "the user being deleted cannot receive their own content")
    if store.get_item(keys.item_sk(keys.USER, recipient)) is None:
        raise _recipient_error(user_id, "no such user in this tenant")


def hand_over(store: TenantStore, user_id: str, recipient: str) -> tuple[int, int]:
    """Every dashboard and card `user_id` owns handed to `recipient` (checked by `check_recipient`),
    each in its own transaction with its audit item (`dashboard.transfer`, `card.transfer`); the
    numbers of dashboards and cards handed on. What the user owns is read from their listing items
    (`DASHOWNER#<user>#`, `CARDOWNER#<user>#`), so a call interrupted half-way is finished by the
    next; a listing item whose item is gone or another's is stale and deleted."""

    def refusal(_: dict[str, Any] | None) -> Exception:
        return _recipient_error(user_id, "no such user in this tenant")

    dashboards = 0
    for chunk in _owned(store, keys.dashboards_by_owner_prefix(user_id)):
        found = store.get_items(dashboard_sk(str(index["dashboardId"])) for index in chunk)
        for index in chunk:
            dashboard = found.get(dashboard_sk(str(index["dashboardId"])))
            if dashboard is None or dashboard.get("ownerId") != user_id:
                store.delete_items([str(index["SK"])])
                continue
            tx = Transaction()
            transfer_dashboard(tx, dashboard, recipient, now_iso(), refusal=refusal, moved=_moved)
            try:
                store.commit(tx, Change(DASHBOARD_TRANSFER, dashboard_sk(str(dashboard["dashboardId"]))))
                dashboards += 1
            except _Moved:  # handed on or deleted meanwhile: no longer the user's
                continue

    cards = 0
    for chunk in _owned(store, keys.cards_by_owner_prefix(user_id)):
        found = store.get_items(card_sk(str(index["cardId"])) for index in chunk)
        for index in chunk:
            card = found.get(card_sk(str(index["cardId"])))
            if card is None or card.get("ownerId") != user_id:
                store.delete_items([str(index["SK"])])
                continue
            cards += _hand_card(store, card, user_id, recipient, refusal)
    return dashboards, cards


def _hand_card(
    store: TenantStore, card: dict[str, Any], user_id: str, recipient: str, refusal: Refusal
) -> int:
    """One card handed on (1), or 0 when it stopped being the user's; a card changed meanwhile is
    read again (its dataset items may have changed with it)."""
    current: dict[str, Any] | None = card
    for _ in range(_ATTEMPTS):
        if current is None or current.get("ownerId") != user_id:
            return 0
        tx = Transaction()
        transfer_card(tx, current, recipient, now_iso(), refusal=refusal, moved=_moved)
        try:
            store.commit(tx, Change(CARD_TRANSFER, card_sk(str(current["cardId"]))))
            return 1
        except _Moved:
            current = store.get_item(card_sk(str(current["cardId"])))
    raise ConflictError(f"card {card['cardId']} kept changing while it was being handed on; try again")


def _owned(store: TenantStore, prefix: str) -> Iterable[list[dict[str, Any]]]:
    """The listing items under `prefix`, a Query of at most `_CHUNK` at a time (each chunk is
    handled, and so moved out of the prefix, before the next is read after it)."""
    after: str | None = None
    while True:
        chunk = store.query_items(prefix, after=after, limit=_CHUNK)
        if not chunk:
            return
        yield chunk
        if len(chunk) < _CHUNK:
            return
        after = str(chunk[-1]["SK"])


def refuse_if_owner(store: TenantStore, user_id: str) -> None:
    """409 `USER_OWNS_CONTENT` while `user_id` owns a dashboard or a card (a Query of at most one
    item of `DASHOWNER#<userId>#` and of `CARDOWNER#<userId>#`)."""
    owned = [
        what
        for what, prefix in (
            ("dashboards", keys.dashboards_by_owner_prefix(user_id)),
            ("cards", keys.cards_by_owner_prefix(user_id)),
        )
        if store.query_items(prefix, limit=1)
    ]
    if owned:
        raise ValueTakenError(
            OWNS_CONTENT,
            f"user {user_id} owns {' and '.join(owned)}: hand them to another user of the tenant "
            "with `DELETE /users/{userId}?transferTo=<userId>` (or transfer or delete them first)",
            {"owns": owned},
        )
