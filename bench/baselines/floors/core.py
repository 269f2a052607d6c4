"""Core floor: the baseline plus Powertools' Logger and Metrics decorators and one pydantic model
validated (the baseline's answer). Every function's floor includes it; it is the whole floor of the
authorizer and the reconciler, which use no other Powertools feature."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from pydantic import BaseModel, ConfigDict

Handler = Callable[[dict[str, Any], Any], Any]

logger = Logger()
metrics = Metrics(namespace="Floor")


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


def floor(baseline: Handler) -> Handler:
    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> Any:
        answer = baseline(event, context)
        Answer.model_validate(answer)
        return answer

    return lambda_handler
