"""The analytics API: runs cards over the tenant's datasets (`POST /cards/{cardId}/execute`,
`POST /cards/preview`, `POST /dashboards/{dashboardId}/render`).

Like the app API, the tenant comes only from the authorizer's context; rows are read from the
tenant's objects with credentials scoped to it, and card code runs in the isolated card executor
(never in this process). See `tenancy.application.analytics`.
"""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event  # noqa: F401 (first: pauses the GC)

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.application.access import request_metrics
from tenancy.application.analytics.routes import router as analytics
from tenancy.application.quotas import middleware as quotas
from tenancy.common import http
from tenancy.common.entry import lambda_entry

app = http.RestResolver(enable_validation=True)
http.install(app)
request_metrics.install(app)  # first: refused and failed requests are measured too
quotas.install(app)  # every request is counted against its tenant's limits before its route runs
app.include_router(analytics)


@lambda_entry(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)
