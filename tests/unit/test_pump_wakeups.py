"""The local cloud's pumps sleep until a function's call may have given them work (cloud.Activity)."""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from localcloud.cloud import EVENTS, STREAM, Activity, _tables_of
from localcloud.moto_fixes import apply as apply_moto_fixes
from tenancy_infra.topology import APP_TABLE, CONTROL_TABLE, create_table_request


def test_the_tables_a_write_names() -> None:
    assert _tables_of({"TableName": "a"}) == {"a"}
    assert _tables_of({"TransactItems": [{"Put": {"TableName": "a"}}, {"Update": {"TableName": "b"}}]}) == {
        "a",
        "b",
    }
    assert _tables_of({"RequestItems": {"c": []}}) == {"c"}


def test_writes_to_a_streamed_table_wake_the_stream_pumps_and_put_events_the_event_pumps() -> None:
    apply_moto_fixes()
    activity = Activity(frozenset({"control"}))
    stream, events = activity.waiter(STREAM), activity.waiter(EVENTS)
    with mock_aws():
        dynamodb: Any = boto3.client("dynamodb", region_name="us-east-1")
        bus: Any = boto3.client("events", region_name="us-east-1")
        for client in (dynamodb, bus):
            activity.register(client)
        dynamodb.create_table(**create_table_request(CONTROL_TABLE, "control"))
        dynamodb.create_table(**create_table_request(APP_TABLE, "app"))
        assert not stream.is_set()  # creating tables is no write

        dynamodb.put_item(TableName="app", Item={"PK": {"S": "a"}, "SK": {"S": "b"}})
        dynamodb.get_item(TableName="control", Key={"PK": {"S": "a"}, "SK": {"S": "b"}})
        assert not stream.is_set()  # a table without a stream, and a read: nothing to deliver
        assert not events.is_set()

        dynamodb.transact_write_items(
            TransactItems=[{"Put": {"TableName": "control", "Item": {"PK": {"S": "t"}, "SK": {"S": "m"}}}}]
        )
        assert stream.is_set()
        assert not events.is_set()

        stream.clear()
        bus.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}])
        assert events.is_set()
        assert not stream.is_set()


def test_stopping_wakes_every_pump() -> None:
    activity = Activity()
    waiters = [activity.waiter(STREAM), activity.waiter(EVENTS)]
    activity.wake()
    assert all(w.is_set() for w in waiters)
