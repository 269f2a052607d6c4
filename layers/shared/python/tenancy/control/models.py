"""The tenant, its lifecycle state machine (docs/architecture.md "Status machine") and the control API's request bodies."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tenancy.common.fields import NAME_PATTERN, Email, Request, Version
from tenancy.contracts.resources import ProvisionedResources
from tenancy.contracts.tiers import Isolation, Tier


class Status(StrEnum):
    PENDING = "PENDING"
    PROVISIONING = "PROVISIONING"
    PROVISIONED = "PROVISIONED"
    FAILED = "FAILED"
    OFFBOARDING = "OFFBOARDING"
    DEPROVISIONING = "DEPROVISIONING"
    DEPROVISIONED = "DEPROVISIONED"


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
    resources: ProvisionedResources | None = None  # as the provisioner reported them
    error: str | None = None
    # Set on entering PROVISIONING or DEPROVISIONING; the lifecycle events carry it and results
    # must echo it for the status to move.
    operation_id: str | None = Field(None, alias="operationId")
    version: int
    created_at: str = Field(alias="createdAt")
    updated_at: str = Field(alias="updatedAt")


SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$"
TenantName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NAME_PATTERN)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]


class CreateTenantRequest(Request):
    name: TenantName
    slug: Slug = Field(description="3-63 lowercase letters, digits and inner hyphens; unique")
    tier: Tier
    admin_email: Email = Field(alias="adminEmail")


class UpdateTenantRequest(Request):
    name: TenantName
    version: Version = Field(description="the version you read; a stale one is refused with 409")


# The views the control API answers with, by the name its routes document them under.
VIEWS: dict[str, type[BaseModel]] = {"Tenant": Tenant}
