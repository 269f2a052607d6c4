"""The one registry of what a tenant's partition holds: each entity kind's sort-key prefix, id
attribute, audit name and uniqueness markers. The engine and the typed repositories read it; no
handler or service spells a kind."""

from __future__ import annotations

from dataclasses import dataclass

from tenancy.application.store import keys


@dataclass(frozen=True)
class Unique:
    """An attribute unique within the tenant, held by a marker item written in the same transaction
    (`<marker>#<value>` naming its owner)."""

    attribute: str
    marker: str
    code: str  # the error code of a taken value


@dataclass(frozen=True)
class Kind:
    prefix: str  # `SK=<prefix>#<id>`, and `GSI1PK` (by type)
    id_attribute: str
    audit_name: str  # audit actions are `<audit_name>.<verb>`
    label: str  # how messages name it ("user 42 not found")
    unique: Unique | None = None


USER = Kind(keys.USER, "userId", "user", "user", Unique("email", keys.EMAIL, "EMAIL_TAKEN"))
AGENT = Kind(keys.AGENT, "agentId", "agent", "agent")
EXECUTION = Kind(keys.EXECUTION, "executionId", "execution", "execution")

KINDS: dict[str, Kind] = {kind.prefix: kind for kind in (USER, AGENT, EXECUTION)}
