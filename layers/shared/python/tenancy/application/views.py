"""The views the application API answers with, by the name its routes document them under."""

from __future__ import annotations

from pydantic import BaseModel

from tenancy.application.agents.models import Agent
from tenancy.application.audit.models import AuditEntry
from tenancy.application.executions.models import Execution
from tenancy.application.users.models import Me, User

VIEWS: dict[str, type[BaseModel]] = {
    "User": User,
    "Me": Me,
    "Agent": Agent,
    "Execution": Execution,
    "AuditEntry": AuditEntry,
}
