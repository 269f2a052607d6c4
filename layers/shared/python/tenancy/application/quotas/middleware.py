"""The Powertools middleware every app API request passes before its route runs: the caller's tenant
is counted against its limits (`RequestLimiter`), with the tenant's own credentials. Admitted: the
route runs and its response carries the `RateLimit-*` headers. Refused: a 429 envelope with
`Retry-After` and the headers, and the route never runs (nothing of it is written).

The limits come from the authorizer's context (`TenantContext.effective_config()`), so the check
costs no read of the tenant's configuration. Requests refused before any middleware (a body that is
not JSON, a path or query parameter that fails validation) are not counted: they touch no data.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from tenancy.application.access.dependencies import tenant_data
from tenancy.application.quotas.limiter import Limits, RequestLimiter, RequestRefused
from tenancy.common import http
from tenancy.common.config import get_settings
from tenancy.common.idempotency import HEADER
from tenancy.common.observability import bind_tenant
from tenancy.contracts.context import TenantContext


@lru_cache(maxsize=1)
def request_limiter() -> RequestLimiter:
    """One per execution environment (it remembers each tenant's last bucket state)."""
    return RequestLimiter(
        lambda tenant_id: tenant_data().credentials.client("dynamodb", tenant_id),
        lambda: get_settings().usage_table_name,
    )


def request_identity(caller: TenantContext, event: Any) -> str:
    """Who sent what to where: an Idempotency-Key counts one request once, never another."""
    return "\n".join((caller.user_id, event.http_method, event.path, event.body or ""))


def limit_requests(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    event = app.current_event
    caller = TenantContext.from_authorizer_context(event.request_context.authorizer.raw_event)
    bind_tenant(caller.tenant_id)
    key = next((v for k, v in (event.headers or {}).items() if k.lower() == HEADER.lower()), None)
    try:
        limits = Limits.of(caller.effective_config())
        admission = request_limiter().admit(caller.tenant_id, limits, key, request_identity(caller, event))
    except RequestRefused as refused:
        response = http.error(refused.status_code, refused.code, refused.message, refused.details)
        response.headers.update(refused.headers)
        return response
    response = next_middleware(app)
    response.headers.update(admission.quota.headers())
    return response


def install(app: APIGatewayRestResolver) -> None:
    """Every route of `app` passes the limiter first."""
    app.use(middlewares=[limit_requests])
