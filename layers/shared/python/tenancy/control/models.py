"""The tenant, its lifecycle state machine (docs/architecture.md "Status machine") and the control API's request bodies."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from tenancy.common.fields import NAME_PATTERN, Email, Request, Version, View, changes_and_version
from tenancy.contracts.plans import FlagValues, LimitValues, Overrides
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


def _stored_overrides(value: Any) -> dict[str, Any]:
    """The overrides as JSON holds them (numbers read from DynamoDB arrive as Decimal)."""
    return Overrides.from_stored(value).stored()


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
    # The tenant's own overrides of its plan's limits and flags (tenancy.contracts.plans.Overrides,
    # stored form: only the values it overrides).
    overrides: Annotated[dict[str, Any], BeforeValidator(_stored_overrides)] = Field(default_factory=dict)
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
    """Name, tier or both. A tier change is a plan change; one that would move the tenant between
    pool and silo (to or from ENTERPRISE) is refused with 409 `ISOLATION_CHANGE_UNSUPPORTED`."""

    # A field left out is unchanged; null is not a value here (refused with 422, as documented).
    model_config = ConfigDict(json_schema_extra=changes_and_version)

    name: TenantName | SkipJsonSchema[None] = None
    tier: Tier | SkipJsonSchema[None] = None
    version: Version = Field(description="the version you read; a stale one is refused with 409")

    @field_validator("name", "tier", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("must not be null (leave the field out to keep its value)")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateTenantRequest:
        if self.name is None and self.tier is None:
            raise ValueError("give name, tier or both")
        return self


class ReplaceConfigRequest(Request):
    """PUT: the tenant's overrides become exactly these (an empty body of limits and flags removes
    them all)."""

    limits: LimitValues = Field(default_factory=LimitValues)
    flags: FlagValues = Field(default_factory=FlagValues)
    version: Version = Field(description="the tenant's version you read; a stale one is refused with 409")


class PatchConfigRequest(Request):
    """PATCH (JSON merge patch): a value sets that override, `null` removes it, a name left out
    stays as it is."""

    limits: LimitValues = Field(default_factory=LimitValues)
    flags: FlagValues = Field(default_factory=FlagValues)
    version: Version = Field(description="the tenant's version you read; a stale one is refused with 409")

    def changes(self) -> tuple[dict[str, int | None], dict[str, bool | None]]:
        """The limits and flags this patch names (`None`: remove that override)."""
        return self.limits.model_dump(exclude_unset=True), self.flags.model_dump(exclude_unset=True)


class TenantConfig(View):
    """A tenant's effective configuration: each limit and flag with where it came from."""

    tenantId: str
    tier: Tier
    version: int
    limits: dict[str, dict[str, Any]]
    flags: dict[str, dict[str, Any]]
    overrides: dict[str, Any]


# The views the control API answers with, by the name its routes document them under.
VIEWS: dict[str, type[BaseModel]] = {"Tenant": Tenant, "TenantConfig": TenantConfig}
