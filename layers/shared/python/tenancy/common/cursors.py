"""Opaque pagination cursors, bound to the scope (tenant or query) that received them."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from tenancy.common.errors import InvalidRequestError


def encode_cursor(key: dict[str, Any], scope: str) -> str:
    payload = json.dumps({"k": key, "s": scope}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(
    token: str,
    scope: str,
    key_names: frozenset[str],
    pinned: Mapping[str, str] | None = None,
    prefixed: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The start key inside `token`; a cursor that is malformed or issued for another scope is refused,
    and so is one whose key leaves the query's partition (`pinned`: a hand-made cursor naming another
    tenant's key would otherwise reach DynamoDB, which refuses a start key outside the key condition)."""
    invalid = InvalidRequestError("cursor is invalid", [{"field": "cursor", "message": "cursor is invalid"}])
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise invalid from None
    if not isinstance(payload, dict) or not isinstance(payload.get("k"), dict):
        raise invalid
    key = payload["k"]
    if set(key) != key_names or not all(isinstance(value, str) for value in key.values()):
        raise invalid
    if any(key.get(name) != value for name, value in (pinned or {}).items()):
        raise invalid
    if any(not str(key.get(name)).startswith(value) for name, value in (prefixed or {}).items()):
        raise invalid  # a start key outside the query's `begins_with` range
    if payload.get("s") != scope:
        raise InvalidRequestError(
            "cursor was issued for another query",
            [{"field": "cursor", "message": "cursor does not belong to this query"}],
        )
    return dict(key)
