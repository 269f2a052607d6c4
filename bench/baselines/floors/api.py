"""API floor (tenant_api, app_api): the core floor plus the REST event handler with validation. The
baseline answers inside a route whose path parameter the resolver validates; its body is validated
by a pydantic model."""

import json
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, ConfigDict

Handler = Callable[[dict[str, Any], Any], Any]

logger = Logger()
metrics = Metrics(namespace="Floor")
app = APIGatewayRestResolver(enable_validation=True)
Id = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@+-]+$")]
_baseline: list[Handler] = []


class Data(BaseModel):
    model_config = ConfigDict(extra="allow")


def _answer() -> Response[str]:
    answer = _baseline[0](app.current_event.raw_event, app.lambda_context)
    body = json.loads(answer["body"])
    if "data" in body:
        body = {"data": Data.model_validate(body["data"]).model_dump()}
    return Response(answer["statusCode"], "application/json", json.dumps(body))


@app.get("/tenants/<tenantId>")
def get_tenant(tenantId: Id) -> Response[str]:
    return _answer()


@app.get("/agents/<agentId>")
def get_agent(agentId: Id) -> Response[str]:
    return _answer()


def floor(baseline: Handler) -> Handler:
    _baseline.append(baseline)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return lambda_handler
