"""Keys of the control table: the only place that knows how they are spelled."""

from __future__ import annotations

from tenancy.common.keys import checked_id, tenant_pk

METADATA = "METADATA"
SLUG_SK = "SLUG"


def slug_pk(slug: str) -> str:
    return f"SLUG#{checked_id(slug, 'slug')}"


def tenant_key(tenant_id: str) -> dict[str, str]:
    return {"PK": tenant_pk(tenant_id), "SK": METADATA}


def slug_key(slug: str) -> dict[str, str]:
    return {"PK": slug_pk(slug), "SK": SLUG_SK}


def created_sort_key(created_at: str, tenant_id: str) -> str:
    """Index sort key: creation time, then id to keep keys unique."""
    return f"{created_at}#{checked_id(tenant_id, 'tenantId')}"


def status_index_pk(status: str) -> str:
    return f"STATUS#{status}"
