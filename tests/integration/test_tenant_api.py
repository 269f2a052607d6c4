"""The control-plane API: every status code, every transition, and nothing half-written."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tenancy.control.models import Status
from tenancy.control.store import ControlStore
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.integration.conftest import force_status, new_tenant

VALID = {"name": "Acme", "slug": "acme", "tier": "PRO", "adminEmail": "admin@acme.example"}


def test_create_returns_201_with_the_tenant_in_pending(api: ApiClient, cloud: Cloud) -> None:
    response = api.post("/tenants", VALID)
    assert response.status == 201
    tenant = response.data
    assert tenant["provisioningStatus"] == "PENDING"
    assert tenant["tier"] == "PRO"
    assert tenant["isolation"] == "pool"
    assert tenant["version"] == 1
    assert tenant["slug"] == "acme"
    item = cloud.tenant_item(tenant["tenantId"])
    assert item is not None
    assert item["provisioningStatus"] == "PENDING"
    assert item["GSI2PK"] == "STATUS#PENDING"
    markers = [i for i in cloud.control_items() if i["PK"] == "SLUG#acme"]
    assert markers == [
        {"PK": "SLUG#acme", "SK": "SLUG", "tenantId": tenant["tenantId"], "createdAt": tenant["createdAt"]}
    ]


def test_enterprise_tenants_are_silo(api: ApiClient) -> None:
    assert api.post("/tenants", {**VALID, "tier": "ENTERPRISE"}).data["isolation"] == "silo"


def test_duplicate_slug_is_409_and_writes_nothing(api: ApiClient, cloud: Cloud) -> None:
    new_tenant(api, "acme")
    before = cloud.control_items()
    response = api.post("/tenants", {**VALID, "name": "Other"})
    assert response.status == 409
    assert response.error["code"] == "SLUG_TAKEN"
    assert response.error["details"] == [{"field": "slug", "message": "already taken"}]
    assert cloud.control_items() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**VALID, "slug": "a#b"}, "slug"),
        ({**VALID, "slug": "has space"}, "slug"),
        ({**VALID, "slug": "UPPER"}, "slug"),
        ({**VALID, "slug": "ab"}, "slug"),
        ({**VALID, "tier": "pro"}, "tier"),
        ({**VALID, "tier": "GOLD"}, "tier"),
        ({**VALID, "name": "   "}, "name"),
        ({**VALID, "name": "x" * 101}, "name"),
        ({**VALID, "adminEmail": "not-an-email"}, "adminEmail"),
        ({**VALID, "unknown": 1}, "unknown"),
        ({k: v for k, v in VALID.items() if k != "tier"}, "tier"),
    ],
)
def test_invalid_bodies_are_422_naming_the_field_and_write_nothing(
    api: ApiClient, cloud: Cloud, body: dict[str, object], field: str
) -> None:
    response = api.post("/tenants", body)
    assert response.status == 422
    assert response.error["code"] == "VALIDATION_ERROR"
    assert field in [d["field"] for d in response.error["details"]]
    assert field in response.error["message"]
    assert cloud.control_items() == []


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2]", "null"])
def test_malformed_bodies_are_refused(api: ApiClient, cloud: Cloud, raw: str) -> None:
    response = api.post("/tenants", raw=raw)
    assert response.status in (400, 422)
    assert response.error["code"] in ("BAD_REQUEST", "VALIDATION_ERROR")
    assert cloud.control_items() == []


def test_invalid_json_is_400(api: ApiClient) -> None:
    response = api.post("/tenants", raw='{"name": "x",')
    assert response.status == 400
    assert response.error == {
        "code": "BAD_REQUEST",
        "message": "request body is not valid JSON",
        "details": [{"field": "body", "message": "invalid JSON"}],
    }


def test_oversized_body_is_413(api: ApiClient, cloud: Cloud) -> None:
    response = api.post("/tenants", raw=json.dumps({**VALID, "name": "x" * 20_000}))
    assert response.status == 413
    assert response.error["code"] == "PAYLOAD_TOO_LARGE"
    assert cloud.control_items() == []


def test_concurrent_creates_of_one_slug_admit_exactly_one(api: ApiClient, cloud: Cloud) -> None:
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(
            pool.map(lambda i: api.post("/tenants", {**VALID, "name": f"n{i}"}).status, range(10))
        )
    assert statuses == [201] + [409] * 9
    assert len([i for i in cloud.control_items() if i["SK"] == "METADATA"]) == 1


def test_get_returns_the_tenant_or_404(api: ApiClient) -> None:
    tenant = new_tenant(api)
    response = api.get(f"/tenants/{tenant['tenantId']}")
    assert response.status == 200
    assert response.data == tenant
    missing = api.get("/tenants/00000000-0000-0000-0000-000000000000")
    assert missing.status == 404
    assert missing.error["code"] == "NOT_FOUND"


def test_a_tenant_id_with_a_separator_is_refused(api: ApiClient) -> None:
    response = api.get("/tenants/a%23b")
    assert response.status == 422
    assert response.error["details"][0]["field"] == "tenantId"


def test_unknown_route_is_404(api: ApiClient) -> None:
    assert api.get("/nowhere").status == 404


def test_list_paginates_with_an_opaque_cursor(api: ApiClient) -> None:
    created = [new_tenant(api, f"tenant-{i:02d}")["tenantId"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    pages = []
    while True:
        response = api.get("/tenants?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status == 200
        pages.append(len(response.data))
        seen += [t["tenantId"] for t in response.data]
        pagination = response.body["pagination"]
        assert pagination["limit"] == 2
        assert pagination["has_next"] is (pagination["next_cursor"] is not None)
        cursor = pagination["next_cursor"]
        if not cursor:
            break
    assert pages == [2, 2, 1]
    assert seen == created  # oldest first, each exactly once


def test_list_filters_by_status_and_tier(api: ApiClient, store: ControlStore) -> None:
    free = new_tenant(api, "free-one", "FREE")
    pro = new_tenant(api, "pro-one", "PRO")
    new_tenant(api, "pro-two", "PRO")
    force_status(store, pro["tenantId"], Status.PROVISIONED)
    assert [t["tenantId"] for t in api.get("/tenants?tier=FREE").data] == [free["tenantId"]]
    assert [t["tenantId"] for t in api.get("/tenants?status=PROVISIONED").data] == [pro["tenantId"]]
    assert [t["tenantId"] for t in api.get("/tenants?status=PROVISIONED&tier=PRO").data] == [pro["tenantId"]]
    assert api.get("/tenants?status=PROVISIONED&tier=FREE").data == []


def test_a_filtered_page_is_full_while_more_match(api: ApiClient) -> None:
    for i in range(6):
        new_tenant(api, f"mixed-{i}", "PRO" if i % 2 else "FREE")
    response = api.get("/tenants?tier=PRO&limit=2")
    assert [t["slug"] for t in response.data] == ["mixed-1", "mixed-3"]
    second = api.get(f"/tenants?tier=PRO&limit=2&cursor={response.body['pagination']['next_cursor']}")
    assert [t["slug"] for t in second.data] == ["mixed-5"]
    assert second.body["pagination"]["has_next"] is False


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=x", "limit"),
        ("status=DONE", "status"),
        ("tier=free", "tier"),
    ],
)
def test_bad_list_parameters_are_422(api: ApiClient, query: str, field: str) -> None:
    response = api.get(f"/tenants?{query}")
    assert response.status == 422
    assert [d["field"] for d in response.error["details"]] == [field]


def test_a_cursor_from_another_query_or_forged_is_400(api: ApiClient) -> None:
    for i in range(3):
        new_tenant(api, f"cursor-{i}", "PRO")
    cursor = api.get("/tenants?tier=PRO&limit=1").body["pagination"]["next_cursor"]
    other = api.get(f"/tenants?tier=FREE&limit=1&cursor={cursor}")
    assert other.status == 400
    assert other.error["details"][0]["field"] == "cursor"
    assert api.get("/tenants?cursor=garbage").status == 400


def test_patch_renames_with_optimistic_locking(api: ApiClient) -> None:
    tenant = new_tenant(api)
    url = f"/tenants/{tenant['tenantId']}"
    renamed = api.patch(url, {"name": "Acme Two", "version": 1})
    assert renamed.status == 200
    assert (renamed.data["name"], renamed.data["version"]) == ("Acme Two", 2)
    stale = api.patch(url, {"name": "Lost update", "version": 1})
    assert stale.status == 409
    assert stale.error["code"] == "VERSION_CONFLICT"
    assert stale.error["details"]["currentVersion"] == 2
    assert api.get(url).data["name"] == "Acme Two"


def test_patch_errors(api: ApiClient) -> None:
    tenant = new_tenant(api)
    url = f"/tenants/{tenant['tenantId']}"
    assert api.patch(url, {"name": "x"}).status == 422  # version is required
    assert api.patch(url, {"version": 1}).status == 422  # nothing to change
    assert api.patch(url, {"tier": "GOLD", "version": 1}).status == 422
    crossing = api.patch(url, {"name": "x", "version": 1, "tier": "ENTERPRISE"})  # pool -> silo
    assert (crossing.status, crossing.error["code"]) == (409, "ISOLATION_CHANGE_UNSUPPORTED")
    assert crossing.error["details"] == [{"field": "tier", "message": "FREE → ENTERPRISE crosses pool/silo"}]
    assert api.patch("/tenants/unknown-id", {"name": "x", "version": 1}).status == 404
    assert api.get(url).data["version"] == 1


@pytest.mark.parametrize("status", list(Status))
def test_a_tenant_that_is_offboarding_or_offboarded_cannot_be_renamed(
    api: ApiClient, store: ControlStore, status: Status
) -> None:
    tenant = new_tenant(api)
    force_status(store, tenant["tenantId"], status)
    current = api.get(f"/tenants/{tenant['tenantId']}").data
    response = api.patch(f"/tenants/{tenant['tenantId']}", {"name": "Renamed", "version": current["version"]})
    if status in {Status.OFFBOARDING, Status.DEPROVISIONING, Status.DEPROVISIONED}:
        assert (response.status, response.error["code"]) == (409, "TENANT_OFFBOARDED")
        assert response.error["details"]["currentStatus"] == status
        assert api.get(f"/tenants/{tenant['tenantId']}").data == current  # nothing written
    else:
        assert (response.status, response.data["name"]) == (200, "Renamed")


OFFBOARDABLE = {Status.PROVISIONED, Status.FAILED}


@pytest.mark.parametrize("status", list(Status))
def test_delete_moves_to_offboarding_only_from_provisioned_or_failed(
    api: ApiClient, store: ControlStore, status: Status
) -> None:
    tenant = new_tenant(api)
    force_status(store, tenant["tenantId"], status)
    response = api.delete(f"/tenants/{tenant['tenantId']}")
    after = api.get(f"/tenants/{tenant['tenantId']}").data
    if status in OFFBOARDABLE:
        assert response.status == 202
        assert response.data["provisioningStatus"] == "OFFBOARDING"
        assert after["provisioningStatus"] == "OFFBOARDING"
    else:
        assert response.status == 409
        assert response.error["code"] == "ILLEGAL_TRANSITION"
        assert response.error["details"]["currentStatus"] == status
        assert status in response.error["message"]
        assert after["provisioningStatus"] == status


@pytest.mark.parametrize("status", list(Status))
def test_retry_moves_failed_back_to_pending_only(api: ApiClient, store: ControlStore, status: Status) -> None:
    tenant = new_tenant(api)
    force_status(store, tenant["tenantId"], status)
    response = api.post(f"/tenants/{tenant['tenantId']}/retry")
    if status is Status.FAILED:
        assert response.status == 202
        assert response.data["provisioningStatus"] == "PENDING"
        assert response.data["error"] is None
    else:
        assert response.status == 409
        assert response.error["details"]["currentStatus"] == status


def test_delete_and_retry_of_unknown_tenants_are_404(api: ApiClient) -> None:
    assert api.delete("/tenants/unknown-id").status == 404
    assert api.post("/tenants/unknown-id/retry").status == 404
