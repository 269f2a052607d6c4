"""Request bodies of the application-plane API (tenant-scoped)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from tenancy.models.api import NAME_PATTERN, TEXT_PATTERN, Email, Version


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

Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NAME_PATTERN)]
Description = Annotated[str, StringConstraints(max_length=1000, pattern=TEXT_PATTERN)]
ModelName = Annotated[str, StringConstraints(max_length=100, pattern=TEXT_PATTERN)]
ErrorText = Annotated[str, StringConstraints(max_length=2000, pattern=TEXT_PATTERN)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CreateUserRequest(_Request):
    email: Email
    role: Role = Role.MEMBER


class UpdateUserRequest(_Request):
    role: Role
    version: Version


class CreateAgentRequest(_Request):
    name: Name
    description: Description = ""
    model: ModelName = "default"


def _changes_and_version(schema: dict[str, Any]) -> None:
    """The documented shape: `version` and at least one change; a change is never null."""
    schema["minProperties"] = 2
    for field in schema["properties"].values():
        field.pop("default", None)


class UpdateAgentRequest(_Request):
    # A field left out is unchanged; null is not a value here (refused with 422, as documented).
    model_config = ConfigDict(json_schema_extra=_changes_and_version)

    name: Name | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    model: ModelName | SkipJsonSchema[None] = None
    version: Version

    @field_validator("name", "description", "model", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("must not be null (leave the field out to keep its value)")
        return value


class StartExecutionRequest(_Request):
    input: dict[str, Any] = Field(
        default_factory=dict, description="the agent's input (summarised, not stored whole)"
    )


class UpdateExecutionRequest(_Request):
    status: ExecutionStatus
    version: Version | None = None
    error: ErrorText | None = None
