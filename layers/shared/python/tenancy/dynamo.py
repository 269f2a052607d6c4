"""Conversions between DynamoDB's typed attribute values and plain Python values."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from tenancy.cursors import decode_cursor, encode_cursor

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def to_value(value: Any) -> dict[str, Any]:
    return dict(_serializer.serialize(value))


def is_condition_failure(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def query_page(
    client: Any,
    query: dict[str, Any],
    *,
    limit: int,
    cursor: str | None,
    scope: str,
    key_names: frozenset[str],
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of exactly `limit` items while more match (filters included), and an opaque cursor
    bound to `scope` that resumes after the last item returned."""
    query = {**query, "Limit": limit + 1}
    if cursor:
        query["ExclusiveStartKey"] = to_item(decode_cursor(cursor, scope, key_names))
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
