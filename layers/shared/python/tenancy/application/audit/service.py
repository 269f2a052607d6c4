"""A tenant's audit trail: written by the store with every change, read by admins."""

from __future__ import annotations

from tenancy.application.audit.models import AuditEntry
from tenancy.application.audit.repository import AuditTrail
from tenancy.common.dynamo import Page
from tenancy.common.errors import InvalidRequestError, ValidationFailedError
from tenancy.common.timestamps import bound_iso
from tenancy.contracts.context import TenantContext, require_admin


def audit_trail(
    trail: AuditTrail,
    caller: TenantContext,
    start: str | None,
    end: str | None,
    limit: int,
    cursor: str | None,
) -> Page[AuditEntry]:
    """Entries stamped in [start, end], oldest first; either bound may be left open (None)."""
    require_admin(caller)
    lower = _bound("from", start, end=False) if start is not None else ""
    upper = _bound("to", end, end=True) if end is not None else "\uffff"
    if lower > upper:
        raise InvalidRequestError(
            "`from` is after `to`", [{"field": "from", "message": "must not be after `to`"}]
        )
    return trail.between(lower, upper, limit=limit, cursor=cursor)


def _bound(field: str, text: str, *, end: bool) -> str:
    try:
        return bound_iso(text, end=end)
    except ValueError as invalid:
        raise ValidationFailedError(
            f"`{field}` is not a date or time",
            [{"field": field, "location": "query", "message": str(invalid)}],
        ) from None
