"""A tenant's agents as stored: `AGENT#<id>`."""

from __future__ import annotations

import uuid
from typing import Any

from tenancy.application.agents.models import Agent
from tenancy.application.store import kinds
from tenancy.application.store.repository import Repository


class Agents(Repository[Agent]):
    kind = kinds.AGENT
    model = Agent

    def add(self, attributes: dict[str, Any]) -> Agent:
        return self._create(str(uuid.uuid4()), attributes)

    def change(self, agent_id: str, changes: dict[str, Any], expected_version: int) -> Agent:
        return self._update(agent_id, changes, expected_version)

    def remove(self, agent_id: str) -> None:
        self._delete(agent_id)
