"""`GET /usage` of the app API: the caller's tenant's metering record, for its admins, when the
tenant's plan has the `usageApi` flag."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from tenancy.application.access.dependencies import Caller, tenant_data
from tenancy.common import http
from tenancy.common.config import get_settings
from tenancy.common.errors import FeatureDisabledError
from tenancy.contracts.context import TenantContext, require_admin
from tenancy.contracts.plans import Flag
from tenancy.contracts.usage import DATE_PATTERN, UsageReport, read_usage, usage_range

router = http.router()
BOUND = (
    "a UTC day (`2026-12-03`), inclusive. Defaults: `to` today, `from` 29 days before `to` (30 days); "
    "at most 366 days; a day that does not exist, or `from` after `to`, is a 422 naming the field."
)
DateBound = Annotated[str | None, Query(pattern=DATE_PATTERN, description=BOUND)]


def tenant_usage(caller: TenantContext, from_: str | None, to: str | None) -> UsageReport:
    require_admin(caller)
    if not caller.effective_config().flag(Flag.USAGE_API):
        raise FeatureDisabledError(
            "the tenant's plan does not include the usage API", {"flag": str(Flag.USAGE_API)}
        )
    start, end = usage_range(from_, to)
    dynamodb = tenant_data().credentials.client("dynamodb", caller.tenant_id)
    return read_usage(dynamodb, get_settings().usage_table_name, caller.tenant_id, start, end)


@router.get(
    "/usage",
    operation_id="getUsage",
    description="The tenant's usage per UTC day (API calls, requests refused with 429, executions, "
    "storage bytes): every day of the range, a day without traffic as zeros, and the totals. "
    "Tenant admins only, when the plan has the `usageApi` flag (403 `FEATURE_DISABLED` otherwise).",
    responses=http.responses(200, "UsageReport", errors=[403]),
)
def get_usage(
    caller: Caller,
    from_: Annotated[str | None, Query(alias="from", pattern=DATE_PATTERN, description=BOUND)] = None,
    to: DateBound = None,
) -> Response[str]:
    return http.ok(tenant_usage(caller, from_, to))
