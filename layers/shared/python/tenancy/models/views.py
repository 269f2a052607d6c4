"""What the application API answers, as the OpenAPI documents declare it (`tenancy.openapi`).

The handlers build these shapes as plain dicts (app_store's views of the stored items); the models
exist for the documents only, so no handler imports them, and the e2e fuzzing run checks every
answer against them. The control plane answers `tenancy.models.domain.Tenant`. Fields may be added
(each view allows more properties), never renamed or removed.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tenancy.models.app import ExecutionStatus, Role
from tenancy.models.domain import Tier


class _View(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Versioned(_View):
    version: int = Field(ge=1, description="optimistic locking: send it back on PATCH")
    createdAt: str
    updatedAt: str


class User(_Versioned):
    userId: str
    email: str
    role: Role


class Me(User):
    tier: Tier


class Agent(_Versioned):
    agentId: str
    name: str
    description: str
    model: str


class Execution(_Versioned):
    executionId: str
    agentId: str
    status: ExecutionStatus
    traceId: str
    inputSummary: str = Field(description="the input as compact JSON, cut to 200 characters")
    error: str | None = None


class AuditEntry(_View):
    action: str = Field(description="e.g. agent.create, execution.running, user.delete")
    resource: str
    actorUserId: str
    traceId: str
    createdAt: str
