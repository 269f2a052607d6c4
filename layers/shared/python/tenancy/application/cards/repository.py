"""A tenant's cards as stored, and their indexes, always written in one transaction:

- `CARD#<cardId>`: the card (`paramsJson`: its params as compact JSON text, exactly as sent;
  `dashboardCount`: how many dashboards' layouts hold it, kept by the dashboards domain with
  `ADD` (never touching `version`), alongside `CARDUSE#<cardId>#<dashboardId>`);
- `CARDOWNER#<ownerId>#<createdAt>#<cardId>` {cardId}: cards by owner, newest first;
- `CARDDATASET#<datasetId>#<cardId>` {cardId, ownerId}: cards by dataset (one per dataset id).

Every write is conditioned on the card's `version` (read with the card), so the index items it
swaps are the ones the card held; the audit item goes in the same transaction (`TenantStore.commit`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from tenancy.application.cards.models import Card, params_text
from tenancy.application.sharing import ownership
from tenancy.application.store import keys
from tenancy.application.store.engine import Change, TenantStore
from tenancy.application.store.transaction import Refusal, Transaction
from tenancy.common.cursors import decode_cursor, encode_cursor
from tenancy.common.dynamo import Page
from tenancy.common.errors import NotFoundError, StaleVersionError, ValidationFailedError
from tenancy.common.timestamps import now_iso

# A refused card delete: how many times a concurrent change is taken into account before giving up.
_DELETE_ATTEMPTS = 3
# Index items read per Query when a listing filters them (cards by dataset, by owner).
_CHUNK = 100
# The dashboards a CARD_IN_USE refusal names, at most.
MAX_USES_NAMED = 100
_POSITION = frozenset({"SK"})


def card_sk(card_id: str) -> str:
    return keys.item_sk(keys.CARD, card_id)


def not_found(card_id: str) -> NotFoundError:
    return NotFoundError(f"card {card_id} not found")


class InUse(Exception):
    """The card's delete was refused: dashboards' layouts hold it (`dashboardCount`)."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


class _Moved(Exception):
    """The card changed between its read and its delete (its index items may have too)."""


@dataclass(frozen=True)
class Use:
    dashboardId: str
    name: str | None


def as_card(item: dict[str, Any]) -> Card:
    """A stored card as the API shows it (params decoded, counts as integers)."""
    fields = {name: value for name, value in item.items() if name not in {"paramsJson", "SK"}}
    fields["params"] = json.loads(str(item.get("paramsJson") or "{}"))
    fields["dashboardCount"] = int(item.get("dashboardCount") or 0)
    fields.setdefault("datasetIds", [])
    return Card.model_construct(**fields)


