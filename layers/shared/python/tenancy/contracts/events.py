"""Event contracts (docs/architecture.md "Events"). Fields may be added, never renamed or removed."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from tenancy.contracts.resources import ProvisionedResources
from tenancy.contracts.tiers import Isolation, Tier


class ResultStatus(StrEnum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class _Detail(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    tenant_id: str
    timestamp: str
    # Added field (optional): the tenant's current lifecycle operation. Requests carry it and
    # results echo it back, so a late result of an earlier attempt never moves a newer one.
    operation_id: str | None = None


class TenantLifecycleDetail(_Detail):
    """Detail of TenantOnboarding and TenantOffboarding."""

    tenant_name: str
    tier: Tier
    slug: str
    # Added field (optional): TenantOnboarding carries the first admin's email.
    admin_email: str | None = None


class TenantProvisionedDetail(_Detail):
    status: ResultStatus
    resources: ProvisionedResources = Field(default_factory=ProvisionedResources)
    error: str | None = None


class TenantUpdatedDetail(_Detail):
    """Detail of TenantUpdated: published for every change of a tenant's name, tier, overrides or
    status, with the names of the fields that changed and the tenant's state after the change.
    Consumers order changes by `version` (a later version supersedes an earlier one)."""

    changed_fields: list[str]
    version: int
    tenant_name: str
    tier: Tier
    isolation: Isolation
    status: str
    overrides: dict[str, Any] = Field(default_factory=dict)  # tenancy.contracts.plans.Overrides, stored form
    error: str | None = None


class TenantDeprovisionedDetail(_Detail):
    status: ResultStatus
    error: str | None = None


def to_entry_detail(detail: BaseModel) -> str:
    """The JSON an event carries: camelCase, without unset optional fields."""
    return detail.model_dump_json(by_alias=True, exclude_none=True)
