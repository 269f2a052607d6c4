"""What a tenant bought and where its data lives: both planes and the events speak of these."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    FREE = "FREE"
    PRO = "PRO"
    ENTERPRISE = "ENTERPRISE"


class Isolation(StrEnum):
    POOL = "pool"
    SILO = "silo"


def isolation_for(tier: Tier) -> Isolation:
    """ENTERPRISE tenants get dedicated (silo) resources; FREE and PRO share the pool."""
    return Isolation.SILO if tier is Tier.ENTERPRISE else Isolation.POOL
