"""EventBridge envelopes the consumers parse: Powertools EventBridgeModel subclasses, validated with
`Model.model_validate(event)` (the parser's `parse` adds nothing for a model without an envelope)."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import Field

from tenancy.contracts.events import (
    TenantDeprovisionedDetail,
    TenantLifecycleDetail,
    TenantProvisionedDetail,
    TenantUpdatedDetail,
)


class TenantLifecycleEvent(EventBridgeModel):
    detail_type: Literal["TenantOnboarding", "TenantOffboarding"] = Field(alias="detail-type")
    detail: TenantLifecycleDetail


class TenantProvisionedEvent(EventBridgeModel):
    detail_type: Literal["TenantProvisioned"] = Field(alias="detail-type")
    detail: TenantProvisionedDetail


class TenantDeprovisionedEvent(EventBridgeModel):
    detail_type: Literal["TenantDeprovisioned"] = Field(alias="detail-type")
    detail: TenantDeprovisionedDetail


class TenantUpdatedEvent(EventBridgeModel):
    detail_type: Literal["TenantUpdated"] = Field(alias="detail-type")
    detail: TenantUpdatedDetail
