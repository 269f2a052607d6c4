"""Batch floor (provisioning): the core floor plus the batch utility on DynamoDB stream records. The
baseline handles each record on its own; the record's new image is deserialized by its data class
and validated by a pydantic model."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from pydantic import BaseModel, ConfigDict

Handler = Callable[[dict[str, Any], Any], Any]

logger = Logger()
metrics = Metrics(namespace="Floor")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class Image(BaseModel):
    model_config = ConfigDict(extra="allow")


def floor(baseline: Handler) -> Handler:
    def record_handler(record: DynamoDBRecord) -> None:
        change = record.dynamodb
        Image.model_validate(change.new_image if change else {})
        if baseline({"Records": [record.raw_event]}, None)["batchItemFailures"]:
            raise RuntimeError("record failed")

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return dict(
            process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        )

    return lambda_handler
