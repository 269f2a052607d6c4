"""The tenant-bound store: every read and write of one tenant's partition of the app table.

It is constructed for one tenant (from the verified token, never from a request body or path) and
builds every key itself, so no call can name another tenant's partition. Every write carries a
condition pinning `PK = TENANT#<tenantId>` (or `attribute_not_exists(PK)` for a new item) and its
audit item, in one transaction. Transactions carry an idempotency token, and an email marker names
its owner, so a retried write that committed the first time is reported as the success it was.

A counted kind (`Kind.limit`) has a counter item `COUNT#<prefix>` updated in the same transaction as
each create (`+1`, refused at the plan's limit) and delete (`-1`), so racing creates cannot pass the
limit. A counter that does not exist yet (a tenant whose items predate counting) is seeded with the
number of items the partition holds, then the write is tried again. A metered kind (`Kind.metered`)
adds one to that counter of the day's usage item (usage table) in the create's transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tenancy.application.store import keys
from tenancy.application.store.kinds import KINDS, Kind
from tenancy.application.store.transaction import MAX_ITEMS, RESERVED, Transaction
from tenancy.common.dynamo import (
    Page,
    cancellation_reasons,
    cancelled_attribute,
    cancelled_number,
    from_item,
    is_condition_failure,
    query_page,
    to_item,
    to_value,
    transact_write,
    update_expression,
)
from tenancy.common.errors import (
    ConflictError,
    LimitReachedError,
    NotFoundError,
    StaleVersionError,
    TenantInactiveError,
)
from tenancy.common.keys import tenant_pk
from tenancy.common.timestamps import now_iso
from tenancy.contracts import usage
from tenancy.contracts.plans import Limit

_KEY_ATTRIBUTES = ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")
_KEY_NAMES = frozenset({"PK", "SK"})
_COUNT = "n"  # the counter item's attribute
_BATCH_WRITE = 25  # BatchWriteItem's limit
_BATCH_ATTEMPTS = 8
_CONFLICT_ATTEMPTS = 4


def _backoff(attempt: int) -> float:
    return float(min(0.05 * 2**attempt, 1.0))


def _cancelled_item(error: Exception, index: int) -> dict[str, Any] | None:
    """The item (`ALL_OLD`) whose condition failed at `index` of a cancelled transaction, as plain values."""
    reasons = getattr(error, "response", {}).get("CancellationReasons") or []
    item = reasons[index].get("Item") if index < len(reasons) else None
    return _view(item) if item else None


class ValueTakenError(ConflictError):
    """A value unique within the tenant (a user's email) is held by another item."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message, details)
        self.code = code


@dataclass(frozen=True)
class Actor:
    """Who is acting, for the audit trail."""

    user_id: str
    trace_id: str


@dataclass(frozen=True)
class Change:
    """An audit record of one mutation: `action` on `resource` (`AGENT#<id>`, ...)."""

    action: str
    resource: str


class _CounterMissing(Exception):
    """The counter of a counted kind does not exist yet: seed it, then write again."""


class TenantStore:
    def __init__(
        self, client: Any, table_name: str, tenant_id: str, actor: Actor, *, usage_table: str | None = None
    ) -> None:
        """`usage_table`: where metered creates are counted (none: they are not, e.g. the provisioner)."""
        self._client = client
        self._table = table_name
        self.tenant_id = tenant_id
        self._pk = tenant_pk(tenant_id)
        self._actor = actor
        self._usage_table = usage_table

    # --- the partition ---------------------------------------------------------------------

    def open_partition(self, counted: tuple[Kind, ...] = ()) -> None:
        """Write the marker every tenant write requires, and a zero counter of each `counted` kind
        (idempotent: what exists is left as it is); the provisioner does, first."""
        opened = now_iso()
        items = [{**self._key(keys.PARTITION, typed=False), "openedAt": opened}]
        items += [{**self._key(keys.count_sk(kind.prefix), typed=False), _COUNT: 0} for kind in counted]
        for item in items:
            try:
                self._client.put_item(
                    TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(PK)"
                )
            except ClientError as error:
                if not is_condition_failure(error):
                    raise

    def counts(self) -> dict[Limit, int]:
        """How many items of each counted kind the tenant holds, by the limit that caps the kind
        (one query; a kind whose counter does not exist yet is left out)."""
        response = self._call(
            "query",
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :count)",
            ExpressionAttributeValues={":pk": to_value(self._pk), ":count": to_value(f"{keys.COUNT}#")},
            ConsistentRead=True,
        )
        counted = {kind.prefix: kind.limit for kind in KINDS.values() if kind.limit is not None}
        held = {}
        for item in map(from_item, response.get("Items", [])):
            prefix = str(item["SK"]).removeprefix(f"{keys.COUNT}#")
            if prefix in counted:
                held[counted[prefix]] = int(item[_COUNT])
        return held

    # --- reads -------------------------------------------------------------------------------

    def get(self, kind: Kind, item_id: str) -> dict[str, Any]:
        response = self._call(
            "get_item",
            TableName=self._table,
            Key=self._key(keys.item_sk(kind.prefix, item_id)),
            ConsistentRead=True,
        )
        if "Item" not in response:
            raise NotFoundError(f"{kind.label} {item_id} not found")
        return _view(response["Item"])

    def list_items(
        self, kind: Kind, *, limit: int, cursor: str | None, where: dict[str, str] | None = None
    ) -> Page[dict[str, Any]]:
        """Items of one kind in id order; `where` filters on attribute equality."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :kind)",
            "ExpressionAttributeValues": {":pk": to_value(self._pk), ":kind": to_value(f"{kind.prefix}#")},
            "ConsistentRead": True,
        }
        filters = sorted((where or {}).items())
        if filters:
            query["ExpressionAttributeNames"] = {f"#f{i}": name for i, (name, _) in enumerate(filters)}
            query["FilterExpression"] = " AND ".join(f"#f{i} = :f{i}" for i in range(len(filters)))
            query["ExpressionAttributeValues"].update(
                {f":f{i}": to_value(v) for i, (_, v) in enumerate(filters)}
            )
        scope = f"{self.tenant_id}|{kind.prefix}|{filters}"
        return self._page(query, scope, limit, cursor)

    def audit_trail(self, start: str, end: str, *, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
        """Audit items with timestamps in [start, end] (ISO-8601), oldest first."""
        query = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": to_value(self._pk),
                ":from": to_value(f"{keys.AUDIT}#{start}"),
                ":to": to_value(f"{keys.AUDIT}#{end}\uffff"),
            },
            "ConsistentRead": True,
        }
        scope = f"{self.tenant_id}|audit|{start}|{end}"
        return self._page(query, scope, limit, cursor)

    def get_item(self, sk: str) -> dict[str, Any] | None:
        """The item at `sk` (consistent), as the API shows it; None when there is none."""
        response = self._call("get_item", TableName=self._table, Key=self._key(sk), ConsistentRead=True)
        return _view(response["Item"]) if "Item" in response else None

    def get_items(self, sks: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The items at `sks` that exist, by sort key: consistent BatchGetItem, one call per 100 keys
        (and one more for any keys DynamoDB leaves unprocessed)."""
        wanted = list(dict.fromkeys(sks))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), MAX_ITEMS):
            keys_ = [self._key(sk) for sk in wanted[start : start + MAX_ITEMS]]
            request = {self._table: {"Keys": keys_, "ConsistentRead": True}}
            for attempt in range(_BATCH_ATTEMPTS):
                response = self._call("batch_get_item", RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    found[item["SK"]["S"]] = _view(item)
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(_backoff(attempt))
            else:
                raise RuntimeError(f"BatchGetItem left keys unprocessed after {_BATCH_ATTEMPTS} attempts")
        return found

    def query(
        self, prefix: str, *, limit: int, cursor: str | None, newest_first: bool = False, scope: str = ""
    ) -> Page[dict[str, Any]]:
        """One page of the items whose sort key begins with `prefix`, in sort-key order (reversed with
        `newest_first`); the cursor is bound to this prefix, `scope` and this partition."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": to_value(self._pk), ":prefix": to_value(prefix)},
            "ConsistentRead": True,
            "ScanIndexForward": not newest_first,
        }
        return self._page(query, f"{self.tenant_id}|{prefix}|{newest_first}|{scope}", limit, cursor, prefix)

    def query_items(
        self, prefix: str, *, after: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The items whose sort key begins with `prefix` (and sorts after `after`), in sort-key order,
        at most `limit` of them (None: all): for bounded reads, never for an API's page."""
        values = {":pk": self._pk, ":from": after or prefix, ":to": f"{prefix}\uffff"}
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :to",
            "ExpressionAttributeValues": to_item(values),
            "ConsistentRead": True,
        }
        found: list[dict[str, Any]] = []
        while limit is None or len(found) < limit:
            if limit is not None:
                query["Limit"] = limit - len(found) + (1 if after else 0)
            response = self._call("query", **query)
            found += [item for item in response.get("Items", []) if item["SK"]["S"] != after]
            if "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return [_view(item) | {"SK": item["SK"]["S"]} for item in found[:limit]]

    def _page(
        self, query: dict[str, Any], scope: str, limit: int, cursor: str | None, prefix: str | None = None
    ) -> Page[dict[str, Any]]:
        """One page of this partition's items; the cursor is bound to `scope` and to this partition."""
        with self._inactive_if_gone():
            raw, next_cursor = query_page(
                self._client,
                query,
                limit=limit,
                cursor=cursor,
                scope=scope,
                key_names=_KEY_NAMES,
                pinned={"PK": self._pk},
                prefixed={"SK": prefix} if prefix else None,
            )
        return Page([_view(item) for item in raw], next_cursor)

    # --- writes ------------------------------------------------------------------------------

    def create(
        self,
        kind: Kind,
        item_id: str,
        attributes: dict[str, Any],
        change: Change,
        *,
        unique_value: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """A new item; with `unique_value`, the marker of the kind's unique attribute too. A counted
        kind's counter goes up by one in the same transaction, refused (`LimitReachedError`, nothing
        written) when it is already at `limit` (None: counted, never refused)."""
        try:
            return self._create(kind, item_id, attributes, change, unique_value, limit)
        except _CounterMissing:
            self._seed_counter(kind)
            return self._create(kind, item_id, attributes, change, unique_value, limit)

    def _create(
        self,
        kind: Kind,
        item_id: str,
        attributes: dict[str, Any],
        change: Change,
        unique_value: str | None,
        limit: int | None,
    ) -> dict[str, Any]:
        now = now_iso()
        unique = kind.unique if unique_value is not None else None
        item = {
            **self._key(keys.item_sk(kind.prefix, item_id), typed=False),
            "GSI1PK": kind.prefix,
            "GSI1SK": now,
            **attributes,
            "version": 1,
            "createdAt": now,
            "updatedAt": now,
        }
        writes = [self._put(item)]
        if unique is not None and unique_value is not None:
            marker = self._put(self._unique_marker(keys.unique_sk(unique.marker, unique_value), item_id, now))
            marker["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            writes.append(marker)
        counter_at = len(writes)
        if kind.limit is not None:
            writes.append(self._count(kind, +1, limit))
        if kind.metered is not None and self._usage_table is not None:
            writes.append(self._meter(kind.metered))
        try:
            self._transact(writes, change, now)
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if unique is not None and reasons[1:2] == ["ConditionalCheckFailed"]:
                if cancelled_attribute(error, 1, "ownerId") == item_id:
                    return _view(to_item(item))  # this very create committed on an earlier attempt
                raise ValueTakenError(
                    unique.code,
                    f"{unique_value} is already a {kind.label} of this tenant",
                    [{"field": unique.attribute, "message": "already in use in this tenant"}],
                ) from None
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise ConflictError(f"{kind.label} {item_id} already exists") from None
            if kind.limit is not None and reasons[counter_at : counter_at + 1] == ["ConditionalCheckFailed"]:
                current = cancelled_number(error, counter_at, _COUNT)
                if current is None:
                    raise _CounterMissing from None
                raise LimitReachedError(
                    f"the tenant has {current} {kind.label}s, the most its plan allows ({kind.limit}: {limit})",
                    {"limit": str(kind.limit), "maximum": limit, "current": current},
                ) from None
            raise
        return _view(to_item(item))

    def update(
        self,
        kind: Kind,
        item_id: str,
        changes: dict[str, Any],
        expected_version: int | None,
        change: Change,
        *,
        only_if: tuple[str, dict[str, str], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Apply `changes` if the item is at `expected_version` (when given) and `only_if`
        (expression, attribute names, values) holds."""
        now = now_iso()
        assignment = update_expression(changes, raw=["version = version + :one", "updatedAt = :now"])
        names = dict(assignment.names)
        values: dict[str, Any] = {**assignment.values, ":pk": self._pk, ":one": 1, ":now": now}
        condition = "PK = :pk"
        if expected_version is not None:
            condition += " AND version = :expected"
            values[":expected"] = expected_version
        if only_if is not None:
            expression, extra_names, extra_values = only_if
            condition += f" AND ({expression})"
            names.update(extra_names)
            values.update(extra_values)
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(keys.item_sk(kind.prefix, item_id)),
            "UpdateExpression": assignment.expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
        }
        if names:
            request["ExpressionAttributeNames"] = names
        update = {"Update": request}
        try:
            self._transact([update], change, now)
        except ClientError as error:
            if cancellation_reasons(error)[:1] != ["ConditionalCheckFailed"]:
                raise
            current = self.get(kind, item_id)  # raises NotFoundError when it is gone
            if expected_version is not None and current["version"] != expected_version:
                raise StaleVersionError(
                    f"{kind.label} {item_id} is at version {current['version']}, not {expected_version}",
                    {"currentVersion": current["version"], "expectedVersion": expected_version},
                ) from None
            raise ConflictError(
                f"{kind.label} {item_id} cannot change that way now", {"current": current}
            ) from None
        return self.get(kind, item_id)

    def delete(self, kind: Kind, item_id: str, change: Change, *, release_value: str | None = None) -> None:
        """Delete the item; with `release_value`, the marker of its unique value (it must be its owner).
        A counted kind's counter goes down by one in the same transaction."""
        try:
            self._delete(kind, item_id, change, release_value)
        except _CounterMissing:
            self._seed_counter(kind)
            self._delete(kind, item_id, change, release_value)

    def _delete(self, kind: Kind, item_id: str, change: Change, release_value: str | None) -> None:
        now = now_iso()
        writes = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": self._key(keys.item_sk(kind.prefix, item_id)),
                    "ConditionExpression": "PK = :pk",
                    "ExpressionAttributeValues": {":pk": to_value(self._pk)},
                }
            }
        ]
        if kind.unique is not None and release_value is not None:
            writes.append(
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": self._key(keys.unique_sk(kind.unique.marker, release_value)),
                        "ConditionExpression": "PK = :pk AND ownerId = :owner",
                        "ExpressionAttributeValues": to_item({":pk": self._pk, ":owner": item_id}),
                    }
                }
            )
        counter_at = len(writes)
        if kind.limit is not None:
            writes.append(self._count(kind, -1, None))
        try:
            self._transact(writes, change, now)
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise NotFoundError(f"{kind.label} {item_id} not found") from None
            if kind.limit is not None and reasons[counter_at : counter_at + 1] == ["ConditionalCheckFailed"]:
                raise _CounterMissing from None
            raise

    def commit(self, transaction: Transaction, change: Change | None) -> None:
        """Every write of `transaction`, its audit item (`change`; None: the cleanup of a mutation
        already audited) and the open-partition check, all or nothing. A refused condition raises
        its write's `on_fail` (given the item as it was) or a ConflictError; a cancellation by a
        concurrent transaction on the same items is tried again (a few times, with backoff)."""
        if len(transaction) + RESERVED > MAX_ITEMS:
            raise ValueError(f"a transaction of {len(transaction)} writes is over DynamoDB's {MAX_ITEMS}")
        writes = [self._write(write.operation, write.sk, write.request) for write in transaction.writes]
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                if change is None:
                    with self._inactive_if_gone():
                        transact_write(self._client, [*writes, self._partition_open()])
                else:
                    self._transact(writes, change, now_iso())
                return
            except ClientError as error:
                reasons = cancellation_reasons(error)
                for index, reason in enumerate(reasons[: len(writes)]):
                    if reason == "ConditionalCheckFailed":
                        failed = transaction.writes[index]
                        old = _cancelled_item(error, index)
                        if failed.on_fail is not None:
                            raise failed.on_fail(old) from None
                        raise ConflictError(
                            f"{failed.sk.split('#')[0].lower()} cannot change that way now"
                        ) from None
                if reasons[-1:] == ["ConditionalCheckFailed"]:
                    raise self._inactive() from None
                if "TransactionConflict" not in reasons or attempt == _CONFLICT_ATTEMPTS - 1:
                    raise
                time.sleep(_backoff(attempt))

    def delete_items(self, sks: Iterable[str]) -> None:
        """Delete the items at `sks` whether or not they exist (BatchWriteItem, 25 per call): the
        cleanup of a mutation already committed and audited (a deleted dashboard's shares)."""
        wanted = list(dict.fromkeys(sks))
        for start in range(0, len(wanted), _BATCH_WRITE):
            request = {
                self._table: [
                    {"DeleteRequest": {"Key": self._key(sk)}} for sk in wanted[start : start + _BATCH_WRITE]
                ]
            }
            for attempt in range(_BATCH_ATTEMPTS):
                response = self._call("batch_write_item", RequestItems=request)
                request = response.get("UnprocessedItems") or {}
                if not request:
                    break
                time.sleep(_backoff(attempt))
            else:
                raise RuntimeError(f"BatchWriteItem left items unprocessed after {_BATCH_ATTEMPTS} attempts")

    # --- helpers -----------------------------------------------------------------------------

    def _write(self, operation: str, sk: str, request: dict[str, Any]) -> dict[str, Any]:
        """One write of a transaction as DynamoDB takes it: this partition's key, typed values, the
        partition pinned in its condition, the old item returned when it is refused."""
        body: dict[str, Any] = {"TableName": self._table}
        if operation == "Put":
            body["Item"] = to_item({**request["Item"], **self._key(sk, typed=False)})
        else:
            body["Key"] = self._key(sk)
        if "UpdateExpression" in request:
            body["UpdateExpression"] = request["UpdateExpression"]
        if "ConditionExpression" in request:
            body["ConditionExpression"] = request["ConditionExpression"]
            body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        values = dict(request.get("ExpressionAttributeValues") or {})
        if ":pin" in body.get("ConditionExpression", ""):
            values[":pin"] = self._pk
        if values:
            body["ExpressionAttributeValues"] = to_item(values)
        if request.get("ExpressionAttributeNames"):
            body["ExpressionAttributeNames"] = request["ExpressionAttributeNames"]
        return {operation: body}

    def _key(self, sk: str, *, typed: bool = True) -> dict[str, Any]:
        key = {"PK": self._pk, "SK": sk}
        return to_item(key) if typed else key

    def _put(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(item),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def _count(self, kind: Kind, step: int, limit: int | None) -> dict[str, Any]:
        """The counter's change, on the condition that it exists (and, with `limit`, is below it);
        a refusal returns the counter (`ALL_OLD`), so the error says how many there are."""
        condition = "attribute_exists(#n)" + (" AND #n < :limit" if limit is not None else "")
        values = {":step": step, **({":limit": limit} if limit is not None else {})}
        return {
            "Update": {
                "TableName": self._table,
                "Key": self._key(keys.count_sk(kind.prefix)),
                "UpdateExpression": "ADD #n :step",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#n": _COUNT},
                "ExpressionAttributeValues": to_item(values),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _meter(self, counter: str) -> dict[str, Any]:
        """One more of `counter` on today's usage item (contracts.usage), kept `RETENTION_DAYS`."""
        day = usage.today()
        return {
            "Update": {
                "TableName": self._usage_table,
                "Key": to_item(usage.day_key(self.tenant_id, day)),
                "UpdateExpression": "ADD #c :one SET expiresAt = :expires",
                "ExpressionAttributeNames": {"#c": counter},
                "ExpressionAttributeValues": to_item({":one": 1, ":expires": usage.expires_at(day)}),
            }
        }

    def _seed_counter(self, kind: Kind) -> None:
        """A counter that does not exist yet starts at the number of items of the kind the partition
        holds (the tenant's items predate counting), if no concurrent write seeded it first, and
        only while the partition is open."""
        held = 0
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :kind)",
            "ExpressionAttributeValues": {":pk": to_value(self._pk), ":kind": to_value(f"{kind.prefix}#")},
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        while True:
            response = self._call("query", **query)
            held += int(response.get("Count", 0))
            if "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        counter = self._put({**self._key(keys.count_sk(kind.prefix), typed=False), _COUNT: held})
        try:
            with self._inactive_if_gone():
                transact_write(self._client, [counter, self._partition_open()])
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                raise self._inactive() from None
            if reasons[:1] != ["ConditionalCheckFailed"]:  # seeded by a concurrent write: fine
                raise

    def _partition_open(self) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": self._key(keys.PARTITION),
                "ConditionExpression": "attribute_exists(PK)",
            }
        }

    def _unique_marker(self, sk: str, owner_id: str, now: str) -> dict[str, Any]:
        return {**self._key(sk, typed=False), "ownerId": owner_id, "createdAt": now}

    def _call(self, operation: str, **request: Any) -> Any:
        with self._inactive_if_gone():
            return getattr(self._client, operation)(**request)

    @contextmanager
    def _inactive_if_gone(self) -> Iterator[None]:
        """A silo tenant's table is deleted with its stack: reaching it is a closed tenant, not a 500."""
        try:
            yield
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise self._inactive() from None
            raise

    def _inactive(self) -> TenantInactiveError:
        return TenantInactiveError(f"tenant {self.tenant_id} is not active")

    def _transact(self, writes: list[dict[str, Any]], change: Change, now: str) -> None:
        """The writes, their audit item and the open-partition check, all or nothing."""
        audit = {
            **self._key(keys.audit_sk(now, uuid.uuid4().hex), typed=False),
            "GSI1PK": keys.AUDIT,
            "GSI1SK": now,
            "action": change.action,
            "resource": change.resource,
            "actorUserId": self._actor.user_id,
            "traceId": self._actor.trace_id,
            "createdAt": now,
        }
        try:
            with self._inactive_if_gone():
                transact_write(self._client, [*writes, self._put(audit), self._partition_open()])
        except ClientError as error:
            if cancellation_reasons(error)[-1:] == ["ConditionalCheckFailed"]:
                raise self._inactive() from None
            raise


def _view(item: dict[str, Any]) -> dict[str, Any]:
    """An item as the API shows it: without keys, numbers as ints."""
    values = from_item(item)
    return {
        name: int(value) if name == "version" else value
        for name, value in values.items()
        if name not in _KEY_ATTRIBUTES
    }
