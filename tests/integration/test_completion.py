"""Results -> status: only a tenant still waiting for this very operation moves."""

from __future__ import annotations

from typing import Any

import pytest

from tenancy.control.models import Status
from tenancy.control.store import ControlStore
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud, sample_event
from tests.integration.conftest import force_status, new_tenant


def result_event(detail_type: str, tenant_id: str, operation_id: str | None, **detail: Any) -> dict[str, Any]:
    sample = (
        "eventbridge-tenant-provisioned.json"
        if detail_type == "TenantProvisioned"
        else "eventbridge-tenant-deprovisioned.json"
    )
    event = sample_event(sample)
    event["detail"] = {"tenantId": tenant_id, "timestamp": "2026-11-25T10:00:00.000Z", **detail}
    if operation_id is not None:
        event["detail"]["operationId"] = operation_id
    return event


def complete(cloud: Cloud, event: dict[str, Any]) -> dict[str, Any]:
    invocation = cloud.runtime.invoke("provisioning_completion", event)
    assert invocation.error is None, invocation.error
    return invocation.result  # type: ignore[no-any-return]


@pytest.fixture
def provisioning(api: ApiClient, store: ControlStore) -> dict[str, Any]:
    """A tenant in PROVISIONING under operation `op-1`."""
    tenant = new_tenant(api)
    store.transition(tenant["tenantId"], Status.PROVISIONING, set_fields={"operationId": "op-1"})
    return tenant


def test_completed_moves_to_provisioned_with_resources(cloud: Cloud, provisioning: dict[str, Any]) -> None:
    tid = provisioning["tenantId"]
    resources = {"s3Prefix": f"tenants/{tid}/"}
    assert complete(
        cloud, result_event("TenantProvisioned", tid, "op-1", status="COMPLETED", resources=resources)
    ) == {
        "tenantId": tid,
        "status": "PROVISIONED",
    }
    item = cloud.tenant_item(tid)
    assert item is not None
    assert item["provisioningStatus"] == "PROVISIONED"
    assert item["resources"] == resources
    assert "error" not in item


def test_failed_moves_to_failed_with_the_error(cloud: Cloud, provisioning: dict[str, Any]) -> None:
    tid = provisioning["tenantId"]
    complete(
        cloud,
        result_event("TenantProvisioned", tid, "op-1", status="FAILED", resources={}, error="AccessDenied"),
    )
    item = cloud.tenant_item(tid)
    assert item is not None
    assert (item["provisioningStatus"], item["error"]) == ("FAILED", "AccessDenied")


def test_a_duplicate_result_changes_nothing(cloud: Cloud, provisioning: dict[str, Any]) -> None:
    tid = provisioning["tenantId"]
    event = result_event("TenantProvisioned", tid, "op-1", status="COMPLETED", resources={"s3Prefix": "p/"})
    complete(cloud, event)
    before = cloud.tenant_item(tid)
    assert complete(cloud, event)["status"] == "UNCHANGED"
    assert cloud.tenant_item(tid) == before


def test_a_late_failure_never_moves_a_provisioned_tenant_backwards(
    cloud: Cloud, provisioning: dict[str, Any]
) -> None:
    tid = provisioning["tenantId"]
    complete(cloud, result_event("TenantProvisioned", tid, "op-1", status="COMPLETED", resources={}))
    complete(
        cloud, result_event("TenantProvisioned", tid, "op-1", status="FAILED", resources={}, error="late")
    )
    item = cloud.tenant_item(tid)
    assert item is not None
    assert item["provisioningStatus"] == "PROVISIONED"
    assert "error" not in item


