"""EventBridge events as the consumers receive them: the envelope around each contract's detail.

The envelope mirrors Powertools' EventBridgeModel. It is defined here because importing the
Powertools parser package (through pydantic's network types and importlib.metadata) costs about
20 ms of every consumer's cold start, and a consumer needs nothing from it but this model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tenancy.models.events import TenantDeprovisionedDetail, TenantLifecycleDetail, TenantProvisionedDetail


class EventBridgeEnvelope(BaseModel):
    version: str
    id: str
    source: str
    account: str
    time: datetime
    region: str
    resources: list[str]
    replay_name: str | None = Field(None, alias="replay-name")


class TenantLifecycleEvent(EventBridgeEnvelope):
    detail_type: Literal["TenantOnboarding", "TenantOffboarding"] = Field(alias="detail-type")
    detail: TenantLifecycleDetail


class TenantProvisionedEvent(EventBridgeEnvelope):
    detail_type: Literal["TenantProvisioned"] = Field(alias="detail-type")
    detail: TenantProvisionedDetail


class TenantDeprovisionedEvent(EventBridgeEnvelope):
    detail_type: Literal["TenantDeprovisioned"] = Field(alias="detail-type")
    detail: TenantDeprovisionedDetail
