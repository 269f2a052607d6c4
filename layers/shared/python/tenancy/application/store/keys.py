"""Keys of the application table (partition `PK=TENANT#<tenantId>`): the only place they are spelled."""

from __future__ import annotations

from tenancy.common.keys import checked_id

# `SK=PARTITION`: the marker of an open partition. The provisioner writes it before anything else of
# the tenant's and offboarding deletes it first; every tenant write requires it, so a request that
# still holds a cached authorization cannot write into a partition that is being or was purged.
PARTITION = "PARTITION"
USER = "USER"
AGENT = "AGENT"
EXECUTION = "EXEC"
AUDIT = "AUDIT"
EMAIL = "EMAIL"
# `SK=SECRET#<name>`: a tenant secret's metadata (never its value, which lives in Secrets Manager).
SECRET = "SECRET"  # noqa: S105 (a key prefix, not a password)
# `SK=COUNT#<kind>`: how many items of a counted kind the tenant holds (`n`), kept in the same
# transaction as each create and delete of that kind, so a plan's count limit holds under races.
COUNT = "COUNT"


def item_sk(kind: str, item_id: str) -> str:
    """`USER#<id>`, `AGENT#<id>`, `EXEC#<id>`: one entity of a tenant."""
    return f"{kind}#{checked_id(item_id, f'{kind.lower()}Id')}"


def unique_sk(marker: str, value: str) -> str:
    """The marker item holding a value unique within the tenant (`EMAIL#<email>`)."""
    return f"{marker}#{value}"


def count_sk(kind: str) -> str:
    """The counter item of a counted kind (`COUNT#USER`, `COUNT#AGENT`)."""
    return f"{COUNT}#{kind}"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def audit_sk(timestamp: str, audit_id: str) -> str:
    return f"{AUDIT}#{timestamp}#{audit_id}"


def user_tenants_pk(user_id: str) -> str:
    """GSI2 partition: a user's memberships (`GSI2PK=USER#<userId>`, `GSI2SK=TENANT#<tenantId>`)."""
    return f"{USER}#{checked_id(user_id, 'userId')}"
