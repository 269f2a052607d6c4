"""A tenant's datasets as stored: `DATASET#<datasetId>` (models.py names its attributes), created and
deleted through the store's counted kind (`kinds.DATASET`: the plan's `datasets` limit), changed by
conditional writes, each with its audit item (`TenantStore.commit`).

What else a dataset is refers to it only by key: the cards that use it are the items
`CARDDATASET#<datasetId>#<cardId>` the cards domain writes (read here, never through the cards
package), and its objects are under `datasets/<datasetId>/` of the tenant's prefix (layout.py).
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tenancy.application.datasets.models import (
    IMPORT_TIMED_OUT,
    IMPORT_TIMEOUT_SECONDS,
    UPLOAD_EXPIRED,
    Dataset,
    DatasetStatus,
)
from tenancy.application.store import keys, kinds
from tenancy.application.store.engine import Change, TenantStore
from tenancy.application.store.transaction import Refusal, Transaction
from tenancy.common.dynamo import Page
from tenancy.common.errors import NotFoundError, StaleVersionError
from tenancy.common.timestamps import now_iso

DATASETS_PREFIX = f"{keys.DATASET}#"
# The cards a DATASET_IN_USE refusal names, at most.
MAX_USES_NAMED = 100
# The view's fields (every other attribute of the item is bookkeeping: files, sourceKey, maxBytes,
# uploadExpiresAt, importStartedAt, deletingAt, and the store's keys).
VIEW_FIELDS = tuple(Dataset.model_fields)


def dataset_sk(dataset_id: str) -> str:
    return keys.item_sk(keys.DATASET, dataset_id)


def not_found(dataset_id: str) -> NotFoundError:
    return NotFoundError(f"dataset {dataset_id} not found")


def live(item: dict[str, Any] | None) -> bool:
    """A dataset the API shows: it exists and no delete is under way."""
    return item is not None and "deletingAt" not in item


def epoch_seconds(value: Any) -> float | None:
    """A stored instant as epoch seconds: a number (epoch seconds) or an ISO-8601 text; None if neither."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return None


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stale_error(item: dict[str, Any], now: float) -> dict[str, Any] | None:
    """The error a dataset stuck in a state shows as FAILED: an upload never made before its
    presigned POST expired, or an import that has run for more than IMPORT_TIMEOUT_SECONDS."""
    status = item.get("status")
    if status == DatasetStatus.UPLOADING:
        expires = epoch_seconds(item.get("uploadExpiresAt"))
        if expires is not None and now > expires:
            return {
                "code": UPLOAD_EXPIRED,
                "message": f"no file was uploaded before {iso(expires)}; start a new upload",
            }
    if status == DatasetStatus.IMPORTING:
        started = epoch_seconds(item.get("importStartedAt"))
        if started is not None and now > started + IMPORT_TIMEOUT_SECONDS:
            return {
                "code": IMPORT_TIMED_OUT,
                "message": f"the import started at {iso(started)} did not finish within "
                f"{IMPORT_TIMEOUT_SECONDS // 60} minutes; start a new upload",
            }
    return None


def as_dataset(item: dict[str, Any], now: float | None = None) -> Dataset:
    """A stored dataset as the API shows it: the view's fields only, counts as integers, and a state
    that can no longer move (stale_error) answered as FAILED."""
    fields = {name: item.get(name) for name in VIEW_FIELDS}
    fields["columns"] = item.get("columns") or []
    fields["dataVersion"] = int(item.get("dataVersion") or 0)
    stale = stale_error(item, time.time() if now is None else now)
    if stale is not None:
        fields["status"], fields["error"] = DatasetStatus.FAILED, stale
    return Dataset.model_validate(fields)


