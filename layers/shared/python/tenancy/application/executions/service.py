"""An agent's executions: started by any member, moved QUEUED -> RUNNING -> SUCCEEDED | FAILED."""

from __future__ import annotations

import json

from tenancy.application.agents.repository import Agents
from tenancy.application.executions.models import (
    EXECUTION_TRANSITIONS,
    Execution,
    ExecutionStatus,
    StartExecutionRequest,
    UpdateExecutionRequest,
)
from tenancy.application.executions.repository import Executions
from tenancy.common.dynamo import Page
from tenancy.common.errors import ConflictError, IllegalTransitionError

INPUT_SUMMARY_CHARS = 200


def start_execution(
    executions: Executions, agents: Agents, agent_id: str, request: StartExecutionRequest, trace_id: str
) -> Execution:
    agents.get(agent_id)  # 404 for an agent this tenant does not have
    summary = json.dumps(request.input, sort_keys=True, separators=(",", ":"))
    if len(summary) > INPUT_SUMMARY_CHARS:
        summary = summary[: INPUT_SUMMARY_CHARS - 1] + "…"
    return executions.start(agent_id, trace_id, summary)


def list_executions(
    executions: Executions,
    agents: Agents,
    agent_id: str,
    status: ExecutionStatus | None,
    limit: int,
    cursor: str | None,
) -> Page[Execution]:
    agents.get(agent_id)
    return executions.of_agent(agent_id, status, limit=limit, cursor=cursor)


def get_execution(executions: Executions, execution_id: str) -> Execution:
    return executions.get(execution_id)


def move_execution(executions: Executions, execution_id: str, request: UpdateExecutionRequest) -> Execution:
    """QUEUED -> RUNNING -> SUCCEEDED | FAILED, conditional on the status the move starts from."""
    sources = [s for s, targets in EXECUTION_TRANSITIONS.items() if request.status in targets]
    changes = {} if request.error is None else {"error": request.error}
    try:
        if not sources:
            raise ConflictError("unreachable status")
        return executions.move(execution_id, sources, request.status, changes, request.version)
    except ConflictError as refused:
        if refused.code != ConflictError.code:
            raise  # a stale version stays a VERSION_CONFLICT
        current = executions.get(execution_id)
        raise IllegalTransitionError(
            execution_id, str(current.status), str(request.status), "execution"
        ) from None
