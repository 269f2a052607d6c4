"""A tenant's agents: any member manages them."""

from __future__ import annotations

from tenancy.application.agents.models import Agent, CreateAgentRequest, UpdateAgentRequest
from tenancy.application.agents.repository import Agents
from tenancy.common.dynamo import Page
from tenancy.common.errors import InvalidRequestError
from tenancy.contracts.context import TenantContext


def create_agent(agents: Agents, caller: TenantContext, request: CreateAgentRequest) -> Agent:
    """Within the caller's tenant's agent limit (409 `LIMIT_REACHED` beyond it)."""
    return agents.add(request.model_dump(), caller.effective_config())


def list_agents(agents: Agents, limit: int, cursor: str | None) -> Page[Agent]:
    return agents.page(limit=limit, cursor=cursor)


def get_agent(agents: Agents, agent_id: str) -> Agent:
    return agents.get(agent_id)


def update_agent(agents: Agents, agent_id: str, request: UpdateAgentRequest) -> Agent:
    changes = request.model_dump(exclude={"version"}, exclude_none=True)
    if not changes:
        raise InvalidRequestError(
            "nothing to change", [{"field": "body", "message": "name, description or model"}]
        )
    return agents.change(agent_id, changes, request.version)


def delete_agent(agents: Agents, agent_id: str) -> None:
    agents.remove(agent_id)
