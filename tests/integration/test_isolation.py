"""Isolation, proven: every app route x (own tenant, other tenant). Another tenant's resource is a
404 indistinguishable from one that never existed, and nothing of the other tenant changes."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.helpers.dataset_seeds import bucket_of, seed_dataset, seed_dataset_objects
from tests.helpers.workspace_seeds import tenant_store
from tests.integration.conftest import admin_of

NEVER = "00000000-0000-4000-8000-000000000000"


def partition(cloud: Cloud, table: str, tenant_id: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
        ConsistentRead=True,
    )["Items"]
    return sorted(items, key=lambda i: i["SK"]["S"])


@pytest.fixture
def world(cloud: Cloud, app: ApiClient, onboard: Any) -> dict[str, Any]:
    """Tenant A (pool) and tenant B (silo), each with a member, an agent and an execution."""
    result: dict[str, Any] = {}
    for slug, tier in (("tenant-a", "PRO"), ("tenant-b", "ENTERPRISE")):
        tenant = onboard(slug, tier)
        admin = admin_of(cloud, app, slug)
        member = admin.post("/users", {"email": f"member@{slug}.example", "role": "member"}).data
        agent = admin.post("/agents", {"name": f"{slug}-agent"}).data
        execution = admin.post(f"/agents/{agent['agentId']}/executions", {"input": {"n": 1}}).data
        secret = admin.request("PUT", f"/secrets/{slug}-key", {"value": f"value-of-{slug}"}).data
        admin_id = admin.get("/me").data["userId"]
        store = tenant_store(cloud, tenant)
        dataset = seed_dataset(store, f"data-{slug}", admin_id)  # READY, with its objects
        objects = seed_dataset_objects(
            bucket_of(tenant, cloud.settings.tenant_bucket_name), tenant["tenantId"], dataset
        )
        seed_dataset(store, f"ds-{slug}", admin_id)  # the one its card uses
        card = admin.post("/cards", {"name": f"{slug}-card", "datasetIds": [f"ds-{slug}"]}).data
        group = admin.post("/groups", {"name": f"{slug}-group"}).data
        assert admin.post(f"/groups/{group['groupId']}/members", {"userId": member["userId"]}).status == 201
        dashboard = admin.post("/dashboards", {"name": f"{slug}-dashboard"}).data
        view = admin.post(
            f"/dashboards/{dashboard['dashboardId']}/filter-views", {"name": f"{slug}-view"}
        ).data
        share = admin.post(
            f"/dashboards/{dashboard['dashboardId']}/shares",
            {"targetType": "user", "targetId": member["userId"], "permission": "viewer"},
        ).data
        result[slug] = {
            "tenant": tenant,
            "admin": admin,
            "table": tenant["resources"].get("dedicatedTable") or cloud.settings.app_table_name,
            "bucket": bucket_of(tenant, cloud.settings.tenant_bucket_name),
            "objects": objects,
            "ids": {
                "userId": member["userId"],
                "agentId": agent["agentId"],
                "executionId": execution["executionId"],
                "name": secret["name"],
                "cardId": card["cardId"],
                "groupId": group["groupId"],
                "adminId": admin_id,
                "datasetId": dataset["datasetId"],
                "dashboardId": dashboard["dashboardId"],
                "viewId": view["viewId"],
                "shareId": share["shareId"],
            },
        }
    return result


# (method, path template, body): every route that names a resource
ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/users/{userId}", None),
    ("PATCH", "/users/{userId}", {"role": "admin", "version": 1}),
    ("DELETE", "/users/{userId}", None),
    ("GET", "/agents/{agentId}", None),
    ("PATCH", "/agents/{agentId}", {"name": "hijacked", "version": 1}),
    ("DELETE", "/agents/{agentId}", None),
    ("POST", "/agents/{agentId}/executions", {"input": {}}),
    ("GET", "/agents/{agentId}/executions", None),
    ("GET", "/executions/{executionId}", None),
    ("PATCH", "/executions/{executionId}", {"status": "RUNNING"}),
    ("GET", "/secrets/{name}", None),
    ("GET", "/secrets/{name}?reveal=true", None),
    ("DELETE", "/secrets/{name}", None),
    ("GET", "/cards/{cardId}", None),
    ("PATCH", "/cards/{cardId}", {"name": "hijacked", "version": 1}),
    ("DELETE", "/cards/{cardId}", None),
    ("GET", "/groups/{groupId}", None),
    ("PATCH", "/groups/{groupId}", {"name": "hijacked", "version": 1}),
    ("DELETE", "/groups/{groupId}", None),
    ("GET", "/groups/{groupId}/members", None),
    ("POST", "/groups/{groupId}/members", {"userId": "{adminId}"}),  # body ids are filled in too
    ("DELETE", "/groups/{groupId}/members/{userId}", None),
    ("GET", "/dashboards/{dashboardId}/shares", None),
    (
        "POST",
        "/dashboards/{dashboardId}/shares",
        {"targetType": "group", "targetId": "{groupId}", "permission": "viewer"},
    ),
    ("GET", "/dashboards/{dashboardId}/shares/{shareId}", None),
    ("PATCH", "/dashboards/{dashboardId}/shares/{shareId}", {"permission": "editor", "version": 1}),
    ("DELETE", "/dashboards/{dashboardId}/shares/{shareId}", None),
    ("GET", "/dashboards/{dashboardId}", None),
    ("PATCH", "/dashboards/{dashboardId}", {"name": "hijacked", "version": 1}),
    ("DELETE", "/dashboards/{dashboardId}", None),
    ("POST", "/dashboards/{dashboardId}/clone", {}),
    ("GET", "/dashboards/{dashboardId}/filter-views", None),
    ("POST", "/dashboards/{dashboardId}/filter-views", {"name": "hijacked"}),
    ("GET", "/dashboards/{dashboardId}/filter-views/{viewId}", None),
    ("PATCH", "/dashboards/{dashboardId}/filter-views/{viewId}", {"name": "hijacked", "version": 1}),
    ("DELETE", "/dashboards/{dashboardId}/filter-views/{viewId}", None),
    ("GET", "/datasets/{datasetId}", None),
    ("GET", "/datasets/{datasetId}/preview", None),
    ("PATCH", "/datasets/{datasetId}", {"name": "hijacked", "version": 1}),
    ("PATCH", "/datasets/{datasetId}", {"partitionColumn": "region", "version": 1}),  # copies its source
    ("POST", "/datasets/{datasetId}/uploads", None),
    ("DELETE", "/datasets/{datasetId}", None),
    # PUT /secrets/{name} names the caller's own secret of that name (test_secrets.py: the two
    # tenants' secrets of one name are two secrets, under two paths).
]


@pytest.mark.parametrize(("method", "template", "body"), ROUTES, ids=[f"{m} {t}" for m, t, _ in ROUTES])
def test_another_tenants_resource_is_404_and_untouched(
    cloud: Cloud, world: dict[str, Any], method: str, template: str, body: Any
) -> None:
    a, b = world["tenant-a"], world["tenant-b"]
    before = partition(cloud, b["table"], b["tenant"]["tenantId"])
    response = a["admin"].request(method, template.format(**b["ids"]), _filled(body, b["ids"]))
    nowhere = dict.fromkeys(b["ids"], NEVER)
    never = a["admin"].request(method, template.format(**nowhere), _filled(body, nowhere))
    assert response.status == 404
    assert response.error["code"] == never.error["code"] == "NOT_FOUND"
    assert response.error["message"].replace(b["ids"][_param(template)], "<id>") == never.error[
        "message"
    ].replace(NEVER, "<id>")
    assert partition(cloud, b["table"], b["tenant"]["tenantId"]) == before
    assert b["tenant"]["tenantId"] not in str(response.body)


@pytest.mark.parametrize(("method", "template", "body"), ROUTES, ids=[f"{m} {t}" for m, t, _ in ROUTES])
def test_the_same_route_works_on_the_own_tenant(
    world: dict[str, Any], method: str, template: str, body: Any
) -> None:
    a = world["tenant-a"]
    response = a["admin"].request(method, template.format(**a["ids"]), _filled(body, a["ids"]))
    assert response.status in (200, 201, 204), response.body


DATASET_ROUTES = [route for route in ROUTES if route[1].startswith("/datasets/")]


class _Recorded:
    """An S3 client that records each call made through it (operation, Bucket, Key)."""

    def __init__(self, client: Any, calls: list[tuple[str, Any, Any]]) -> None:
        self._client, self._calls = client, calls

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._client, name)
        if not callable(found) or name == "exceptions":
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append((name, kwargs.get("Bucket"), kwargs.get("Key")))
            return found(*args, **kwargs)

        return call


def test_another_tenants_dataset_objects_are_never_reached(
    cloud: Cloud, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every dataset route on another tenant's dataset id is a 404 that makes no S3 call at all (so
    its objects are never read, copied or deleted), while the same routes on the caller's own
    dataset do reach its objects (the recording works); the other tenant's objects are all there."""
    from tenancy.application.access.tenant_data import TenantData

    calls: list[tuple[str, Any, Any]] = []
    opened = TenantData.objects

    def recorded(self: TenantData, tenant_id: str) -> Any:
        objects = opened(self, tenant_id)
        return type(objects)(_Recorded(objects.s3, calls), objects.bucket, objects.prefix)

    monkeypatch.setattr(TenantData, "objects", recorded)
    a, b = world["tenant-a"], world["tenant-b"]
    for method, template, body in DATASET_ROUTES:
        response = a["admin"].request(method, template.format(**b["ids"]), body)
        assert response.status == 404, (method, template, response.body)
    assert calls == []
    own = a["admin"].get(f"/datasets/{a['ids']['datasetId']}/preview")
    assert own.status == 200, own.body
    prefix = f"tenants/{a['tenant']['tenantId']}/"
    assert [(operation, bucket) for operation, bucket, _ in calls] == [("get_object", a["bucket"])]
    assert str(calls[0][2]).startswith(prefix)
    s3 = boto3.client("s3")
    for key in b["objects"]:
        assert s3.head_object(Bucket=b["bucket"], Key=key)["ContentLength"] > 0


