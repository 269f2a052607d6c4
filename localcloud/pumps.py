"""Deliver stream records and bus events to the functions, with the deployed retry semantics.

- StreamPump: like a DynamoDB event source mapping with ReportBatchItemFailures: a batch is retried
  from the first failed record, at most `retry_attempts` times, then the failed records go to a DLQ.
- EventPump: an EventBridge rule targets a queue per function (the server's own rule matching; a
  RuleTrigger's on the app's bus, an ObjectCreatedTrigger's on the default bus, where the S3 of the
  AWS endpoint sends the `Object Created` events of buckets with EventBridge notifications);
  each event is invoked asynchronously as Lambda would (side by side, up to ASYNC_CONCURRENCY at
  once), retried `async_retry_attempts` times on function error, then sent to the function's DLQ.
  Lambda waits about a minute before the first retry and two before the second; the pump waits
  ASYNC_RETRY_DELAYS (seconds: the same shape, scaled down) by hiding the failed message that long,
  so a request refused because another invocation is still at work (the provisioner's lease) is
  retried after that invocation, not thrice within milliseconds. Every retry of an event carries the
  same request id (its message id), as Lambda's do; a duplicate is another event with its own.

Both ask a planner (the local cloud's delivery faults) how to deliver each event: on time, held
back and delivered later (reordered), and/or once more later (duplicated). A redelivered copy is
delivered as it comes, never planned again.
"""

from __future__ import annotations

import copy
import datetime
import json
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from localcloud.runtime import FunctionRuntime, Invocation
from localcloud.streams import StreamReader
from tenancy_infra.topology import FunctionSpec, ObjectCreatedTrigger, RuleTrigger, StreamTrigger

Observer = Callable[[Invocation, str, Any], None]
ASYNC_CONCURRENCY = 10  # asynchronous invocations a function runs at once (one poll's worth)
# Seconds before the first, second, ... retry of a failed asynchronous invocation (the last one
# repeats): Lambda's 1 and 2 minutes, as seconds.
ASYNC_RETRY_DELAYS = (1, 2)
REDELIVERY = "localcloud-redelivery"  # SQS message attribute of a copy the pump sent itself
# The `id` moto gives every event its S3 sends (moto.events.utils._BASE_EVENT_MESSAGE).
MOTO_S3_EVENT_ID = "17793124-05d4-b198-2fde-7ededc63b103"


def _no_observer(invocation: Invocation, trigger: str, event: Any) -> None:
    return None


@dataclass(frozen=True)
class Delivery:
    """How a trigger delivers one event: `hold_seconds` set delivers it that much later instead of
    now (after what arrives meanwhile); `duplicate_seconds` set delivers it once more that much later."""

    hold_seconds: int | None = None
    duplicate_seconds: int | None = None


ON_TIME = Delivery()
Planner = Callable[[str, Any], Delivery]


def _on_time(function: str, event: Any) -> Delivery:
    return ON_TIME


