"""The parent side of the card sandbox (work in progress: the child process lands next)."""

from __future__ import annotations

from tenancy.application.sandbox.contract import ErrorCode, ExecutionError, ExecutionRequest, ExecutionResult


def execute(request: ExecutionRequest) -> ExecutionResult:
    return ExecutionResult(
        ok=False, error=ExecutionError(code=ErrorCode.ERROR, message="executor not ready"), executionTimeMs=0
    )
