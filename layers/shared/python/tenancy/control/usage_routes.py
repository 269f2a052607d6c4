"""`GET /tenants/{tenantId}/usage` of the control API: a tenant's metering record (the usage table
the application plane writes, read with the control plane's own read-only access)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from tenancy.common import http
from tenancy.common.clients import client
from tenancy.common.config import get_settings
from tenancy.common.http import PathId
from tenancy.common.keys import checked_id
from tenancy.common.observability import bind_tenant
from tenancy.contracts.usage import DATE_PATTERN, UsageReport, read_usage, usage_range
from tenancy.control import tenants
from tenancy.control.routes import Store

router = http.router()
BOUND = (
    "a UTC day (`2026-12-03`), inclusive. Defaults: `to` today, `from` 29 days before `to` (30 days); "
    "at most 366 days; a day that does not exist, or `from` after `to`, is a 422 naming the field."
)
DateBound = Annotated[str | None, Query(pattern=DATE_PATTERN, description=BOUND)]


def tenant_usage(store: Store, tenant_id: str, from_: str | None, to: str | None) -> UsageReport:
    """The usage of a tenant the control table knows (404 otherwise), offboarded ones included."""
    tenant = tenants.get_tenant(store, tenant_id)
    start, end = usage_range(from_, to)
    return read_usage(client("dynamodb"), get_settings().usage_table_name, tenant.tenant_id, start, end)


@router.get(
    "/tenants/<tenantId>/usage",
    operation_id="getTenantUsage",
    description="The tenant's usage per UTC day (API calls, requests refused with 429, executions, "
    "storage bytes): every day of the range, a day without traffic as zeros, and the totals.",
    responses=http.responses(200, "UsageReport", errors=[404]),
)
def get_tenant_usage(
    tenantId: PathId,
    store: Store,
    from_: Annotated[str | None, Query(alias="from", pattern=DATE_PATTERN, description=BOUND)] = None,
    to: DateBound = None,
) -> Response[str]:
    bind_tenant(checked_id(tenantId, "tenantId"))
    return http.ok(tenant_usage(store, tenantId, from_, to))
