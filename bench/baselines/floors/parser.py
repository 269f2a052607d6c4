"""Parser floor (tenant_provisioner, provisioning_completion, tenant_updates): the core floor plus the parser's
EventBridge model. The event is validated by an `EventBridgeModel` subclass with a detail model, as
the rule consumers validate their envelopes, before the baseline handles it."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field

Handler = Callable[[dict[str, Any], Any], Any]

logger = Logger()
metrics = Metrics(namespace="Floor")


class Detail(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    tenant_id: str = Field(alias="tenantId")


class Request(EventBridgeModel):
    detail_type: str = Field(alias="detail-type")
    detail: Detail


def floor(baseline: Handler) -> Handler:
    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> Any:
        Request.model_validate(event)
        return baseline(event, context)

    return lambda_handler
