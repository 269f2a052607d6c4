"""The tenant and its lifecycle state machine (docs/architecture.md "Status machine")."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Tier(StrEnum):
    FREE = "FREE"
    PRO = "PRO"
    ENTERPRISE = "ENTERPRISE"


class Isolation(StrEnum):
    POOL = "pool"
    SILO = "silo"


class Status(StrEnum):
    PENDING = "PENDING"
    PROVISIONING = "PROVISIONING"
    PROVISIONED = "PROVISIONED"
    FAILED = "FAILED"
    OFFBOARDING = "OFFBOARDING"
    DEPROVISIONING = "DEPROVISIONING"
    DEPROVISIONED = "DEPROVISIONED"


def isolation_for(tier: Tier) -> Isolation:
    """ENTERPRISE tenants get dedicated (silo) resources; FREE and PRO share the pool."""
    return Isolation.SILO if tier is Tier.ENTERPRISE else Isolation.POOL


# Every legal status change. DEPROVISIONING -> FAILED is how a failed offboarding surfaces
# (the tenant can then be offboarded again, FAILED -> OFFBOARDING).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.PROVISIONING}),
    Status.PROVISIONING: frozenset({Status.PROVISIONED, Status.FAILED}),
    Status.PROVISIONED: frozenset({Status.OFFBOARDING}),
    Status.FAILED: frozenset({Status.PENDING, Status.OFFBOARDING}),
    Status.OFFBOARDING: frozenset({Status.DEPROVISIONING}),
    Status.DEPROVISIONING: frozenset({Status.DEPROVISIONED, Status.FAILED}),
    Status.DEPROVISIONED: frozenset(),
}


def sources_of(target: Status) -> frozenset[Status]:
    """The statuses from which `target` may be entered."""
    return frozenset(source for source, targets in TRANSITIONS.items() if target in targets)


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


class TenantResources(BaseModel):
    """Where a provisioned tenant's data lives."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    s3_prefix: str | None = Field(None, alias="s3Prefix")
    dedicated_bucket: str | None = Field(None, alias="dedicatedBucket")
    dedicated_table: str | None = Field(None, alias="dedicatedTable")


class Tenant(BaseModel):
    """A tenant as stored in the control table (camelCase attributes)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    tenant_id: str = Field(alias="tenantId")
    name: str
    slug: str
    tier: Tier
    isolation: Isolation
    admin_email: str = Field(alias="adminEmail")
    status: Status = Field(alias="provisioningStatus")
    resources: TenantResources | None = None
    error: str | None = None
    # Set on entering PROVISIONING or DEPROVISIONING; the lifecycle events carry it and results
    # must echo it for the status to move.
    operation_id: str | None = Field(None, alias="operationId")
    version: int
    created_at: str = Field(alias="createdAt")
    updated_at: str = Field(alias="updatedAt")
