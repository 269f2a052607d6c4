"""The one registry of what a tenant's partition holds: each entity kind's sort-key prefix, id
attribute, audit name and uniqueness markers. The engine and the typed repositories read it; no
handler or service spells a kind."""

from __future__ import annotations

from dataclasses import dataclass

from tenancy.application.store import keys
from tenancy.contracts.plans import Limit


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
    # The plan limit that caps how many of this kind a tenant holds: the engine keeps a counter
    # (`COUNT#<prefix>`) in the same transaction as every create and delete of the kind.
    limit: Limit | None = None
    # The usage counter (contracts.usage, the day's item) each create adds one to, in the same
    # transaction as the create.
    metered: str | None = None


USER = Kind(
    keys.USER, "userId", "user", "user", Unique("email", keys.EMAIL, "EMAIL_TAKEN"), limit=Limit.USERS
)
AGENT = Kind(keys.AGENT, "agentId", "agent", "agent", limit=Limit.AGENTS)
EXECUTION = Kind(keys.EXECUTION, "executionId", "execution", "execution", metered="executions")

# The metadata of a tenant secret, keyed by its name (the value is in Secrets Manager).
SECRET = Kind(keys.SECRET, "name", "secret", "secret")

# The BI workspace: each has items besides its own (application/sharing/graph.py, store/keys.py).
GROUP = Kind(keys.GROUP, "groupId", "group", "group", Unique("name", keys.GROUP_NAME, "GROUP_NAME_TAKEN"))
DASHBOARD = Kind(keys.DASHBOARD, "dashboardId", "dashboard", "dashboard")
CARD = Kind(keys.CARD, "cardId", "card", "card")
# A tenant holds at most its plan's `datasets` (the engine counts them in every create and delete).
DATASET = Kind(keys.DATASET, "datasetId", "dataset", "dataset", limit=Limit.DATASETS)

KINDS: dict[str, Kind] = {
    kind.prefix: kind for kind in (USER, AGENT, EXECUTION, SECRET, GROUP, DASHBOARD, CARD, DATASET)
}
COUNTED: tuple[Kind, ...] = tuple(kind for kind in KINDS.values() if kind.limit is not None)