def _param(template: str) -> str:
    return template.split("{")[1].split("}")[0]


def _filled(body: Any, ids: dict[str, str]) -> Any:
    """A body whose text may name the world's ids as the path does (`{"userId": "{adminId}"}`)."""
    if isinstance(body, dict):
        return {name: _filled(value, ids) for name, value in body.items()}
    return body.format(**ids) if isinstance(body, str) else body


def test_lists_and_audit_show_only_the_own_tenant(world: dict[str, Any]) -> None:
    a, b = world["tenant-a"], world["tenant-b"]
    for path in (
        "/users",
        "/agents",
        f"/agents/{a['ids']['agentId']}/executions",
        "/audit",
        "/usage",
        "/secrets",
        "/cards",
        "/cards?datasetId=ds-tenant-b",
        "/datasets",
        "/groups",
        f"/groups/{a['ids']['groupId']}/members",
        "/dashboards",
        f"/dashboards?ownerId={a['ids']['adminId']}",
        f"/dashboards/{a['ids']['dashboardId']}/filter-views",
    ):
        body = str(a["admin"].get(path).body)
        for value in (*b["ids"].values(), b["tenant"]["tenantId"], "tenant-b"):
            assert value not in body, (path, value)
    assert a["admin"].get("/me").data["email"] == "admin@tenant-a.example"


