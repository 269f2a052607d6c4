"""A tenant's audit trail as the API answers it."""

from __future__ import annotations

from pydantic import Field

from tenancy.common.fields import View


class AuditEntry(View):
    action: str = Field(description="e.g. agent.create, execution.running, user.delete")
    resource: str
    actorUserId: str
    traceId: str
    createdAt: str
