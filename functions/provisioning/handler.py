"""Control-table stream consumer: tenants entering PENDING/OFFBOARDING become lifecycle requests."""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event  # noqa: F401 (first: pauses the GC)

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.common.clients import client
from tenancy.common.config import get_settings
from tenancy.common.entry import lambda_entry
from tenancy.contracts.publisher import EventPublisher
from tenancy.control.lifecycle import handle_change
from tenancy.control.store import ControlStore

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    settings = get_settings()
    change = record.dynamodb
    handle_change(
        ControlStore(client("dynamodb"), settings.control_table_name),
        EventPublisher(client("events"), settings.event_bus_name, settings.control_plane_source),
        record.event_name.name if record.event_name else None,
        change.new_image if change else None,
        change.old_image if change else None,
    )


@lambda_entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