def test_config_is_the_own_tenants(world: dict[str, Any]) -> None:
    """`GET /config` names no tenant but the caller's: its own tier, limits and counts."""
    a, b = world["tenant-a"], world["tenant-b"]
    config = a["admin"].get("/config")
    assert config.status == 200, config.body
    assert (config.data["tenantId"], config.data["tier"]) == (a["tenant"]["tenantId"], "PRO")
    assert config.data["limits"]["users"]["used"] == 2  # its admin and member, not tenant-b's
    assert config.data["limits"]["agents"]["used"] == 1
    assert b["tenant"]["tenantId"] not in str(config.body)
    other = b["admin"].get("/config").data
    assert (other["tenantId"], other["tier"]) == (b["tenant"]["tenantId"], "ENTERPRISE")


def test_a_request_body_cannot_choose_the_tenant(cloud: Cloud, world: dict[str, Any]) -> None:
    a, b = world["tenant-a"], world["tenant-b"]
    before = partition(cloud, b["table"], b["tenant"]["tenantId"])
    sneaky = a["admin"].post("/agents", {"name": "x", "tenantId": b["tenant"]["tenantId"]})
    assert sneaky.status == 422  # unknown fields are refused outright
    assert partition(cloud, b["table"], b["tenant"]["tenantId"]) == before
