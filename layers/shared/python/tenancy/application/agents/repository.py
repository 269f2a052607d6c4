"""A tenant's agents as stored: `AGENT#<id>`."""

from __future__ import annotations

import uuid
from typing import Any

from tenancy.application.agents.models import Agent
from tenancy.application.store import kinds
from tenancy.application.store.repository import Repository
from tenancy.contracts.plans import EffectiveConfig


class Agents(Repository[Agent]):
    kind = kinds.AGENT
    model = Agent

    def add(self, attributes: dict[str, Any], limits: EffectiveConfig | None = None) -> Agent:
        """A new agent (`LIMIT_REACHED` when the tenant holds as many as `limits` allow)."""
        return self._create(str(uuid.uuid4()), attributes, limits=limits)

    def change(self, agent_id: str, changes: dict[str, Any], expected_version: int) -> Agent:
        return self._update(agent_id, changes, expected_version)

    def remove(self, agent_id: str) -> None:
        self._delete(agent_id)
