"""Keys both tables share: ids are checked once here, and a tenant's partition is `TENANT#<id>`."""

from __future__ import annotations

import re

TENANT_ENTITY = "TENANT"
# An id: what a key may hold between its `#` separators (and what every API's path declares).
ID_PATTERN = r"^[A-Za-z0-9_.:@+-]+$"
ID_MAX_LENGTH = 128
_ID = re.compile(ID_PATTERN)


def checked_id(value: str, field: str = "id") -> str:
    """Refuse an id that is empty, holds `#` (our key separator) or anything outside a safe set."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} must be a non-empty string")
    if "#" in value:
        raise ValueError(f"{field} must not contain '#'")
    if not _ID.fullmatch(value) or len(value) > ID_MAX_LENGTH:
        raise ValueError(f"{field} holds characters outside [A-Za-z0-9_.:@+-] or is longer than 128")
    return value


def tenant_pk(tenant_id: str) -> str:
    return f"{TENANT_ENTITY}#{checked_id(tenant_id, 'tenantId')}"


def tenant_id_from_pk(pk: str) -> str:
    prefix, _, tenant_id = pk.partition("#")
    if prefix != TENANT_ENTITY or not tenant_id:
        raise ValueError(f"not a tenant key: {pk!r}")
    return tenant_id
