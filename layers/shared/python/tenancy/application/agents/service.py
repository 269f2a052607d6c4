"""A tenant's agents: any member manages them."""

from __future__ import annotations

import uuid
from typing import Any

from tenancy.application.agents.models import CreateAgentRequest, UpdateAgentRequest
from tenancy.application.store import keys
from tenancy.application.store.engine import Change, TenantStore
from tenancy.common.errors import InvalidRequestError


def create_agent(store: TenantStore, request: CreateAgentRequest) -> dict[str, Any]:
    agent_id = str(uuid.uuid4())
    return store.create(
        keys.AGENT,
        agent_id,
        {"agentId": agent_id, **request.model_dump()},
        Change("agent.create", keys.item_sk(keys.AGENT, agent_id)),
    )


def update_agent(store: TenantStore, agent_id: str, request: UpdateAgentRequest) -> dict[str, Any]:
    changes = request.model_dump(exclude={"version"}, exclude_none=True)
    if not changes:
        raise InvalidRequestError(
            "nothing to change", [{"field": "body", "message": "name, description or model"}]
        )
    return store.update(
        keys.AGENT,
        agent_id,
        changes,
        request.version,
        Change("agent.update", keys.item_sk(keys.AGENT, agent_id)),
    )


def delete_agent(store: TenantStore, agent_id: str) -> None:
    store.delete(keys.AGENT, agent_id, Change("agent.delete", keys.item_sk(keys.AGENT, agent_id)))
