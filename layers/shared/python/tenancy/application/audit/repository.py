"""A tenant's audit trail as stored: `AUDIT#<timestamp>#<uuid>`, written by the engine with each change."""

from __future__ import annotations

from tenancy.application.audit.models import AuditEntry
from tenancy.application.store.engine import TenantStore
from tenancy.common.dynamo import Page


class AuditTrail:
    def __init__(self, store: TenantStore) -> None:
        self.store = store

    def between(self, start: str, end: str, *, limit: int, cursor: str | None) -> Page[AuditEntry]:
        found = self.store.audit_trail(start, end, limit=limit, cursor=cursor)
        return Page([AuditEntry.model_construct(**item) for item in found.items], found.next_cursor)