def as_delivered(event: dict[str, Any], queue_url: str) -> dict[str, Any]:
    """The event as EventBridge delivers it: moto's default target input leaves out `account`; the
    events moto's S3 sends carry `time` as epoch seconds (EventBridge: an ISO 8601 string) and one
    fixed `id` for every event (EventBridge: one per event, the same in each copy delivered)."""
    event.setdefault("account", queue_url.rstrip("/").split("/")[-2])
    if isinstance(event.get("time"), int | float):
        at = datetime.datetime.fromtimestamp(event["time"], datetime.UTC)
        event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if event.get("source") == "aws.s3" and event.get("id") == MOTO_S3_EVENT_ID:
        event["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(event, sort_keys=True)))
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
        plan: Planner = _on_time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        assert isinstance(spec.trigger, StreamTrigger)
        self._reader = reader
        self._runtime = runtime
        self._spec = spec
        self._trigger = spec.trigger
        self._sqs = sqs
        self._dlq_url = dlq_url
        self._observe = observe
        self._plan = plan
        self._clock = clock
        self._backlog: list[tuple[dict[str, Any], bool]] = []  # (record, planned already)
        self._later: list[tuple[float, dict[str, Any]]] = []  # (due, record) held back or duplicated

    def pump(self) -> int:
        """Deliver what the stream holds now (and the held-back records now due); returns the number
        of records handled."""
        now = self._clock()
        due = [record for at, record in self._later if at <= now]
        self._later = [(at, record) for at, record in self._later if at > now]
        self._backlog += [(record, False) for record in self._reader.poll()]
        self._backlog += [(record, True) for record in due]
        handled = 0
        while self._backlog:
            taken = self._backlog[: self._trigger.batch_size]
            self._backlog = self._backlog[len(taken) :]
            batch = [record for record, planned in taken if planned or self._on_time(record, now)]
            if batch:
                self._deliver(batch)
            handled += len(taken)
        return handled

    def _on_time(self, record: dict[str, Any], now: float) -> bool:
        """Plan one record's delivery: False when it is held back for later."""
        delivery = self._plan(self._spec.name, record)
        if delivery.duplicate_seconds is not None:
            self._later.append((now + delivery.duplicate_seconds, copy.deepcopy(record)))
        if delivery.hold_seconds is not None:
            self._later.append((now + delivery.hold_seconds, record))
            return False
        return True

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
        plan: Planner = _on_time,
        retry_delays: Sequence[int] = ASYNC_RETRY_DELAYS,
    ) -> None:
        assert isinstance(spec.trigger, RuleTrigger | ObjectCreatedTrigger)
        if not retry_delays or not all(0 <= d <= 43200 for d in retry_delays):
            raise ValueError("retry delays are SQS visibility timeouts: 0 to 43200 seconds, at least one")
        self._retry_delays = tuple(retry_delays)
        self._sqs = sqs
        self._queue_url = queue_url
        self._dlq_url = dlq_url
        self._runtime = runtime
        self._spec = spec
        self._attempts = spec.trigger.async_retry_attempts + 1
        self._observe = observe
        self._plan = plan
        # Lambda runs asynchronous invocations side by side (one execution environment each), so a
        # backlog of events is worked off concurrently, not one event after the other.
        self._workers = ThreadPoolExecutor(max_workers=ASYNC_CONCURRENCY, thread_name_prefix=spec.name)

    def pump(self, wait_seconds: int = 0) -> int:
        """Deliver the events waiting in the function's queue, concurrently as Lambda invokes them;
        returns how many were received."""
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=[REDELIVERY],
        ).get("Messages", [])
        list(self._workers.map(self._deliver, messages))  # every one delivered before the next poll
        return len(messages)

    def _deliver(self, message: dict[str, Any]) -> None:
        event = as_delivered(json.loads(message["Body"]), self._queue_url)
        received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        first = received == 1 and REDELIVERY not in message.get("MessageAttributes", {})
        if first and not self._on_time(message, event):
            return
        invocation = self._runtime.invoke(
            self._spec.name, event, self._spec.timeout_seconds, request_id=message.get("MessageId")
        )
        self._observe(invocation, f"eventbridge {event.get('detail-type')}", event)
        if invocation.error is None:
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        elif received >= self._attempts:
            self._sqs.send_message(QueueUrl=self._dlq_url, MessageBody=message["Body"])
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        else:  # visible again for the retry once the retry's delay has passed
            delay = self._retry_delays[min(received, len(self._retry_delays)) - 1]
            self._sqs.change_message_visibility(
                QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=delay
            )

    def _on_time(self, message: dict[str, Any], event: dict[str, Any]) -> bool:
        """Plan the first delivery of an event: copies for later go back to the queue (delayed), and
        a held-back event leaves it now (False) to come back as its copy."""
        delivery = self._plan(self._spec.name, event)
        for delay, why in ((delivery.duplicate_seconds, "duplicate"), (delivery.hold_seconds, "reorder")):
            if delay is not None:
                self._sqs.send_message(
                    QueueUrl=self._queue_url,
                    MessageBody=message["Body"],
                    DelaySeconds=delay,
                    MessageAttributes={REDELIVERY: {"DataType": "String", "StringValue": why}},
                )
        if delivery.hold_seconds is None:
            return True
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        return False
