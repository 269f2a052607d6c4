"""Test doubles for the AWS side: moto resources built from the topology, handler loading, contexts."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from localcloud.pumps import EventPump, StreamPump, as_delivered
from localcloud.resources import LocalResources, create_resources, local_settings, settings_environ
from localcloud.runtime import FunctionRuntime
from localcloud.streams import StreamReader
from tenancy.application.access.dependencies import tenant_data
from tenancy.application.quotas.middleware import request_limiter
from tenancy.common.clients import reset as reset_clients
from tenancy.common.config import Settings, get_settings
from tenancy_infra.topology import function

ROOT = Path(__file__).resolve().parents[2]
EVENTS_DIR = ROOT / "events"


def reset_process_caches() -> None:
    """Forget cached settings and clients, as a new Lambda execution environment would."""
    get_settings.cache_clear()
    reset_clients()
    _share_service_models()
    tenant_data.cache_clear()
    request_limiter.cache_clear()


@functools.cache
def _service_models() -> Any:
    from botocore.loaders import create_loader

    return create_loader()


def _share_service_models() -> None:
    """The functions' new botocore session reads the service models (read-only JSON files, ~0.1 s
    per test) through one loader for the whole test process, which keeps them once parsed: as one
    session does for all its clients."""
    from tenancy.common import clients

    clients._session().register_component("data_loader", _service_models())


@dataclass
class Cloud:
    """Tenancy's resources on moto (built as the local cloud builds them) and its functions, in-process."""

    settings: Settings
    resources: LocalResources
    capture_queue_url: str
    runtime: FunctionRuntime = field(default_factory=FunctionRuntime)
    _seen: list[dict[str, Any]] = field(default_factory=list)
    _stream: StreamPump | None = None

    @classmethod
    def create(cls) -> Cloud:
        base = Settings.from_environ()
        settings = local_settings(base.app_name, base.stage, os.environ["AWS_DEFAULT_REGION"])
        resources = create_resources(boto3.client, settings)
        os.environ.update(settings_environ(resources.settings))
        get_settings.cache_clear()
        # A catch-all rule to observe every event put on the bus.
        sqs, events = boto3.client("sqs"), boto3.client("events")
        queue_url = sqs.create_queue(QueueName="bus-capture")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name="capture-all",
            EventBusName=settings.event_bus_name,
            EventPattern=json.dumps({"account": [{"prefix": ""}]}),
        )
        events.put_targets(
            Rule="capture-all", EventBusName=settings.event_bus_name, Targets=[{"Id": "q", "Arn": queue_arn}]
        )
        return cls(settings=get_settings(), resources=resources, capture_queue_url=queue_url)

    # --- running the system ---------------------------------------------------------------

    def pump_stream(self) -> int:
        """Deliver the control table's new stream records to `provisioning`."""
        if self._stream is None:
            reader = StreamReader(
                boto3.client("dynamodb"),
                boto3.client("dynamodbstreams"),
                self.settings.control_table_name,
                "us-east-1",
            )
            spec = function("provisioning")
            self._stream = StreamPump(
                reader, self.runtime, spec, boto3.client("sqs"), self._dlq("provisioning")
            )
        return self._stream.pump()

    def pump_events(self, function_name: str) -> int:
        queue = self.resources.function_queues[function_name]
        spec = function(function_name)
        return EventPump(boto3.client("sqs"), queue, self._dlq(function_name), self.runtime, spec).pump()

    def drain(self, max_rounds: int = 50) -> None:
        """Run stream -> provisioner -> completion until nothing moves."""
        for _ in range(max_rounds):
            moved = self.pump_stream()
            for name in self.resources.function_queues:
                moved += self.pump_events(name)
            if not moved:
                return
        raise AssertionError("the system did not settle")

    def _dlq(self, function_name: str) -> str:
        return self.resources.dead_letter_queues[function_name]

    def dead_letters(self, function_name: str) -> list[dict[str, Any]]:
        messages = boto3.client("sqs").receive_message(
            QueueUrl=self._dlq(function_name), MaxNumberOfMessages=10
        )
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]

    # --- the bus --------------------------------------------------------------------------

    def bus_events(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        """Every event put on the bus so far (in order), optionally of one detail-type."""
        sqs = boto3.client("sqs")
        while True:
            messages = sqs.receive_message(QueueUrl=self.capture_queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                break
            for message in messages:
                self._seen.append(as_delivered(json.loads(message["Body"]), self.capture_queue_url))
                sqs.delete_message(QueueUrl=self.capture_queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [e for e in self._seen if detail_type is None or e["detail-type"] == detail_type]

    # --- the control table ----------------------------------------------------------------

    def tenant_item(self, tenant_id: str) -> dict[str, Any] | None:
        table = boto3.resource("dynamodb").Table(self.settings.control_table_name)
        return table.get_item(Key={"PK": f"TENANT#{tenant_id}", "SK": "METADATA"}, ConsistentRead=True).get(
            "Item"
        )

    def control_items(self) -> list[dict[str, Any]]:
        table = boto3.resource("dynamodb").Table(self.settings.control_table_name)
        return table.scan(ConsistentRead=True)["Items"]


def sample_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())  # type: ignore[no-any-return]
