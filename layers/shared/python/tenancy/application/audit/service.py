"""A tenant's audit trail: written by the store with every change, read by admins."""

from __future__ import annotations

from tenancy.application.audit.models import AuditEntry
from tenancy.application.audit.repository import AuditTrail
from tenancy.common.dynamo import Page
from tenancy.common.errors import InvalidRequestError
from tenancy.contracts.context import TenantContext, require_admin


def audit_trail(
    trail: AuditTrail, caller: TenantContext, start: str, end: str, limit: int, cursor: str | None
) -> Page[AuditEntry]:
    require_admin(caller)
    if start > end:
        raise InvalidRequestError(
            "`from` is after `to`", [{"field": "from", "message": "must not be after `to`"}]
        )
    return trail.between(start, end, limit=limit, cursor=cursor)
