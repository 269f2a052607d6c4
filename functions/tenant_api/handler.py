"""Control-plane REST API (IAM-authorized): register, read, rename, offboard and retry tenants; their
configuration and their usage."""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event  # noqa: F401 (first: pauses the GC)

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.common import http
from tenancy.common.entry import lambda_entry
from tenancy.control.routes import router as tenants
from tenancy.control.usage_routes import router as usage

app = http.RestResolver(enable_validation=True)
http.install(app)
for router in (tenants, usage):
    app.include_router(router)


@lambda_entry(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)
