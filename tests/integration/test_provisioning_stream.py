"""The control-table stream handler: lifecycle requests, idempotent and never losing an event."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest

from localcloud.streams import StreamReader
from tenancy.common.errors import EventPublishError
from tenancy.contracts.publisher import EventPublisher
from tenancy.control.models import Status
from tenancy.control.store import ControlStore
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud, sample_event
from tests.integration.conftest import force_status, new_tenant


@pytest.fixture
def stream(cloud: Cloud) -> StreamReader:
    return StreamReader(
        boto3.client("dynamodb"),
        boto3.client("dynamodbstreams"),
        cloud.settings.control_table_name,
        "us-east-1",
    )


def invoke(cloud: Cloud, records: list[dict[str, Any]]) -> dict[str, Any]:
    invocation = cloud.runtime.invoke("provisioning", {"Records": records})
    assert invocation.error is None, invocation.error
    return invocation.result  # type: ignore[no-any-return]


def test_a_new_tenant_is_moved_to_provisioning_and_announced(
    api: ApiClient, cloud: Cloud, stream: StreamReader
) -> None:
    tenant = new_tenant(api, "acme", "PRO")
    records = stream.poll()
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT"]  # tenant and slug marker
    assert invoke(cloud, records) == {"batchItemFailures": []}

    item = cloud.tenant_item(tenant["tenantId"])
    assert item is not None
    assert item["provisioningStatus"] == "PROVISIONING"
    assert item["GSI2PK"] == "STATUS#PROVISIONING"
    assert item["operationId"]
    [event] = cloud.bus_events()
    assert event["detail-type"] == "TenantOnboarding"
    assert event["source"] == "tenancy.control-plane"
    assert event["detail"] == {
        "tenantId": tenant["tenantId"],
        "tenantName": "acme inc",
        "tier": "PRO",
        "slug": "acme",
        "adminEmail": "admin@acme.example",
        "timestamp": event["detail"]["timestamp"],
        "operationId": item["operationId"],
    }


def test_offboarding_is_moved_to_deprovisioning_and_announced(
    api: ApiClient, cloud: Cloud, store: ControlStore, stream: StreamReader
) -> None:
    tenant = new_tenant(api, "acme", "ENTERPRISE")
    force_status(store, tenant["tenantId"], Status.PROVISIONED)
    stream.poll()  # history up to PROVISIONED is not under test here
    assert api.delete(f"/tenants/{tenant['tenantId']}").status == 202
    invoke(cloud, stream.poll())
    item = cloud.tenant_item(tenant["tenantId"])
    assert item is not None
    assert item["provisioningStatus"] == "DEPROVISIONING"
    updated, event = cloud.bus_events()
    assert (updated["detail-type"], updated["detail"]["status"]) == ("TenantUpdated", "OFFBOARDING")
    assert event["detail-type"] == "TenantOffboarding"
    assert event["detail"]["tier"] == "ENTERPRISE"
    assert event["detail"]["operationId"] == item["operationId"]


def test_other_changes_start_no_lifecycle_operation_but_each_is_announced_as_an_update(
    api: ApiClient, cloud: Cloud, store: ControlStore, stream: StreamReader
) -> None:
    tenant = new_tenant(api)
    force_status(store, tenant["tenantId"], Status.PROVISIONED)
    api.patch(f"/tenants/{tenant['tenantId']}", {"name": "renamed", "version": 3})
    records = stream.poll()
    entered_pending = [
        r for r in records if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["SK"]["S"] == "METADATA"
    ]
    others = [r for r in records if r not in entered_pending]
    assert len(others) == 4  # slug marker, PROVISIONING, PROVISIONED, rename
    assert invoke(cloud, others) == {"batchItemFailures": []}
    events = cloud.bus_events()
    assert {e["detail-type"] for e in events} == {"TenantUpdated"}
    assert [(e["detail"]["changedFields"], e["detail"]["version"]) for e in events] == [
        (["status"], 2),
        (["status"], 3),
        (["name"], 4),
    ]
    item = cloud.tenant_item(tenant["tenantId"])
    assert item is not None
    assert item["provisioningStatus"] == "PROVISIONED"


def test_a_duplicate_record_publishes_again_but_moves_nothing(
    api: ApiClient, cloud: Cloud, stream: StreamReader
) -> None:
    tenant = new_tenant(api)
    records = stream.poll()
    invoke(cloud, records)
    after_first = cloud.tenant_item(tenant["tenantId"])
    invoke(cloud, copy.deepcopy(records))
    assert cloud.tenant_item(tenant["tenantId"]) == after_first
    events = cloud.bus_events("TenantOnboarding")
    assert len(events) == 2  # at least once: consumers are idempotent
    assert events[0]["detail"]["operationId"] == events[1]["detail"]["operationId"]


def test_a_stale_record_for_a_tenant_that_moved_on_is_skipped(
    api: ApiClient, cloud: Cloud, store: ControlStore, stream: StreamReader
) -> None:
    tenant = new_tenant(api)
    insert = stream.poll()
    force_status(store, tenant["tenantId"], Status.PROVISIONED)
    assert invoke(cloud, insert) == {"batchItemFailures": []}
    assert cloud.bus_events() == []
    item = cloud.tenant_item(tenant["tenantId"])
    assert item is not None
    assert item["provisioningStatus"] == "PROVISIONED"


def test_a_failed_publish_reports_the_record_and_its_retry_delivers_the_event(
    api: ApiClient, cloud: Cloud, stream: StreamReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = new_tenant(api)
    records = stream.poll()
    tenant_record = next(r for r in records if r["dynamodb"]["Keys"]["SK"]["S"] == "METADATA")
    original = EventPublisher.publish

    def bus_down(self: EventPublisher, events: Any) -> None:
        raise EventPublishError("EventBridge rejected 1 event(s) after 4 attempts")

    monkeypatch.setattr(EventPublisher, "publish", bus_down)
    result = invoke(cloud, records)
    assert result == {"batchItemFailures": [{"itemIdentifier": tenant_record["dynamodb"]["SequenceNumber"]}]}
    item = cloud.tenant_item(tenant["tenantId"])
    assert item is not None
    assert item["provisioningStatus"] == "PROVISIONING"  # moved, but nothing announced yet
    assert cloud.bus_events() == []

    monkeypatch.setattr(EventPublisher, "publish", original)
    assert invoke(cloud, [tenant_record]) == {"batchItemFailures": []}
    [event] = cloud.bus_events("TenantOnboarding")
    assert event["detail"]["operationId"] == item["operationId"]


def test_a_record_for_an_unknown_tenant_is_skipped_not_retried(cloud: Cloud) -> None:
    invocation = cloud.runtime.invoke("provisioning", sample_event("dynamodb-stream-insert-pending.json"))
    assert invocation.error is None
    assert invocation.result == {"batchItemFailures": []}
    assert cloud.bus_events() == []


@pytest.mark.parametrize(
    ("sample", "detail_type", "status"),
    [
        ("dynamodb-stream-insert-pending.json", "TenantOnboarding", "PROVISIONING"),
        ("dynamodb-stream-modify-offboarding.json", "TenantOffboarding", "DEPROVISIONING"),
    ],
)
def test_the_sample_stream_events_drive_the_tenant_they_describe(
    cloud: Cloud, sample: str, detail_type: str, status: str
) -> None:
    event = sample_event(sample)
    image = event["Records"][0]["dynamodb"]["NewImage"]
    boto3.client("dynamodb").put_item(TableName=cloud.settings.control_table_name, Item=image)
    invocation = cloud.runtime.invoke("provisioning", event)
    assert invocation.result == {"batchItemFailures": []}
    modify = event["Records"][0]["eventName"] == "MODIFY"  # a status change: announced as well
    assert [e["detail-type"] for e in cloud.bus_events()] == ["TenantUpdated"] * modify + [detail_type]
    item = cloud.tenant_item(image["tenantId"]["S"])
    assert item is not None
    assert item["provisioningStatus"] == status


# --- TenantUpdated: every change of a tenant reaches the application plane --------------------


def test_every_kind_of_change_is_announced_with_its_fields_and_version(
    api: ApiClient, cloud: Cloud, store: ControlStore, stream: StreamReader
) -> None:
    tenant = new_tenant(api, "acme", "FREE")
    tenant_id = tenant["tenantId"]
    force_status(store, tenant_id, Status.PROVISIONED)  # versions 2, 3
    stream.poll()
    url = f"/tenants/{tenant_id}"
    assert api.patch(url, {"tier": "PRO", "name": "Acme Pro", "version": 3}).status == 200
    assert api.patch(f"{url}/config", {"limits": {"users": 42}, "version": 4}).status == 200
    assert invoke(cloud, stream.poll()) == {"batchItemFailures": []}
    plan_change, overrides = cloud.bus_events("TenantUpdated")
    assert plan_change["source"] == "tenancy.control-plane"
    assert plan_change["detail"] == {
        "tenantId": tenant_id,
        "timestamp": plan_change["detail"]["timestamp"],
        "changedFields": ["name", "tier"],
        "version": 4,
        "tenantName": "Acme Pro",
        "tier": "PRO",
        "isolation": "pool",
        "status": "PROVISIONED",
        "overrides": {},
    }
    assert overrides["detail"]["changedFields"] == ["overrides"]
    assert overrides["detail"]["version"] == 5
    assert overrides["detail"]["overrides"] == {"limits": {"users": 42}}


def test_a_failure_is_announced_with_its_error(
    api: ApiClient, cloud: Cloud, store: ControlStore, stream: StreamReader
) -> None:
    tenant = new_tenant(api)
    force_status(store, tenant["tenantId"], Status.PROVISIONING)
    stream.poll()
    store.transition(tenant["tenantId"], Status.FAILED, set_fields={"error": "stack ROLLBACK_COMPLETE"})
    invoke(cloud, stream.poll())
    [event] = cloud.bus_events("TenantUpdated")
    assert event["detail"]["changedFields"] == ["status", "error"]
    assert (event["detail"]["status"], event["detail"]["error"]) == ("FAILED", "stack ROLLBACK_COMPLETE")


def test_a_refused_change_writes_nothing_and_announces_nothing(
    api: ApiClient, cloud: Cloud, store: ControlStore, stream: StreamReader
) -> None:
    tenant = new_tenant(api)
    stream.poll()
    url = f"/tenants/{tenant['tenantId']}"
    assert api.patch(url, {"tier": "ENTERPRISE", "version": 1}).status == 409
    assert api.put(f"{url}/config", {"limits": {"users": 1}, "version": 7}).status == 409
    assert api.patch(f"{url}/config", {"limits": {"seats": 1}, "version": 1}).status == 422
    assert stream.poll() == []
    assert api.get(url).data["version"] == 1


def test_a_redelivered_update_is_published_again_with_the_same_version(
    api: ApiClient, cloud: Cloud, stream: StreamReader
) -> None:
    tenant = new_tenant(api)
    stream.poll()
    api.patch(f"/tenants/{tenant['tenantId']}", {"name": "Again", "version": 1})
    records = stream.poll()
    invoke(cloud, records)
    invoke(cloud, copy.deepcopy(records))
    first, second = cloud.bus_events("TenantUpdated")
    assert first["detail"] == second["detail"]  # consumers order by version: a duplicate is a no-op
