"""The executions routes of the app API: an agent's runs, started and moved by any member."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from tenancy.application.access.dependencies import Store, TraceId
from tenancy.application.agents.repository import Agents
from tenancy.application.executions import service
from tenancy.application.executions.models import (
    ExecutionStatus,
    StartExecutionRequest,
    UpdateExecutionRequest,
)
from tenancy.application.executions.repository import Executions
from tenancy.common import http
from tenancy.common.http import Cursor, Limit, PathId

router = http.router()
LINKS = ("getExecution", "updateExecution")


def executions(store: Store) -> Executions:
    return Executions(store)


def agents(store: Store) -> Agents:
    return Agents(store)


TenantExecutions = Annotated[Executions, Depends(executions)]
TenantAgents = Annotated[Agents, Depends(agents)]


@router.post(
    "/agents/<agentId>/executions",
    operation_id="startExecution",
    responses=http.responses(201, "Execution", errors=[403, 404], body=True, links={"executionId": LINKS}),
)
def start_execution(
    agentId: PathId,
    body: StartExecutionRequest,
    executions: TenantExecutions,
    agents: TenantAgents,
    trace: TraceId,
) -> Response[str]:
    return http.ok(service.start_execution(executions, agents, agentId, body, trace), status=201)


@router.get(
    "/agents/<agentId>/executions",
    operation_id="listExecutions",
    responses=http.responses(200, "Execution", errors=[400, 403, 404], page=True),
)
def list_executions(
    agentId: PathId,
    executions: TenantExecutions,
    agents: TenantAgents,
    status: Annotated[ExecutionStatus | None, Query()] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response[str]:
    found = service.list_executions(executions, agents, agentId, status, limit, cursor)
    return http.page(found, limit=limit)


@router.get(
    "/executions/<executionId>",
    operation_id="getExecution",
    responses=http.responses(200, "Execution", errors=[403, 404]),
)
def get_execution(executionId: PathId, executions: TenantExecutions) -> Response[str]:
    return http.ok(service.get_execution(executions, executionId))


@router.patch(
    "/executions/<executionId>",
    operation_id="updateExecution",
    responses=http.responses(200, "Execution", errors=[403, 404, 409], body=True),
)
def update_execution(
    executionId: PathId, body: UpdateExecutionRequest, executions: TenantExecutions
) -> Response[str]:
    return http.ok(service.move_execution(executions, executionId, body))