class Cards:
    def __init__(self, store: TenantStore) -> None:
        self.store = store

    # --- reads ---------------------------------------------------------------------------------

    def find(self, card_id: str) -> dict[str, Any] | None:
        """The stored card (one consistent GetItem), or None."""
        return self.store.get_item(card_sk(card_id))

    def by_owner(self, owner_id: str, *, limit: int, cursor: str | None) -> Page[Card]:
        """The owner's cards, newest first: one Query of `CARDOWNER#<owner>#`, one BatchGetItem."""
        index = self.store.query(
            keys.cards_by_owner_prefix(owner_id), limit=limit, cursor=cursor, newest_first=True
        )
        return Page(self._cards([str(item["cardId"]) for item in index.items]), index.next_cursor)

    def by_dataset(
        self, dataset_id: str, *, owner_id: str | None, limit: int, cursor: str | None
    ) -> Page[Card]:
        """The cards using `dataset_id` (of `owner_id` only, when given), in card id order: Queries of
        `CARDDATASET#<dataset>#` (the index items name the owner, so others' are skipped unread)
        until the page is full, then one BatchGetItem."""
        prefix = keys.cards_by_dataset_prefix(dataset_id)
        scope = f"{self.store.tenant_id}|{prefix}|{owner_id or ''}"
        position = decode_cursor(cursor, scope, _POSITION, prefixed={"SK": prefix})["SK"] if cursor else None
        kept: list[dict[str, Any]] = []
        while len(kept) <= limit:
            chunk = self.store.query_items(prefix, after=position, limit=_CHUNK)
            kept += [item for item in chunk if owner_id is None or item.get("ownerId") == owner_id]
            if len(chunk) < _CHUNK:
                break
            position = str(chunk[-1]["SK"])
        page, more = kept[:limit], len(kept) > limit
        next_cursor = encode_cursor({"SK": str(page[-1]["SK"])}, scope) if more else None
        return Page(self._cards([str(item["cardId"]) for item in page]), next_cursor)

    def uses(self, card_id: str) -> list[Use]:
        """The dashboards whose layouts hold the card (at most MAX_USES_NAMED, in id order), with
        their names: one Query of `CARDUSE#<card>#`, one BatchGetItem of the dashboards."""
        prefix = keys.card_uses_prefix(card_id)
        ids = [
            str(i["SK"]).removeprefix(prefix) for i in self.store.query_items(prefix, limit=MAX_USES_NAMED)
        ]
        found = self.store.get_items(keys.item_sk(keys.DASHBOARD, d) for d in ids)
        return [Use(d, _name(found.get(keys.item_sk(keys.DASHBOARD, d)))) for d in ids]

    def _cards(self, card_ids: list[str]) -> list[Card]:
        """The cards, in the given order (one left out if it went between the index read and this)."""
        found = self.store.get_items(card_sk(card_id) for card_id in card_ids)
        return [as_card(found[card_sk(c)]) for c in card_ids if card_sk(c) in found]

    # --- writes --------------------------------------------------------------------------------

    def create(self, owner_id: str, fields: dict[str, Any]) -> Card:
        """The card, its owner index item and one dataset index item per dataset, in one transaction."""
        card_id, now = str(uuid.uuid4()), now_iso()
        item = {
            "cardId": card_id,
            "ownerId": owner_id,
            **_stored(fields),
            "dashboardCount": 0,
            "version": 1,
            "createdAt": now,
            "updatedAt": now,
        }
        tx = Transaction().put(card_sk(card_id), item)
        tx.put(keys.card_by_owner_sk(owner_id, now, card_id), {"cardId": card_id})
        for dataset_id in item["datasetIds"]:
            tx.put(keys.card_by_dataset_sk(dataset_id, card_id), {"cardId": card_id, "ownerId": owner_id})
        check_datasets(tx, item["datasetIds"], item["datasetIds"])
        self.store.commit(tx, self._change("create", card_id))
        return as_card(item)

    def update(self, card: dict[str, Any], changes: dict[str, Any], expected_version: int) -> Card:
        """Apply `changes` to `card` (as read) if it is still at `expected_version` (409
        `VERSION_CONFLICT` otherwise, 404 if it is gone). A new `datasetIds` swaps the dataset index
        items and a new `ownerId` (a user of the tenant, else 422) moves the owner index item and
        names the new owner on the dataset items (`sharing.ownership.card_moves`), in the same
        transaction, audited `card.transfer` (`card.update` when the owner stays)."""
        card_id = str(card["cardId"])
        stored = _stored(changes)
        set_names = {f"#u{i}": name for i, name in enumerate(stored)}
        values: dict[str, Any] = {f":u{i}": value for i, value in enumerate(stored.values())}
        assignments = [f"#u{i} = :u{i}" for i in range(len(stored))]
        values.update({":one": 1, ":now": now_iso(), ":expected": expected_version})
        tx = Transaction().update(
            card_sk(card_id),
            "SET " + ", ".join([*assignments, "version = version + :one", "updatedAt = :now"]),
            condition="version = :expected",
            names=set_names,
            values=values,
            on_fail=lambda old: _stale(card_id, old, expected_version),
        )
        old_owner, new_owner = str(card["ownerId"]), str(stored.get("ownerId", card["ownerId"]))
        old_datasets = [str(d) for d in card.get("datasetIds") or []]
        new_datasets = [str(d) for d in stored.get("datasetIds", old_datasets)]
        if new_owner != old_owner:  # the listing item moves and every dataset item names the new owner
            ownership.card_moves(
                tx,
                card,
                new_owner,
                new_datasets,
                refusal=lambda _: ValidationFailedError(
                    f"user {new_owner} is not a user of this tenant",
                    [{"field": "ownerId", "message": "no such user in this tenant"}],
                ),
            )
        for dataset_id in old_datasets:
            if dataset_id not in new_datasets:
                tx.delete(keys.card_by_dataset_sk(dataset_id, card_id), required=False)
        for dataset_id in new_datasets:
            if dataset_id not in old_datasets and new_owner == old_owner:
                index = {"cardId": card_id, "ownerId": new_owner}
                tx.put(keys.card_by_dataset_sk(dataset_id, card_id), index, new=False)
        check_datasets(tx, new_datasets, [d for d in new_datasets if d not in old_datasets])
        self.store.commit(tx, self._change("transfer" if new_owner != old_owner else "update", card_id))
        updated = self.find(card_id)
        if updated is None:
            raise not_found(card_id)
        return as_card(updated)

    def delete(self, card: dict[str, Any]) -> None:
        """Delete the card and its index items, refused (`InUse`) while a dashboard uses it; a card
        changed meanwhile is read again (its index items may have moved), a card gone is a 404."""
        card_id = str(card["cardId"])
        current: dict[str, Any] | None = card
        for _ in range(_DELETE_ATTEMPTS):
            if current is None:
                raise not_found(card_id)
            try:
                self.store.commit(self._delete(current), self._change("delete", card_id))
                return
            except _Moved:
                current = self.find(card_id)
        raise StaleVersionError(f"card {card_id} kept changing while it was being deleted")

    def _delete(self, card: dict[str, Any]) -> Transaction:
        card_id = str(card["cardId"])
        version = int(card["version"])

        def refused(old: dict[str, Any] | None) -> Exception:
            if old is None:
                return not_found(card_id)
            if int(old.get("dashboardCount") or 0) > 0:
                return InUse(int(old["dashboardCount"]))
            return _Moved()

        tx = Transaction().delete(
            card_sk(card_id),
            condition="version = :v AND (attribute_not_exists(dashboardCount) OR dashboardCount < :one)",
            values={":v": version, ":one": 1},
            on_fail=refused,
        )
        tx.delete(
            keys.card_by_owner_sk(str(card["ownerId"]), str(card["createdAt"]), card_id), required=False
        )
        for dataset_id in card.get("datasetIds") or []:
            tx.delete(keys.card_by_dataset_sk(str(dataset_id), card_id), required=False)
        return tx

    def _change(self, verb: str, card_id: str) -> Change:
        return Change(f"card.{verb}", card_sk(card_id))


