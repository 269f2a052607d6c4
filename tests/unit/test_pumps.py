"""The local triggers keep the deployed retry semantics: stream batches retried from the first
failed record within bounds then dead-lettered; async events retried then dead-lettered."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from localcloud.livelog import outcome_of, tenant_of
from localcloud.pumps import EventPump, StreamPump
from localcloud.runtime import Invocation
from tenancy_infra.topology import FunctionSpec, RuleTrigger, StreamTrigger, TableSpec

STREAM_SPEC = FunctionSpec(
    "provisioning", "", StreamTrigger(TableSpec("control"), batch_size=3, retry_attempts=2)
)
RULE_SPEC = FunctionSpec("tenant_provisioner", "", RuleTrigger("r", "p", ("X",), async_retry_attempts=2))


def record(seq: int) -> dict[str, Any]:
    return {"eventID": str(seq), "eventName": "INSERT", "dynamodb": {"SequenceNumber": str(seq)}}


@dataclass
class FakeReader:
    records: list[dict[str, Any]]

    def poll(self) -> list[dict[str, Any]]:
        records, self.records = self.records, []
        return records


@dataclass
class FakeRuntime:
    """Fails the records whose sequence number is in `failing` (as batchItemFailures)."""

    failing: set[str] = field(default_factory=set)
    raise_error: bool = False
    batches: list[list[str]] = field(default_factory=list)
    request_ids: list[str | None] = field(default_factory=list)

    def invoke(
        self, name: str, event: Any, timeout_seconds: float = 900.0, request_id: str | None = None
    ) -> Invocation:
        self.request_ids.append(request_id)
        if "Records" in event:
            sequence = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
            self.batches.append(sequence)
            failures = [{"itemIdentifier": s} for s in sequence if s in self.failing]
            return Invocation(name, {"batchItemFailures": failures}, None, 1.0)
        self.batches.append([event["id"]])
        if self.raise_error:
            return Invocation(name, None, RuntimeError("boom"), 1.0)
        return Invocation(name, {"ok": True}, None, 1.0)


@dataclass
class FakeSqs:
    """Every message is received on every poll (visibility is recorded, not applied)."""

    queues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    receipts: int = 0
    hidden_for: list[int] = field(default_factory=list)  # each VisibilityTimeout set, in order

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        self.receipts += 1
        self.queues.setdefault(QueueUrl, []).append(
            {
                "Body": MessageBody,
                "MessageId": f"m-{self.receipts}",
                "ReceiptHandle": str(self.receipts),
                "received": 0,
            }
        )

    def receive_message(self, QueueUrl: str, **_: Any) -> dict[str, Any]:
        messages = self.queues.get(QueueUrl, [])
        for message in messages:
            message["received"] += 1
        return {
            "Messages": [
                {**m, "Attributes": {"ApproximateReceiveCount": str(m["received"])}} for m in messages
            ]
        }

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.queues[QueueUrl] = [m for m in self.queues[QueueUrl] if m["ReceiptHandle"] != ReceiptHandle]

    def change_message_visibility(self, VisibilityTimeout: int, **_: Any) -> None:
        self.hidden_for.append(VisibilityTimeout)


def test_a_clean_stream_batch_is_delivered_once_in_batches_of_the_configured_size() -> None:
    runtime = FakeRuntime()
    sqs = FakeSqs()
    pump = StreamPump(FakeReader([record(i) for i in range(5)]), runtime, STREAM_SPEC, sqs, "dlq")  # type: ignore[arg-type]
    assert pump.pump() == 5
    assert runtime.batches == [["0", "1", "2"], ["3", "4"]]
    assert sqs.queues == {}


def test_a_failing_record_is_retried_from_itself_within_bounds_then_dead_lettered() -> None:
    runtime = FakeRuntime(failing={"1"})
    sqs = FakeSqs()
    pump = StreamPump(FakeReader([record(0), record(1), record(2)]), runtime, STREAM_SPEC, sqs, "dlq")  # type: ignore[arg-type]
    pump.pump()
    # first attempt, then retry_attempts=2 retries resuming at the failed record
    assert runtime.batches == [["0", "1", "2"], ["1", "2"], ["1", "2"]]
    [dead] = sqs.queues["dlq"]
    body = json.loads(dead["Body"])
    assert body["function"] == "provisioning"
    assert [r["dynamodb"]["SequenceNumber"] for r in body["records"]] == ["1", "2"]


def test_an_event_that_keeps_failing_is_retried_then_dead_lettered() -> None:
    runtime = FakeRuntime(raise_error=True)
    sqs = FakeSqs()
    sqs.send_message("queue/123456789012/q", json.dumps({"id": "e1", "detail-type": "X"}))
    pump = EventPump(sqs, "queue/123456789012/q", "dlq", runtime, RULE_SPEC)  # type: ignore[arg-type]
    for _ in range(5):
        pump.pump()
    assert runtime.batches == [["e1"]] * 3  # 1 + async_retry_attempts
    assert sqs.hidden_for == [1, 2]  # Lambda's 1 and 2 minutes before its retries, as seconds
    assert runtime.request_ids == ["m-1"] * 3  # every retry of the event carries its request id
    assert sqs.queues["queue/123456789012/q"] == []
    [dead] = sqs.queues["dlq"]
    assert json.loads(dead["Body"])["id"] == "e1"


def test_a_failed_event_is_retried_only_after_its_delay() -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"id": "e3", "detail-type": "X"}))
        runtime = FakeRuntime(raise_error=True)
        pump = EventPump(sqs, queue, "dlq", runtime, RULE_SPEC, retry_delays=(1,))  # type: ignore[arg-type]
        assert pump.pump() == 1
        assert pump.pump() == 0  # hidden: Lambda waits before it retries
        assert pump.pump(wait_seconds=2) == 1  # back after its second
        assert runtime.batches == [["e3"]] * 2
        assert runtime.request_ids[0] == runtime.request_ids[1] is not None


def test_a_delivered_event_carries_the_account_and_is_deleted() -> None:
    runtime = FakeRuntime()
    sqs = FakeSqs()
    sqs.send_message("queue/123456789012/q", json.dumps({"id": "e2", "detail-type": "X"}))
    EventPump(sqs, "queue/123456789012/q", "dlq", runtime, RULE_SPEC).pump()  # type: ignore[arg-type]
    assert runtime.batches == [["e2"]]
    assert sqs.queues["queue/123456789012/q"] == []
    assert "dlq" not in sqs.queues


def test_the_live_log_names_tenant_and_outcome() -> None:
    event = {"detail": {"tenantId": "t-1"}, "detail-type": "TenantOnboarding"}
    assert tenant_of(event, None) == "t-1"
    assert tenant_of({"pathParameters": {"tenantId": "t-2"}}, None) == "t-2"
    assert tenant_of({}, {"statusCode": 201, "body": '{"data": {"tenantId": "t-3"}}'}) == "t-3"
    assert outcome_of(Invocation("f", {"statusCode": 409}, None, 1)) == "409"
    assert outcome_of(Invocation("f", None, ValueError("bad\nmore"), 1)) == "ERROR ValueError: bad"
    assert (
        outcome_of(Invocation("f", {"batchItemFailures": [{"itemIdentifier": "1"}]}, None, 1))
        == "1 record(s) failed"
    )
    failed = {"detail": {"status": "FAILED", "error": "denied"}}
    assert outcome_of(Invocation("f", failed, None, 1)) == "FAILED denied"


def test_moto_queries_read_one_partition_and_keep_their_results() -> None:
    import boto3
    from moto import mock_aws

    from localcloud import moto_fixes
    from tenancy_infra.topology import APP_TABLE, create_table_request

    moto_fixes.apply()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**create_table_request(APP_TABLE, "t"))
        for tenant in ("a", "ab", "b"):
            for i in range(3):
                client.put_item(
                    TableName="t",
                    Item={
                        "PK": {"S": f"TENANT#{tenant}"},
                        "SK": {"S": f"AGENT#{i}"},
                        "GSI1PK": {"S": "AGENT"},
                        "GSI1SK": {"S": f"{tenant}{i}"},
                    },
                )
        rows = client.query(
            TableName="t",
            KeyConditionExpression="PK = :pk AND begins_with(SK, :a)",
            ExpressionAttributeValues={":pk": {"S": "TENANT#a"}, ":a": {"S": "AGENT#"}},
            ScanIndexForward=False,
            Limit=2,
        )
        assert [r["SK"]["S"] for r in rows["Items"]] == ["AGENT#2", "AGENT#1"]
        assert rows["LastEvaluatedKey"] == {"PK": {"S": "TENANT#a"}, "SK": {"S": "AGENT#1"}}
        by_index = client.query(
            TableName="t",
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :t",
            ExpressionAttributeValues={":t": {"S": "AGENT"}},
        )
        assert len(by_index["Items"]) == 9  # index queries still see every partition
        assert len(client.scan(TableName="t")["Items"]) == 9
