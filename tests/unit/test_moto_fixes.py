"""The moto fix layer keeps DynamoDB's transaction semantics where moto does not (localcloud.moto_fixes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.streams import StreamReader
from tenancy_infra.topology import CONTROL_TABLE, create_table_request

TABLE = "control"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    from moto import mock_aws

    from localcloud import moto_fixes

    moto_fixes.apply()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**create_table_request(CONTROL_TABLE, TABLE))
        yield client


def reader(client: Any) -> StreamReader:
    return StreamReader(client, boto3.client("dynamodbstreams", region_name="us-east-1"), TABLE, "us-east-1")


def put(pk: str, **extra: str) -> dict[str, Any]:
    item = {"PK": {"S": pk}, "SK": {"S": "X"}, **{k: {"S": v} for k, v in extra.items()}}
    return {"Put": {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}


def keys_of(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["eventName"], r["dynamodb"]["Keys"]["PK"]["S"]) for r in records]


def test_a_cancelled_transaction_leaves_nothing_on_the_stream_and_the_reader_keeps_following(
    dynamodb: Any,
) -> None:
    stream = reader(dynamodb)
    dynamodb.transact_write_items(TransactItems=[put("TENANT#1"), put("SLUG#a", tenantId="1")])
    assert keys_of(stream.poll()) == [("INSERT", "TENANT#1"), ("INSERT", "SLUG#a")]

    with pytest.raises(ClientError) as refused:  # the slug is taken: the tenant put is cancelled too
        dynamodb.transact_write_items(TransactItems=[put("TENANT#2"), put("SLUG#a", tenantId="2")])
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in refused.value.response["CancellationReasons"]] == [
        "None",
        "ConditionalCheckFailed",
    ]
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": "TENANT#2"}, "SK": {"S": "X"}})
    assert stream.poll() == []  # DynamoDB streams nothing for a cancelled transaction

    dynamodb.transact_write_items(TransactItems=[put("TENANT#3"), put("SLUG#b", tenantId="3")])
    dynamodb.put_item(TableName=TABLE, Item={"PK": {"S": "TENANT#4"}, "SK": {"S": "X"}})
    assert keys_of(stream.poll()) == [("INSERT", "TENANT#3"), ("INSERT", "SLUG#b"), ("INSERT", "TENANT#4")]


def test_a_cancelled_transaction_keeps_the_tables_it_touched(dynamodb: Any) -> None:
    """moto swapped in deep copies of the tables on cancellation: whoever held the table (a stream
    shard, an iterator) went stale, and each transaction cost time in proportion to the table."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends["123456789012"]["us-east-1"]
    table, shard = backend.tables[TABLE], backend.tables[TABLE].stream_shard
    dynamodb.put_item(TableName=TABLE, Item={"PK": {"S": "SLUG#a"}, "SK": {"S": "X"}})
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[put("TENANT#2"), put("SLUG#a")])
    assert backend.tables[TABLE] is table
    assert table.stream_shard is shard


def test_condition_failures_return_the_old_item_when_asked(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"PK": {"S": "SLUG#a"}, "SK": {"S": "X"}, "tenantId": {"S": "1"}})
    marker = put("SLUG#a", tenantId="2")
    marker["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[put("TENANT#2"), marker])
    reasons = refused.value.response["CancellationReasons"]
    assert reasons[1]["Code"] == "ConditionalCheckFailed"
    assert reasons[1]["Item"]["tenantId"] == {"S": "1"}


def test_a_write_that_fails_after_others_were_applied_is_undone_with_its_stream_records(
    dynamodb: Any,
) -> None:
    stream = reader(dynamodb)
    dynamodb.put_item(TableName=TABLE, Item={"PK": {"S": "TENANT#1"}, "SK": {"S": "X"}, "name": {"S": "old"}})
    stream.poll()
    update = {
        "Update": {
            "TableName": TABLE,
            "Key": {"PK": {"S": "TENANT#1"}, "SK": {"S": "X"}},
            "UpdateExpression": "SET #n = :new",
            "ExpressionAttributeNames": {"#n": "name"},
            "ExpressionAttributeValues": {":new": {"S": "new"}},
        }
    }
    too_large = put("TENANT#2", blob="x" * 410_000)  # over DynamoDB's 400 KB item limit
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[update, too_large])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    item = dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": "TENANT#1"}, "SK": {"S": "X"}})["Item"]
    assert item["name"] == {"S": "old"}
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": "TENANT#2"}, "SK": {"S": "X"}})
    assert stream.poll() == []


def test_a_client_request_token_makes_a_retry_succeed_without_writing_again(dynamodb: Any) -> None:
    stream = reader(dynamodb)
    items = [put("TENANT#1"), put("SLUG#a", tenantId="1")]
    dynamodb.transact_write_items(TransactItems=items, ClientRequestToken="create-1")
    # The same request again (a retry after a lost response): success, and nothing written twice.
    dynamodb.transact_write_items(TransactItems=items, ClientRequestToken="create-1")
    assert keys_of(stream.poll()) == [("INSERT", "TENANT#1"), ("INSERT", "SLUG#a")]
    # Without the token the same request is a new one, and its conditions fail.
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=items)
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    # The same token with other parameters is refused.
    with pytest.raises(ClientError) as mismatch:
        dynamodb.transact_write_items(TransactItems=[put("TENANT#9")], ClientRequestToken="create-1")
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": "TENANT#9"}, "SK": {"S": "X"}})


def test_a_token_of_a_cancelled_transaction_does_not_replay_a_success(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"PK": {"S": "SLUG#a"}, "SK": {"S": "X"}})
    items = [put("TENANT#1"), put("SLUG#a")]
    for _ in range(2):
        with pytest.raises(ClientError) as refused:
            dynamodb.transact_write_items(TransactItems=items, ClientRequestToken="t")
        assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"


def test_an_event_reaches_a_queue_target_whole_as_eventbridge_delivers_it() -> None:
    import json

    from moto import mock_aws

    from localcloud import moto_fixes

    moto_fixes.apply()
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="target")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="all", EventPattern=json.dumps({"source": ["tenancy.control-plane"]}))
        events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": arn}])
        events.put_events(
            Entries=[
                {"Source": "tenancy.control-plane", "DetailType": "TenantOnboarding", "Detail": '{"a": [1]}'}
            ]
        )
        [message] = sqs.receive_message(QueueUrl=url)["Messages"]
        delivered = json.loads(message["Body"])
        assert set(delivered) == {
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
            "detail",
        }
        assert (delivered["account"], delivered["detail"], delivered["resources"]) == (
            "123456789012",
            {"a": [1]},
            [],
        )
        assert delivered["detail-type"] == "TenantOnboarding"
        assert delivered["time"].endswith("Z")  # ISO 8601, as EventBridge sends it
