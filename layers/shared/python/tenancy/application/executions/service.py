"""An agent's executions: started by any member, moved QUEUED -> RUNNING -> SUCCEEDED | FAILED."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tenancy.application.executions.models import (
    EXECUTION_TRANSITIONS,
    ExecutionStatus,
    StartExecutionRequest,
    UpdateExecutionRequest,
)
from tenancy.application.store import keys
from tenancy.application.store.engine import Change, TenantStore
from tenancy.common.dynamo import Page
from tenancy.common.errors import ConflictError, IllegalTransitionError

INPUT_SUMMARY_CHARS = 200


def start_execution(
    store: TenantStore, agent_id: str, request: StartExecutionRequest, trace_id: str
) -> dict[str, Any]:
    store.get(keys.AGENT, agent_id)  # 404 for an agent this tenant does not have
    execution_id = str(uuid.uuid4())
    summary = json.dumps(request.input, sort_keys=True, separators=(",", ":"))
    if len(summary) > INPUT_SUMMARY_CHARS:
        summary = summary[: INPUT_SUMMARY_CHARS - 1] + "…"
    return store.create(
        keys.EXECUTION,
        execution_id,
        {
            "executionId": execution_id,
            "agentId": agent_id,
            "status": str(ExecutionStatus.QUEUED),
            "traceId": trace_id,
            "inputSummary": summary,
        },
        Change("execution.start", keys.item_sk(keys.EXECUTION, execution_id)),
    )


def list_executions(
    store: TenantStore, agent_id: str, status: ExecutionStatus | None, limit: int, cursor: str | None
) -> Page:
    store.get(keys.AGENT, agent_id)
    where = {"agentId": agent_id, **({"status": str(status)} if status else {})}
    return store.list_items(keys.EXECUTION, limit=limit, cursor=cursor, where=where)


def move_execution(store: TenantStore, execution_id: str, request: UpdateExecutionRequest) -> dict[str, Any]:
    """QUEUED -> RUNNING -> SUCCEEDED | FAILED, conditional on the status the move starts from."""
    sources = [s for s, targets in EXECUTION_TRANSITIONS.items() if request.status in targets]
    changes: dict[str, Any] = {"status": str(request.status)}
    if request.error is not None:
        changes["error"] = request.error
    placeholders = {f":from{i}": str(s) for i, s in enumerate(sources)}
    try:
        if not sources:
            raise ConflictError("unreachable status")
        return store.update(
            keys.EXECUTION,
            execution_id,
            changes,
            request.version,
            Change(f"execution.{request.status.lower()}", keys.item_sk(keys.EXECUTION, execution_id)),
            only_if=(f"#status IN ({', '.join(placeholders)})", {"#status": "status"}, placeholders),
        )
    except ConflictError as refused:
        if refused.code != ConflictError.code:
            raise  # a stale version stays a VERSION_CONFLICT
        current = store.get(keys.EXECUTION, execution_id)
        raise IllegalTransitionError(
            execution_id, str(current["status"]), str(request.status), "execution"
        ) from None
