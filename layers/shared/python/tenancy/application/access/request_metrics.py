"""Per-tenant request metrics of the app API, the dashboard's requests, errors and latency by tenant:
one Powertools middleware, installed first (outermost), so requests the limiter refuses (429) and
requests that fail are measured as well. Metric names are the dashboard's (stacks/monitoring.py)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from tenancy.common.errors import TenancyError
from tenancy.common.observability import MetricUnit, count, measure

REQUESTS_METRIC = "ApiRequests"  # every request, per tenant
SERVER_ERRORS_METRIC = "ApiServerErrors"  # answered 5xx
CLIENT_ERRORS_METRIC = "ApiClientErrors"  # answered 4xx (429s included; RequestsThrottled counts those)
LATENCY_METRIC = "ApiLatency"  # milliseconds in the function, per request


def measure_requests(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    started = time.perf_counter()
    context = app.current_event.request_context.authorizer.raw_event or {}
    tenant_id = str(context["tenantId"]) if context.get("tenantId") else None
    status = 500
    try:
        response = next_middleware(app)
        status = response.status_code
        return response
    except TenancyError as error:
        status = error.status_code
        raise
    except RequestValidationError:
        status = 422
        raise
    finally:
        count(REQUESTS_METRIC, tenant_id)
        if status >= 500:
            count(SERVER_ERRORS_METRIC, tenant_id)
        elif status >= 400:
            count(CLIENT_ERRORS_METRIC, tenant_id)
        measure(LATENCY_METRIC, (time.perf_counter() - started) * 1000, MetricUnit.Milliseconds, tenant_id)


def install(app: APIGatewayRestResolver) -> None:
    """Measure every route of `app` (install before any other middleware)."""
    app.use(middlewares=[measure_requests])
