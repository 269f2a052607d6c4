"""Request bodies of the application-plane API (tenant-scoped)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tenancy.models.api import Email


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class ExecutionStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


EXECUTION_TRANSITIONS: dict[ExecutionStatus, frozenset[ExecutionStatus]] = {
    ExecutionStatus.QUEUED: frozenset({ExecutionStatus.RUNNING}),
    ExecutionStatus.RUNNING: frozenset({ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED}),
    ExecutionStatus.SUCCEEDED: frozenset(),
    ExecutionStatus.FAILED: frozenset(),
}

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CreateUserRequest(_Request):
    email: Email
    role: Role = Role.MEMBER


class UpdateUserRequest(_Request):
    role: Role
    version: int = Field(ge=1)


class CreateAgentRequest(_Request):
    name: Name
    description: Description = ""
    model: Annotated[str, StringConstraints(max_length=100)] = "default"


class UpdateAgentRequest(_Request):
    name: Name | None = None
    description: Description | None = None
    model: Annotated[str, StringConstraints(max_length=100)] | None = None
    version: int = Field(ge=1)


class StartExecutionRequest(_Request):
    input: dict[str, Any] = Field(
        default_factory=dict, description="the agent's input (summarised, not stored whole)"
    )


class UpdateExecutionRequest(_Request):
    status: ExecutionStatus
    version: int | None = Field(None, ge=1)
    error: Annotated[str, StringConstraints(max_length=2000)] | None = None
