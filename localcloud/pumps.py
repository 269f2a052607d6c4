"""Deliver stream records and bus events to the functions, with the deployed retry semantics.

- StreamPump: like a DynamoDB event source mapping with ReportBatchItemFailures: a batch is retried
  from the first failed record, at most `retry_attempts` times, then the failed records go to a DLQ.
- EventPump: an EventBridge rule targets a queue per function (the server's own rule matching);
  each event is invoked asynchronously as Lambda would, retried `async_retry_attempts` times on
  function error, then sent to the function's DLQ.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from localcloud.runtime import FunctionRuntime, Invocation
from localcloud.streams import StreamReader
from tenancy_infra.topology import FunctionSpec, RuleTrigger, StreamTrigger

Observer = Callable[[Invocation, str, Any], None]


def _no_observer(invocation: Invocation, trigger: str, event: Any) -> None:
    return None


def as_delivered(event: dict[str, Any], queue_url: str) -> dict[str, Any]:
    """The event as EventBridge delivers it: moto's default target input leaves out `account`."""
    event.setdefault("account", queue_url.rstrip("/").split("/")[-2])
    return event


class StreamPump:
    def __init__(
        self,
        reader: StreamReader,
        runtime: FunctionRuntime,
        spec: FunctionSpec,
        sqs: Any,
        dlq_url: str,
        observe: Observer = _no_observer,
    ) -> None:
        assert isinstance(spec.trigger, StreamTrigger)
        self._reader = reader
        self._runtime = runtime
        self._spec = spec
        self._trigger = spec.trigger
        self._sqs = sqs
        self._dlq_url = dlq_url
        self._observe = observe
        self._backlog: list[dict[str, Any]] = []

    def pump(self) -> int:
        """Deliver what the stream holds now; returns the number of records handled."""
        self._backlog += self._reader.poll()
        handled = 0
        while self._backlog:
            batch = self._backlog[: self._trigger.batch_size]
            self._deliver(batch)
            self._backlog = self._backlog[len(batch) :]
            handled += len(batch)
        return handled

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        pending = batch
        for _attempt in range(self._trigger.retry_attempts + 1):
            failed = self._invoke(pending)
            if failed is None:
                return
            # Lambda resumes from the earliest failed sequence number.
            pending = pending[failed:]
        self._sqs.send_message(
            QueueUrl=self._dlq_url,
            MessageBody=json.dumps({"function": self._spec.name, "records": pending}, default=str),
        )

    def _invoke(self, records: list[dict[str, Any]]) -> int | None:
        """Index of the first failed record, or None when the batch succeeded."""
        event = {"Records": records}
        invocation = self._runtime.invoke(self._spec.name, event, self._spec.timeout_seconds)
        self._observe(invocation, "dynamodb-stream", event)
        if invocation.error is not None:
            return 0
        failures = (invocation.result or {}).get("batchItemFailures") or []
        if not failures:
            return None
        sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
        failed = [
            sequence_numbers.index(f["itemIdentifier"])
            for f in failures
            if f["itemIdentifier"] in sequence_numbers
        ]
        return min(failed) if failed else 0


class EventPump:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        dlq_url: str,
        runtime: FunctionRuntime,
        spec: FunctionSpec,
        observe: Observer = _no_observer,
    ) -> None:
        assert isinstance(spec.trigger, RuleTrigger)
        self._sqs = sqs
        self._queue_url = queue_url
        self._dlq_url = dlq_url
        self._runtime = runtime
        self._spec = spec
        self._attempts = spec.trigger.async_retry_attempts + 1
        self._observe = observe

    def pump(self, wait_seconds: int = 0) -> int:
        """Deliver the events waiting in the function's queue; returns how many were received."""
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        for message in messages:
            event = as_delivered(json.loads(message["Body"]), self._queue_url)
            invocation = self._runtime.invoke(self._spec.name, event, self._spec.timeout_seconds)
            self._observe(invocation, f"eventbridge {event.get('detail-type')}", event)
            received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            if invocation.error is None:
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
            elif received >= self._attempts:
                self._sqs.send_message(QueueUrl=self._dlq_url, MessageBody=message["Body"])
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:  # make it visible again for the retry
                self._sqs.change_message_visibility(
                    QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        return len(messages)
