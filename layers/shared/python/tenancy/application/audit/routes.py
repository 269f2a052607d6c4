"""The audit route of the app API: the tenant's trail of changes, for its admins."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from tenancy.application.access.dependencies import Caller, Store
from tenancy.application.audit import service
from tenancy.application.audit.repository import AuditTrail
from tenancy.common import http
from tenancy.common.http import Cursor, Limit

router = http.router()
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}(T[0-9:.]+Z?)?$"
BOUND = (
    "UTC, inclusive: a date (`2026-12-03`, the whole day) or a time (`2026-12-03T11:24:50Z`, that "
    "instant); a date or time that does not exist is a 422. Left out: open."
)


def trail(store: Store) -> AuditTrail:
    return AuditTrail(store)


TenantTrail = Annotated[AuditTrail, Depends(trail)]


@router.get(
    "/audit",
    operation_id="getAudit",
    responses=http.responses(200, "AuditEntry", errors=[400, 403], page=True),
)
def get_audit(
    caller: Caller,
    trail: TenantTrail,
    from_: Annotated[str | None, Query(alias="from", pattern=TIMESTAMP, description=BOUND)] = None,
    to: Annotated[str | None, Query(pattern=TIMESTAMP, description=BOUND)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response[str]:
    return http.page(service.audit_trail(trail, caller, from_, to, limit, cursor), limit=limit)
