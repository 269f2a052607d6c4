"""Conversions between DynamoDB's typed attribute values and plain Python values.

boto3's TypeSerializer/TypeDeserializer mapping for every type Tenancy stores (str and StrEnum,
int, bool, Decimal in DynamoDB's 38-digit context, None, maps, lists; floats refused), without
importing boto3: the functions use botocore directly, and boto3 with s3transfer costs tens of
milliseconds of cold start. Where it differs, it is stricter about what DynamoDB refuses anyway
(empty or mixed sets, infinities), and binary values come back as bytes, not boto3's Binary.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any, Generic, TypeVar

from tenancy.common.cursors import decode_cursor, encode_cursor

# DynamoDB numbers: 38 digits of precision, exponent -130..125; anything lossy is an error.
NUMBER_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """An item from plain values; None-valued attributes are left out."""
    return {name: to_value(value) for name, value in values.items() if value is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: from_value(value) for name, value in item.items()}


def to_value(value: Any) -> dict[str, Any]:
    """One attribute value: {"S": ...}, {"N": ...}, {"M": {...}} and so on."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {str(name): to_value(member) for name, member in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_value(member) for member in value]}
    if isinstance(value, set | frozenset):
        return _set(value)
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    raise TypeError(f"Unsupported type {type(value).__name__!r} for value {value!r}")


def from_value(value: Mapping[str, Any]) -> Any:
    (kind, raw), *rest = value.items()
    if rest:
        raise TypeError(f"an attribute value has exactly one type, got {sorted(value)}")
    if kind == "S" or kind == "B":
        return raw
    if kind == "N":
        return NUMBER_CONTEXT.create_decimal(raw)
    if kind == "BOOL":
        return raw
    if kind == "NULL":
        return None
    if kind == "M":
        return {name: from_value(member) for name, member in raw.items()}
    if kind == "L":
        return [from_value(member) for member in raw]
    if kind == "SS" or kind == "BS":
        return set(raw)
    if kind == "NS":
        return {NUMBER_CONTEXT.create_decimal(member) for member in raw}
    raise TypeError(f"Dynamodb type {kind} is not supported")


def _number(value: int | Decimal) -> str:
    number = str(NUMBER_CONTEXT.create_decimal(value))
    if number in ("Infinity", "-Infinity", "NaN", "sNaN"):
        raise TypeError("Infinity and NaN not supported")
    return number


def _set(values: set[Any] | frozenset[Any]) -> dict[str, Any]:
    members = list(values)
    if members and all(isinstance(m, str) for m in members):
        return {"SS": members}
    if members and all(isinstance(m, int | Decimal) and not isinstance(m, bool) for m in members):
        return {"NS": [_number(m) for m in members]}
    if members and all(isinstance(m, bytes | bytearray) for m in members):
        return {"BS": [bytes(m) for m in members]}
    raise TypeError(f"a set must be non-empty and of one type (str, number or bytes), got {values!r}")


def transact_write(client: Any, items: list[dict[str, Any]]) -> None:
    """TransactWriteItems, all or nothing, with an idempotency token (`ClientRequestToken`).

    botocore retries a request whose response was lost (a timeout, a dropped connection), and
    DynamoDB may have committed the first attempt: without the token the retry fails its own
    `attribute_not_exists` or version condition and a success is reported as a conflict. With it,
    DynamoDB answers the retry with success and writes nothing again (for ten minutes). botocore
    would fill a token in by itself; it is set here so the guarantee does not rest on that default.
    """
    client.transact_write_items(TransactItems=items, ClientRequestToken=str(uuid.uuid4()))


def _cancellations(error: Exception) -> list[dict[str, Any]]:
    """The per-item entries of a cancelled transaction ({Code, Message?, Item?}); [] for any other error."""
    response = getattr(error, "response", None) or {}
    if response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    return list(response.get("CancellationReasons") or [])


def cancellation_reasons(error: Exception) -> list[str | None]:
    """The per-item reasons of a cancelled transaction (`None` for an item that was fine); [] for
    any other error."""
    return [None if r.get("Code") in (None, "None") else r["Code"] for r in _cancellations(error)]


def cancelled_attribute(error: Exception, index: int, name: str) -> str | None:
    """A string attribute of the item that failed the condition of write `index` in a cancelled
    transaction (asked for with ReturnValuesOnConditionCheckFailure=ALL_OLD); None if absent."""
    reasons = _cancellations(error)
    item = reasons[index].get("Item", {}) if index < len(reasons) else {}
    value = item.get(name, {}).get("S")
    return str(value) if value is not None else None


def cancelled_number(error: Exception, index: int, name: str) -> int | None:
    """A number attribute of the item that failed the condition of write `index` in a cancelled
    transaction (ALL_OLD); None if the item or the attribute was absent."""
    reasons = _cancellations(error)
    item = reasons[index].get("Item", {}) if index < len(reasons) else {}
    value = item.get(name, {}).get("N")
    return int(value) if value is not None else None


def is_condition_failure(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the cursor of the next (None on the last)."""

    items: list[T]
    next_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


@dataclass(frozen=True)
class UpdateExpression:
    """`SET`/`REMOVE` of named attributes as one UpdateExpression, with placeholder names and values
    that cannot collide with a condition's (`#u<i>`/`:u<i>`, `#r<i>`)."""

    expression: str
    names: dict[str, str]
    values: dict[str, Any]


def update_expression(
    set_fields: Mapping[str, Any], *, raw: Iterable[str] = (), remove_fields: Iterable[str] = ()
) -> UpdateExpression:
    """`raw` are assignments written out by the caller (`version = version + :one`), kept in order
    after the named ones; their placeholders are the caller's."""
    names = {f"#u{i}": name for i, name in enumerate(set_fields)}
    values = {f":u{i}": value for i, value in enumerate(set_fields.values())}
    expression = "SET " + ", ".join([f"#u{i} = :u{i}" for i in range(len(names))] + list(raw))
    removals = {f"#r{i}": name for i, name in enumerate(remove_fields)}
    if removals:
        expression += " REMOVE " + ", ".join(removals)
    return UpdateExpression(expression, {**names, **removals}, values)


def all_items(client: Any, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item a query matches, page after page (for sweeps, never for an API's listing)."""
    query = dict(query)
    while True:
        response = client.query(**query)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def query_page(
    client: Any,
    query: dict[str, Any],
    *,
    limit: int,
    cursor: str | None,
    scope: str,
    key_names: frozenset[str],
    pinned: Mapping[str, str] | None = None,
    prefixed: Mapping[str, str] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of exactly `limit` items while more match (filters included), and an opaque cursor
    bound to `scope` that resumes after the last item returned (`pinned`: key values the cursor must
    hold; `prefixed`: key prefixes it must start with)."""
    query = {**query, "Limit": limit + 1}
    if cursor:
        query["ExclusiveStartKey"] = to_item(decode_cursor(cursor, scope, key_names, pinned, prefixed))
    raw: list[dict[str, Any]] = []
    while len(raw) <= limit:
        response = client.query(**query)
        raw += response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            break
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    if len(raw) <= limit:
        return raw, None
    raw = raw[:limit]
    last = from_item(raw[-1])
    return raw, encode_cursor({name: last[name] for name in key_names}, scope)