def test_a_result_of_an_earlier_attempt_is_ignored(
    cloud: Cloud, store: ControlStore, provisioning: dict[str, Any]
) -> None:
    tid = provisioning["tenantId"]
    complete(
        cloud,
        result_event("TenantProvisioned", tid, "op-1", status="FAILED", resources={}, error="first try"),
    )
    store.transition(tid, Status.PENDING)
    store.transition(tid, Status.PROVISIONING, set_fields={"operationId": "op-2"})
    # the first attempt's failure, delivered again late, must not fail the second attempt
    complete(
        cloud,
        result_event("TenantProvisioned", tid, "op-1", status="FAILED", resources={}, error="first try"),
    )
    item = cloud.tenant_item(tid)
    assert item is not None
    assert item["provisioningStatus"] == "PROVISIONING"
    complete(cloud, result_event("TenantProvisioned", tid, "op-2", status="COMPLETED", resources={}))
    assert cloud.tenant_item(tid)["provisioningStatus"] == "PROVISIONED"  # type: ignore[index]


@pytest.mark.parametrize("status", [Status.PENDING, Status.OFFBOARDING, Status.DEPROVISIONED])
def test_out_of_order_results_are_ignored(
    api: ApiClient, cloud: Cloud, store: ControlStore, status: Status
) -> None:
    tenant = new_tenant(api)
    force_status(store, tenant["tenantId"], status)
    before = cloud.tenant_item(tenant["tenantId"])
    for event in (
        result_event("TenantProvisioned", tenant["tenantId"], None, status="COMPLETED", resources={}),
        result_event("TenantProvisioned", tenant["tenantId"], None, status="FAILED", resources={}, error="x"),
        result_event("TenantDeprovisioned", tenant["tenantId"], None, status="COMPLETED"),
    ):
        if status is Status.DEPROVISIONED and event["detail-type"] == "TenantDeprovisioned":
            continue
        assert complete(cloud, event)["status"] == "UNCHANGED"
    assert cloud.tenant_item(tenant["tenantId"]) == before


def test_deprovisioned_is_final_and_frees_the_slug(api: ApiClient, cloud: Cloud, store: ControlStore) -> None:
    tenant = new_tenant(api, "reused")
    tid = tenant["tenantId"]
    force_status(store, tid, Status.OFFBOARDING)
    store.transition(tid, Status.DEPROVISIONING, set_fields={"operationId": "op-9"})
    event = result_event("TenantDeprovisioned", tid, "op-9", status="COMPLETED")
    complete(cloud, event)
    item = cloud.tenant_item(tid)
    assert item is not None
    assert item["provisioningStatus"] == "DEPROVISIONED"  # the tombstone stays
    assert not [i for i in cloud.control_items() if i["PK"] == "SLUG#reused"]
    assert complete(cloud, event)["status"] == "UNCHANGED"
    assert new_tenant(api, "reused")["tenantId"] != tid
    # a late duplicate must not free the slug now held by the new tenant
    complete(cloud, event)
    assert [i["tenantId"] for i in cloud.control_items() if i["PK"] == "SLUG#reused"] != [tid]
    assert len([i for i in cloud.control_items() if i["PK"] == "SLUG#reused"]) == 1


def test_a_failed_deprovisioning_ends_in_failed_and_can_be_offboarded_again(
    api: ApiClient, cloud: Cloud, store: ControlStore
) -> None:
    tenant = new_tenant(api)
    tid = tenant["tenantId"]
    force_status(store, tid, Status.OFFBOARDING)
    store.transition(tid, Status.DEPROVISIONING, set_fields={"operationId": "op-3"})
    complete(cloud, result_event("TenantDeprovisioned", tid, "op-3", status="FAILED", error="DELETE_FAILED"))
    item = cloud.tenant_item(tid)
    assert item is not None
    assert (item["provisioningStatus"], item["error"]) == ("FAILED", "DELETE_FAILED")
    assert api.delete(f"/tenants/{tid}").status == 202


def test_an_event_that_is_not_a_result_is_refused(cloud: Cloud) -> None:
    invocation = cloud.runtime.invoke(
        "provisioning_completion", sample_event("eventbridge-tenant-onboarding.json")
    )
    assert invocation.error is not None


def test_a_result_for_an_unknown_tenant_is_acknowledged_not_retried(cloud: Cloud) -> None:
    for sample in ("eventbridge-tenant-provisioned.json", "eventbridge-tenant-deprovisioned.json"):
        assert complete(cloud, sample_event(sample))["status"] == "UNCHANGED"
    assert cloud.control_items() == []