class Datasets:
    def __init__(self, store: TenantStore) -> None:
        self.store = store

    # --- reads ---------------------------------------------------------------------------------

    def find(self, dataset_id: str) -> dict[str, Any] | None:
        """The stored dataset (one consistent GetItem), or None; a dataset being deleted included."""
        return self.store.get_item(dataset_sk(dataset_id))

    def page(self, *, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
        """The tenant's datasets in id order (one Query of `DATASET#`); a dataset being deleted is
        left out, so a page may hold fewer than `limit` while `has_next` says more follow."""
        found = self.store.query(DATASETS_PREFIX, limit=limit, cursor=cursor, scope="datasets")
        return Page([item for item in found.items if live(item)], found.next_cursor)

    def cards_using(self, dataset_id: str) -> list[str]:
        """The ids of the cards that use the dataset (at most MAX_USES_NAMED, in id order): one
        Query of the cards domain's `CARDDATASET#<datasetId>#` items."""
        prefix = keys.cards_by_dataset_prefix(dataset_id)
        return [
            str(item["SK"]).removeprefix(prefix)
            for item in self.store.query_items(prefix, limit=MAX_USES_NAMED)
        ]

    # --- writes --------------------------------------------------------------------------------

    def create(self, dataset_id: str, attributes: dict[str, Any], limit: int | None) -> dict[str, Any]:
        """The dataset item, the kind's counter +1 (409 LIMIT_REACHED at `limit`) and its audit item,
        in one transaction."""
        return self.store.create(
            kinds.DATASET,
            dataset_id,
            attributes,
            Change("dataset.create", dataset_sk(dataset_id)),
            limit=limit,
        )

    def update(
        self,
        dataset_id: str,
        *,
        verb: str,
        set_values: dict[str, Any],
        remove: tuple[str, ...] = (),
        expected_version: int | None = None,
        condition: str | None = None,
        condition_values: dict[str, Any] | None = None,
    ) -> None:
        """SET `set_values` and REMOVE `remove` on a live dataset (and `version` + 1), if it is at
        `expected_version` (when given; 409 VERSION_CONFLICT otherwise) and `condition` holds;
        audited `dataset.<verb>`. A dataset gone or being deleted is a 404."""
        names = {f"#s{i}": name for i, name in enumerate(set_values)}
        names.update({f"#r{i}": name for i, name in enumerate(remove)})
        values: dict[str, Any] = {f":s{i}": value for i, value in enumerate(set_values.values())}
        values.update({":one": 1, ":now": now_iso(), **(condition_values or {})})
        assignments = [f"#s{i} = :s{i}" for i in range(len(set_values))]
        expression = "SET " + ", ".join([*assignments, "version = version + :one", "updatedAt = :now"])
        if remove:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
        conditions = ["attribute_not_exists(deletingAt)"]
        if expected_version is not None:
            conditions.append("version = :expected")
            values[":expected"] = expected_version
        if condition is not None:
            conditions.append(f"({condition})")
        tx = Transaction().update(
            dataset_sk(dataset_id),
            expression,
            condition=" AND ".join(conditions),
            names=names,
            values=values,
            on_fail=_refusal(dataset_id, expected_version),
        )
        self.store.commit(tx, Change(f"dataset.{verb}", dataset_sk(dataset_id)))

    def mark_deleting(self, dataset_id: str) -> None:
        """`deletingAt`: from now on the dataset is not found, takes no new card, no import completes."""
        tx = Transaction().update(
            dataset_sk(dataset_id),
            "SET deletingAt = :now",
            values={":now": now_iso()},
            on_fail=lambda _: not_found(dataset_id),
        )
        self.store.commit(tx, None)

    def unmark_deleting(self, dataset_id: str) -> None:
        """The delete was refused: the dataset is back (if it is still there)."""
        tx = Transaction().update(
            dataset_sk(dataset_id),
            "REMOVE deletingAt",
            condition="attribute_exists(deletingAt)",
            on_fail=lambda _: not_found(dataset_id),
        )
        # gone, or unmarked by a concurrent refusal: either way nothing is left marked
        with contextlib.suppress(NotFoundError):
            self.store.commit(tx, None)

    def delete(self, dataset_id: str) -> None:
        """The item and the kind's counter -1, audited `dataset.delete` (404 when already gone)."""
        self.store.delete(kinds.DATASET, dataset_id, Change("dataset.delete", dataset_sk(dataset_id)))


def _refusal(dataset_id: str, expected: int | None) -> Refusal:
    def refusal(old: dict[str, Any] | None) -> Exception:
        if old is None or "deletingAt" in old:
            return not_found(dataset_id)
        current = int(old.get("version") or 0)
        if expected is not None and current != expected:
            return StaleVersionError(
                f"dataset {dataset_id} is at version {current}, not {expected}",
                {"currentVersion": current, "expectedVersion": expected},
            )
        return StateChanged(old)

    return refusal


class StateChanged(Exception):
    """The dataset was not in the state the write's own `condition` asked for (`item`: as it was)."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__(item.get("datasetId"))
        self.item = item