def check_datasets(tx: Transaction, dataset_ids: list[str], checked: list[str]) -> None:
    """Require each of `checked` (of the card's `dataset_ids`) to be a dataset of the tenant that is
    not being deleted: a ConditionCheck on `DATASET#<id>` (by key: the datasets domain is not
    imported), refused as a 422 naming `datasetIds.<index>`. A dataset's DELETE marks it
    `deletingAt` before it looks for the cards using it, so none is added after that look."""
    for dataset_id in checked:
        tx.check(
            keys.item_sk(keys.DATASET, dataset_id),
            "attribute_exists(PK) AND attribute_not_exists(deletingAt)",
            on_fail=_unknown_dataset(dataset_id, dataset_ids.index(dataset_id)),
        )


def _unknown_dataset(dataset_id: str, index: int) -> Refusal:
    def refusal(_: dict[str, Any] | None) -> Exception:
        return ValidationFailedError(
            f"dataset {dataset_id} not found",
            [
                {
                    "field": f"datasetIds.{index}",
                    "location": "body",
                    "message": "no such dataset in this tenant",
                }
            ],
        )

    return refusal


def _stored(fields: dict[str, Any]) -> dict[str, Any]:
    """Request fields as the card item holds them (`params` as its JSON text, `paramsJson`)."""
    stored = {name: value for name, value in fields.items() if name != "params"}
    if "params" in fields:
        stored["paramsJson"] = params_text(fields["params"])
    return stored


def _stale(card_id: str, old: dict[str, Any] | None, expected: int) -> Exception:
    if old is None:
        return not_found(card_id)
    return StaleVersionError(
        f"card {card_id} is at version {old['version']}, not {expected}",
        {"currentVersion": int(old["version"]), "expectedVersion": expected},
    )


def _name(dashboard: dict[str, Any] | None) -> str | None:
    return str(dashboard["name"]) if dashboard and "name" in dashboard else None
