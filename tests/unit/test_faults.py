"""The local cloud's fault kinds, each on a real botocore client (moto) or on the local triggers."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from localcloud.faults import Fault, Faults
from localcloud.pumps import REDELIVERY, Delivery, EventPump, StreamPump
from localcloud.runtime import Invocation, InvocationCrashed
from tenancy.contracts.events import ResultStatus, TenantDeprovisionedDetail
from tenancy.contracts.publisher import Event, EventPublisher
from tenancy_infra.topology import FunctionSpec, RuleTrigger, StreamTrigger, TableSpec

EVENT = {"detail-type": "TenantOnboarding", "detail": {"tenantId": "t-1", "slug": "acme"}}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        yield


def hooked(faults: Faults, service: str) -> Any:
    client = boto3.client(service, region_name="us-east-1")
    faults.register(client)
    return client


def rule(**fields: Any) -> Fault:
    return Fault.parse({"function": "fn", "match": "acme", **fields})


def keys(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket="bkt").get("Contents", [])]


def test_error_fails_the_call_before_it_happens_and_only_in_a_matching_invocation(aws: None) -> None:
    faults = Faults()
    s3 = hooked(faults, "s3")
    s3.create_bucket(Bucket="bkt")
    faults.add(rule(service="s3", operation="PutObject", code="SlowDown"))
    with faults.scope("other_fn", EVENT):
        s3.put_object(Bucket="bkt", Key="other", Body=b"")  # another function: untouched
    with faults.scope("fn", {"detail": {"slug": "globex"}}):
        s3.put_object(Bucket="bkt", Key="globex", Body=b"")  # another tenant: untouched
    with faults.scope("fn", EVENT), pytest.raises(ClientError, match="SlowDown"):
        s3.put_object(Bucket="bkt", Key="acme", Body=b"")
    assert keys(s3) == ["globex", "other"]
    with faults.scope("fn", EVENT):  # times=1: used up
        s3.put_object(Bucket="bkt", Key="acme", Body=b"")
    assert faults.pending() == []
    assert faults.injected() == {"total": 1, "error": 1}


def test_error_after_lets_the_call_happen_then_fails_it(aws: None) -> None:
    faults = Faults()
    s3 = hooked(faults, "s3")
    s3.create_bucket(Bucket="bkt")
    faults.add(rule(kind="error-after", service="s3", operation="PutObject"))
    with faults.scope("fn", EVENT), pytest.raises(ClientError, match="InternalFailure"):
        s3.put_object(Bucket="bkt", Key="acme", Body=b"")
    assert keys(s3) == ["acme"]


def test_crash_kinds_cannot_be_caught_by_handler_code_and_differ_in_whether_the_call_happened(
    aws: None,
) -> None:
    faults = Faults()
    s3 = hooked(faults, "s3")
    s3.create_bucket(Bucket="bkt")
    faults.add(rule(kind="crash", service="s3", operation="PutObject", match="before"))
    faults.add(rule(kind="crash-after", service="s3", operation="PutObject", match="after"))

    def handler(key: str) -> None:
        with contextlib.suppress(Exception):  # what a handler's own error handling would catch
            s3.put_object(Bucket="bkt", Key=key, Body=b"")

    for key in ("before", "after"):
        with faults.scope("fn", {"slug": key}), pytest.raises(InvocationCrashed, match=f"died {key}"):
            handler(key)
    assert keys(s3) == ["after"]


def test_every_nth_call_and_a_seeded_probability_repeat_exactly(aws: None) -> None:
    def schedule(**fields: Any) -> list[int]:
        faults = Faults()
        s3 = hooked(faults, "s3")
        s3.create_bucket(Bucket="bkt")
        faults.add(rule(service="s3", operation="PutObject", **{"times": None, **fields}))
        failed = []
        with faults.scope("fn", EVENT):
            for i in range(12):
                try:
                    s3.put_object(Bucket="bkt", Key=str(i), Body=b"")
                except ClientError:
                    failed.append(i)
        return failed

    assert schedule(every=2) == [1, 3, 5, 7, 9, 11]
    assert schedule(every=3, times=2) == [2, 5]
    seeded = schedule(probability=0.5, seed=7)
    assert seeded == schedule(probability=0.5, seed=7)
    assert 0 < len(seeded) < 12
    assert seeded != schedule(probability=0.5, seed=8)


def bus_with_queue(events: Any, sqs: Any) -> str:
    events.create_event_bus(Name="bus")
    queue = sqs.create_queue(QueueName="seen")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName="bus", EventPattern=json.dumps({"source": ["src"]}))
    events.put_targets(Rule="all", EventBusName="bus", Targets=[{"Id": "q", "Arn": arn}])
    return str(queue)


def received(sqs: Any, queue: str) -> list[str]:
    bodies = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"])["detail"]["tenantId"])
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return sorted(bodies)


def detail(tenant_id: str) -> TenantDeprovisionedDetail:
    return TenantDeprovisionedDetail(tenant_id=tenant_id, status=ResultStatus.COMPLETED, timestamp="ts")


def test_partial_put_events_rejects_every_second_entry_in_a_200_and_puts_the_rest(aws: None) -> None:
    faults = Faults()
    events, sqs = hooked(faults, "events"), boto3.client("sqs", region_name="us-east-1")
    queue = bus_with_queue(events, sqs)
    faults.add(rule(kind="partial", service="events", operation="PutEvents", code="ThrottlingException"))
    entries = [
        {"EventBusName": "bus", "Source": "src", "DetailType": "X", "Detail": json.dumps({"tenantId": t})}
        for t in ("a", "b", "c")
    ]
    with faults.scope("fn", EVENT):
        response = events.put_events(Entries=entries)
    assert response["FailedEntryCount"] == 2
    assert [r.get("ErrorCode") for r in response["Entries"]] == [
        "ThrottlingException",
        None,
        "ThrottlingException",
    ]
    assert "EventId" in response["Entries"][1]
    assert received(sqs, queue) == ["b"]


def test_the_publisher_resends_what_a_partial_fault_rejected_and_each_event_arrives_once(aws: None) -> None:
    faults = Faults()
    events, sqs = hooked(faults, "events"), boto3.client("sqs", region_name="us-east-1")
    queue = bus_with_queue(events, sqs)
    faults.add(rule(kind="partial", service="events", operation="PutEvents", times=2))
    publisher = EventPublisher(events, "bus", "src", base_delay_seconds=0)
    with faults.scope("fn", EVENT):
        publisher.publish([Event("X", detail(t)) for t in ("a", "b", "c", "d")])  # rejects a,c then a
        publisher.publish([Event("X", detail("e"))])  # not rejected: the rule is used up
    assert received(sqs, queue) == ["a", "b", "c", "d", "e"]
    assert faults.injected() == {"total": 2, "partial": 2}


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"match": "x", "service": "s3", "operation": "PutObject"}, "missing fields: function"),
        ({"function": "f", "service": "s3"}, "missing fields: operation"),
        ({"function": "f", "kind": "explode", "service": "s3", "operation": "PutObject"}, "kind must be"),
        ({"function": "f", "kind": "duplicate", "service": "s3", "operation": "PutObject"}, "no service"),
        ({"function": "f", "kind": "partial", "service": "s3", "operation": "PutObject"}, "PutEvents"),
        ({"function": "f", "service": "s3", "operation": "PutObject", "times": 0}, "times"),
        ({"function": "f", "service": "s3", "operation": "PutObject", "every": 0}, "every"),
        ({"function": "f", "service": "s3", "operation": "PutObject", "probability": 0}, "probability"),
        ({"function": "f", "kind": "reorder", "delay": 901}, "delay"),
        ({"function": "f", "kind": "reorder", "delay": "1"}, "delay has the wrong type"),
        ({"function": "f", "kind": "reorder", "every": True}, "every has the wrong type"),
        ({"function": "f", "kind": "reorder", "when": "now"}, "unknown fields: when"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_problem(payload: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        Fault.parse(payload)


def test_delivery_faults_plan_duplicates_and_held_back_events_for_matching_events_only() -> None:
    faults = Faults()
    faults.add(rule(kind="duplicate", delay=2, times=None))
    faults.add(rule(kind="reorder", delay=3, every=2, times=None))
    assert faults.delivery("fn", {"slug": "globex"}) == Delivery()
    assert faults.delivery("other", EVENT) == Delivery()
    assert faults.delivery("fn", EVENT) == Delivery(duplicate_seconds=2)
    assert faults.delivery("fn", EVENT) == Delivery(hold_seconds=3, duplicate_seconds=2)
    assert faults.injected() == {"total": 3, "duplicate": 2, "reorder": 1}


# --- the local triggers carrying out a delivery plan ----------------------------------------------

RULE_SPEC = FunctionSpec("fn", "", RuleTrigger("r", "p", ("X",), async_retry_attempts=2))
STREAM_SPEC = FunctionSpec("fn", "", StreamTrigger(TableSpec("control"), batch_size=10, retry_attempts=0))


class Recorder:
    def __init__(self) -> None:
        self.delivered: list[Any] = []

    def invoke(
        self, name: str, event: Any, timeout_seconds: float = 900.0, request_id: str | None = None
    ) -> Invocation:
        self.delivered.append(
            [r["eventID"] for r in event["Records"]] if "Records" in event else event["detail"]["tenantId"]
        )
        return Invocation(name, {"batchItemFailures": []}, None, 1.0)


def by_tenant(plans: dict[str, Delivery]) -> Any:
    def plan(function: str, event: Any) -> Delivery:
        text = json.dumps(event)
        return next((d for t, d in plans.items() if t in text), Delivery())

    return plan


def test_the_event_pump_delivers_a_duplicate_later_and_a_held_back_event_after_the_next(aws: None) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="fn-events")["QueueUrl"]
    for tenant in ("t-dup", "t-held", "t-next"):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"detail": {"tenantId": tenant}}))
    runtime = Recorder()
    plan = by_tenant({"t-dup": Delivery(duplicate_seconds=0), "t-held": Delivery(hold_seconds=0)})
    pump = EventPump(sqs, queue, "dlq", runtime, RULE_SPEC, plan=plan)  # type: ignore[arg-type]
    while pump.pump():
        pass
    # The first poll's events run concurrently and SQS does not promise their order, so what is
    # asserted is what the plan promises: the copy and the held-back event come after that poll.
    first, later = runtime.delivered[:2], runtime.delivered[2:]
    assert sorted(first) == ["t-dup", "t-next"]
    assert sorted(later) == ["t-dup", "t-held"]
    pending = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
    assert pending["Attributes"]["ApproximateNumberOfMessages"] == "0"  # copies are never copied again


def test_the_event_pump_marks_its_copies_and_delays_them(aws: None) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="fn-events")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"detail": {"tenantId": "t-dup"}}))
    runtime = Recorder()
    pump = EventPump(sqs, queue, "dlq", runtime, RULE_SPEC, plan=lambda f, e: Delivery(duplicate_seconds=60))  # type: ignore[arg-type]
    pump.pump()
    assert runtime.delivered == ["t-dup"]
    assert pump.pump() == 0  # the copy waits its 60 seconds
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
    assert REDELIVERY == "localcloud-redelivery"


class Reader:
    def __init__(self, *batches: list[str]) -> None:
        self.batches = list(batches)

    def poll(self) -> list[dict[str, Any]]:
        ids = self.batches.pop(0) if self.batches else []
        return [
            {"eventID": i, "dynamodb": {"SequenceNumber": i, "NewImage": {"tenantId": {"S": i}}}} for i in ids
        ]


def test_the_stream_pump_duplicates_and_holds_back_records_until_they_are_due() -> None:
    now = [0.0]
    runtime = Recorder()
    plan = by_tenant({"r-dup": Delivery(duplicate_seconds=1), "r-held": Delivery(hold_seconds=2)})
    pump = StreamPump(
        Reader(["r-dup", "r-held", "r-1"], ["r-2"]),
        runtime,
        STREAM_SPEC,
        None,
        "dlq",
        plan=plan,
        clock=lambda: now[0],  # type: ignore[arg-type]
    )
    pump.pump()
    now[0] = 1.0
    pump.pump()
    now[0] = 2.0
    pump.pump()
    pump.pump()
    assert runtime.delivered == [["r-dup", "r-1"], ["r-2", "r-dup"], ["r-held"]]


def test_the_live_log_shows_a_stale_request_as_ignored() -> None:
    from localcloud.livelog import outcome_of

    ignored = {"ignored": "stale request: the tenant's latest operation is op-2"}
    assert outcome_of(Invocation("f", ignored, None, 1)) == "IGNORED " + ignored["ignored"]
