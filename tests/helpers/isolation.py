"""The isolation matrix's tenants, resources and routes (tests/integration/test_isolation*.py).

Two tenants, A (pool) and B (silo), onboarded once per module; their resources made by `Resources`,
each when first named (a route's path names the ids it needs: `template.format_map(resources)` makes
just those). What another tenant must find untouched is read by `partition` and `objects`.
"""

from __future__ import annotations

from typing import Any

import boto3

from tests.helpers.api import ApiClient, ApiResponse
from tests.helpers.cloud import Cloud
from tests.helpers.dataset_seeds import bucket_of, seed_dataset, seed_dataset_objects
from tests.helpers.workspace_seeds import table_of, tenant_store
from tests.integration.conftest import admin_of

NEVER = "00000000-0000-4000-8000-000000000000"
TENANTS = (("tenant-a", "PRO"), ("tenant-b", "ENTERPRISE"))

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
ROUTE_IDS = [f"{method} {template}" for method, template, _ in ROUTES]
DATASET_ROUTES = [route for route in ROUTES if route[1].startswith("/datasets/")]
# Every id a route may name, in the order the world makes them.
IDS = (
    "userId",
    "agentId",
    "executionId",
    "name",
    "datasetId",
    "cardId",
    "groupId",
    "dashboardId",
    "viewId",
    "shareId",
)


class Resources:
    """A tenant's resources for one use (`tag` keeps their names apart from other uses'), each made
    through the app API (datasets seeded READY with their objects) when first named, with what it
    needs: a group holds the member (`userId`), a share is the dashboard's to the member."""

    def __init__(
        self, cloud: Cloud, tenant: dict[str, Any], admin: ApiClient, admin_id: str, tag: str
    ) -> None:
        self.cloud, self.tenant, self.admin, self.tag = cloud, tenant, admin, tag
        self.slug = str(tenant["slug"])
        self.ids: dict[str, str] = {"adminId": admin_id}
        self.objects: list[str] = []  # the keys of the dataset's objects, once made

    def __getitem__(self, name: str) -> str:
        if name not in self.ids:
            self.ids[name] = getattr(self, f"_make_{name}")()
        return self.ids[name]

    def made(self, *names: str) -> dict[str, str]:
        return {name: self[name] for name in ("adminId", *names)}

    def _post(self, path: str, body: Any) -> dict[str, Any]:
        return _answered(self.admin.post(path, body), 201)

    def _make_userId(self) -> str:
        body = {"email": f"member-{self.tag}@{self.slug}.example", "role": "member"}
        return str(self._post("/users", body)["userId"])

    def _make_agentId(self) -> str:
        return str(self._post("/agents", {"name": f"agent-{self.tag}"})["agentId"])

    def _make_executionId(self) -> str:
        return str(self._post(f"/agents/{self['agentId']}/executions", {"input": {"n": 1}})["executionId"])

    def _make_name(self) -> str:
        response = self.admin.request("PUT", f"/secrets/key-{self.tag}", {"value": f"value-of-{self.tag}"})
        return str(_answered(response, 200, 201)["name"])

    def _make_datasetId(self) -> str:
        store = tenant_store(self.cloud, self.tenant)
        dataset = seed_dataset(store, f"data-{self.tag}", self.ids["adminId"])  # READY, with its objects
        self.objects = seed_dataset_objects(self.bucket, self.tenant["tenantId"], dataset)
        return str(dataset["datasetId"])

    def _make_cardId(self) -> str:
        dataset_id = f"ds-{self.tag}"  # the card's own dataset
        seed_dataset(tenant_store(self.cloud, self.tenant), dataset_id, self.ids["adminId"])
        return str(self._post("/cards", {"name": f"card-{self.tag}", "datasetIds": [dataset_id]})["cardId"])

    def _make_groupId(self) -> str:
        group_id = str(self._post("/groups", {"name": f"group-{self.tag}"})["groupId"])
        self._post(f"/groups/{group_id}/members", {"userId": self["userId"]})
        return group_id

    def _make_dashboardId(self) -> str:
        return str(self._post("/dashboards", {"name": f"dashboard-{self.tag}"})["dashboardId"])

    def _make_viewId(self) -> str:
        path = f"/dashboards/{self['dashboardId']}/filter-views"
        return str(self._post(path, {"name": f"view-{self.tag}"})["viewId"])

    def _make_shareId(self) -> str:
        body = {"targetType": "user", "targetId": self["userId"], "permission": "viewer"}
        return str(self._post(f"/dashboards/{self['dashboardId']}/shares", body)["shareId"])

    @property
    def table(self) -> str:
        return table_of(self.cloud, self.tenant)

    @property
    def bucket(self) -> str:
        return bucket_of(self.tenant, self.cloud.settings.tenant_bucket_name)


def _answered(response: ApiResponse, *statuses: int) -> dict[str, Any]:
    assert response.status in statuses, response.body
    return response.data  # type: ignore[no-any-return]


def admin_session(cloud: Cloud, app: ApiClient, tenant: dict[str, Any]) -> tuple[ApiClient, str]:
    """The tenant's admin as an app API client, and its user id."""
    admin = admin_of(cloud, app, str(tenant["slug"]))
    return admin, str(admin.get("/me").data["userId"])


def build_world(cloud: Cloud, app: ApiClient, onboard: Any, suffix: str = "") -> dict[str, Any]:
    """Tenant A (pool) and tenant B (silo), `tenant-a` and `tenant-b` (their slugs end with
    `suffix`), each with one of every resource a route names: a member in a group and shared a
    dashboard with a filter view, an agent with an execution, a secret, a READY dataset with its
    objects, a card on a dataset of its own."""
    world: dict[str, Any] = {}
    for name, tier in TENANTS:
        slug = f"{name}{suffix}"
        tenant = onboard(slug, tier)
        admin, admin_id = admin_session(cloud, app, tenant)
        resources = Resources(cloud, tenant, admin, admin_id, tag=slug)
        world[name] = {
            "slug": slug,
            "tenant": tenant,
            "admin": admin,
            "table": resources.table,
            "bucket": resources.bucket,
            "ids": resources.made(*IDS),
            "objects": resources.objects,
        }
    return world


def partition(table: str, tenant_id: str) -> list[dict[str, Any]]:
    """Every item of the tenant's partition of `table` (consistent, in key order)."""
    client, items = boto3.client("dynamodb"), []
    query: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"TENANT#{tenant_id}"}},
        "ConsistentRead": True,
    }
    while True:
        page = client.query(**query)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: i["SK"]["S"])
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def objects(bucket: str) -> dict[str, tuple[str, int]]:
    """Every object of `bucket`: key -> (ETag, size)."""
    found: dict[str, tuple[str, int]] = {}
    for page in boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            found[entry["Key"]] = (entry["ETag"], entry["Size"])
    return found


def filled(body: Any, ids: Any) -> Any:
    """A body whose text may name ids as the path does (`{"userId": "{adminId}"}`); `ids` a mapping
    or `Resources` (which makes what the body names)."""
    if isinstance(body, dict):
        return {name: filled(value, ids) for name, value in body.items()}
    return body.format_map(ids) if isinstance(body, str) else body


def param(template: str) -> str:
    """The first id a path template names."""
    return template.split("{")[1].split("}")[0]
