"""An agent's executions as stored: `EXEC#<id>`, naming their agent."""

from __future__ import annotations

import uuid
from typing import Any

from tenancy.application.executions.models import Execution, ExecutionStatus
from tenancy.application.store import kinds
from tenancy.application.store.repository import Repository
from tenancy.common.dynamo import Page


class Executions(Repository[Execution]):
    kind = kinds.EXECUTION
    model = Execution

    def start(self, agent_id: str, trace_id: str, input_summary: str) -> Execution:
        attributes = {
            "agentId": agent_id,
            "status": str(ExecutionStatus.QUEUED),
            "traceId": trace_id,
            "inputSummary": input_summary,
        }
        return self._create(str(uuid.uuid4()), attributes, "start")

    def of_agent(
        self, agent_id: str, status: ExecutionStatus | None, *, limit: int, cursor: str | None
    ) -> Page[Execution]:
        where = {"agentId": agent_id, **({"status": str(status)} if status else {})}
        return self.page(limit=limit, cursor=cursor, where=where)

    def move(
        self,
        execution_id: str,
        sources: list[ExecutionStatus],
        target: ExecutionStatus,
        changes: dict[str, Any],
        expected_version: int | None,
    ) -> Execution:
        """Conditional on the status the move starts from (one of `sources`)."""
        placeholders = {f":from{i}": str(s) for i, s in enumerate(sources)}
        return self._update(
            execution_id,
            {"status": str(target), **changes},
            expected_version,
            target.lower(),
            only_if=(f"#status IN ({', '.join(placeholders)})", {"#status": "status"}, placeholders),
        )
