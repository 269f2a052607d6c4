"""The reconciler: a lost request is driven again, a lost result ends in FAILED."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3

from tenancy.contracts.publisher import EventPublisher
from tenancy.control.models import Status
from tenancy.control.reconciler import reconcile
from tenancy.control.store import ControlStore
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud, sample_event
from tests.integration.conftest import force_status, new_tenant

LATER = datetime.now(UTC) + timedelta(hours=3)


def run(cloud: Cloud, store: ControlStore, now: datetime = LATER) -> tuple[list[str], list[str]]:
    publisher = EventPublisher(
        boto3.client("events"), cloud.settings.event_bus_name, cloud.settings.control_plane_source
    )
    report = reconcile(
        store, publisher, redrive_after=timedelta(minutes=5), fail_after=timedelta(hours=2), now=now
    )
    return report.redriven, report.timed_out


def test_fresh_tenants_are_left_alone(api: ApiClient, cloud: Cloud, store: ControlStore) -> None:
    new_tenant(api)
    assert run(cloud, store, now=datetime.now(UTC)) == ([], [])
    assert cloud.bus_events() == []


def test_a_tenant_stuck_in_pending_is_driven_again(api: ApiClient, cloud: Cloud, store: ControlStore) -> None:
    tenant = new_tenant(api)
    assert run(cloud, store) == ([tenant["tenantId"]], [])
    item = cloud.tenant_item(tenant["tenantId"])
    assert item is not None
    assert item["provisioningStatus"] == "PROVISIONING"
    [event] = cloud.bus_events("TenantOnboarding")
    assert event["detail"]["operationId"] == item["operationId"]


def test_a_tenant_stuck_in_offboarding_is_driven_again(
    api: ApiClient, cloud: Cloud, store: ControlStore
) -> None:
    tenant = new_tenant(api)
    force_status(store, tenant["tenantId"], Status.OFFBOARDING)
    assert run(cloud, store) == ([tenant["tenantId"]], [])
    assert [e["detail-type"] for e in cloud.bus_events()] == ["TenantOffboarding"]


def test_a_tenant_whose_result_never_came_fails_with_an_error(
    api: ApiClient, cloud: Cloud, store: ControlStore
) -> None:
    waiting = new_tenant(api, "waiting")
    leaving = new_tenant(api, "leaving")
    store.transition(waiting["tenantId"], Status.PROVISIONING, set_fields={"operationId": "op-1"})
    force_status(store, leaving["tenantId"], Status.DEPROVISIONING)
    redriven, timed_out = run(cloud, store)
    assert redriven == []
    assert sorted(timed_out) == sorted([waiting["tenantId"], leaving["tenantId"]])
    item = cloud.tenant_item(waiting["tenantId"])
    assert item is not None
    assert item["provisioningStatus"] == "FAILED"
    assert "no result for PROVISIONING operation op-1" in item["error"]
    assert api.post(f"/tenants/{waiting['tenantId']}/retry").status == 202


def test_settled_tenants_are_never_touched(api: ApiClient, cloud: Cloud, store: ControlStore) -> None:
    statuses = [Status.PROVISIONED, Status.FAILED, Status.DEPROVISIONED]
    tenants = [new_tenant(api, f"settled-{i}") for i in range(len(statuses))]
    for tenant, status in zip(tenants, statuses, strict=True):
        force_status(store, tenant["tenantId"], status)
    before = [cloud.tenant_item(t["tenantId"]) for t in tenants]
    assert run(cloud, store) == ([], [])
    assert [cloud.tenant_item(t["tenantId"]) for t in tenants] == before


def test_the_handler_reports_what_it_did(api: ApiClient, cloud: Cloud) -> None:
    invocation = cloud.runtime.invoke("reconciler", sample_event("eventbridge-scheduled-reconcile.json"))
    assert invocation.error is None
    assert invocation.result == {"redriven": [], "timedOut": []}
