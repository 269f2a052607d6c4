"""An agent's executions: their status machine, request bodies, and the view the API answers with."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from tenancy.common.fields import TEXT_PATTERN, Request, Version, Versioned

ErrorText = Annotated[str, StringConstraints(max_length=2000, pattern=TEXT_PATTERN)]


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


class StartExecutionRequest(Request):
    input: dict[str, Any] = Field(
        default_factory=dict, description="the agent's input (summarised, not stored whole)"
    )


class UpdateExecutionRequest(Request):
    status: ExecutionStatus
    version: Version | None = None
    error: ErrorText | None = None


class Execution(Versioned):
    executionId: str
    agentId: str
    status: ExecutionStatus
    traceId: str
    inputSummary: str = Field(description="the input as compact JSON, cut to 200 characters")
    error: str | None = None
