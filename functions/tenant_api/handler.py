"""Control-plane REST API (IAM-authorized): register, read, rename, offboard and retry tenants."""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event  # noqa: F401 (first: pauses the GC)

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.common import http
from tenancy.common.entry import lambda_entry
from tenancy.control.routes import router as tenants

app = http.RestResolver(enable_validation=True)
http.install(app)
app.include_router(tenants)


@lambda_entry(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)
