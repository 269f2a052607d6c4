"""The agents routes of the app API: any member of the tenant manages its agents."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends

from tenancy.application.access.dependencies import Caller, Store
from tenancy.application.agents import service
from tenancy.application.agents.models import CreateAgentRequest, UpdateAgentRequest
from tenancy.application.agents.repository import Agents
from tenancy.common import http
from tenancy.common.http import Cursor, Limit, PathId

router = http.router()
LINKS = ("getAgent", "updateAgent", "deleteAgent", "startExecution", "listExecutions")


def agents(store: Store) -> Agents:
    return Agents(store)


TenantAgents = Annotated[Agents, Depends(agents)]


@router.post(
    "/agents",
    operation_id="createAgent",
    responses=http.responses(201, "Agent", errors=[403, 409], body=True, links={"agentId": LINKS}),
)
def create_agent(body: CreateAgentRequest, caller: Caller, agents: TenantAgents) -> Response[str]:
    return http.ok(service.create_agent(agents, caller, body), status=201)


@router.get(
    "/agents", operation_id="listAgents", responses=http.responses(200, "Agent", errors=[400, 403], page=True)
)
def list_agents(agents: TenantAgents, limit: Limit = 20, cursor: Cursor = None) -> Response[str]:
    return http.page(service.list_agents(agents, limit, cursor), limit=limit)


@router.get(
    "/agents/<agentId>", operation_id="getAgent", responses=http.responses(200, "Agent", errors=[403, 404])
)
def get_agent(agentId: PathId, agents: TenantAgents) -> Response[str]:
    return http.ok(service.get_agent(agents, agentId))


@router.patch(
    "/agents/<agentId>",
    operation_id="updateAgent",
    responses=http.responses(200, "Agent", errors=[403, 404, 409], body=True),
)
def update_agent(agentId: PathId, body: UpdateAgentRequest, agents: TenantAgents) -> Response[str]:
    return http.ok(service.update_agent(agents, agentId, body))


@router.delete(
    "/agents/<agentId>", operation_id="deleteAgent", responses=http.responses(204, errors=[403, 404])
)
def delete_agent(agentId: PathId, agents: TenantAgents) -> Response[str]:
    service.delete_agent(agents, agentId)
    return http.no_content()
