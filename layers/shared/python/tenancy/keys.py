"""Key builders for both tables: the only place that knows how keys are spelled."""

from __future__ import annotations

import re

METADATA = "METADATA"
SLUG_SK = "SLUG"
TENANT_ENTITY = "TENANT"

_ID = re.compile(r"^[A-Za-z0-9_.:@+-]{1,128}$")


def checked_id(value: str, field: str = "id") -> str:
    """Refuse an id that is empty, holds `#` (our key separator) or anything outside a safe set."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} must be a non-empty string")
    if "#" in value:
        raise ValueError(f"{field} must not contain '#'")
    if not _ID.match(value):
        raise ValueError(f"{field} holds characters outside [A-Za-z0-9_.:@+-] or is longer than 128")
    return value


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{checked_id(tenant_id, 'tenantId')}"


def tenant_id_from_pk(pk: str) -> str:
    prefix, _, tenant_id = pk.partition("#")
    if prefix != TENANT_ENTITY or not tenant_id:
        raise ValueError(f"not a tenant key: {pk!r}")
    return tenant_id


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


# --- application table (partition PK=TENANT#<tenantId>) -----------------------------------------

# `SK=PARTITION`: the marker of an open partition. The provisioner writes it before anything else of
# the tenant's and offboarding deletes it first; every tenant write requires it, so a request that
# still holds a cached authorization cannot write into a partition that is being or was purged.
PARTITION = "PARTITION"
USER = "USER"
AGENT = "AGENT"
EXECUTION = "EXEC"
AUDIT = "AUDIT"
EMAIL = "EMAIL"


def item_sk(kind: str, item_id: str) -> str:
    """`USER#<id>`, `AGENT#<id>`, `EXEC#<id>`: one entity of a tenant."""
    return f"{kind}#{checked_id(item_id, f'{kind.lower()}Id')}"


def email_sk(email: str) -> str:
    """The uniqueness marker of an email within a tenant (normalised: trimmed, lower-case)."""
    return f"{EMAIL}#{normalise_email(email)}"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def audit_sk(timestamp: str, audit_id: str) -> str:
    return f"{AUDIT}#{timestamp}#{audit_id}"


def user_tenants_pk(user_id: str) -> str:
    """GSI2 partition: a user's memberships (`GSI2PK=USER#<userId>`, `GSI2SK=TENANT#<tenantId>`)."""
    return f"{USER}#{checked_id(user_id, 'userId')}"
