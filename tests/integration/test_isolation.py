"""Isolation, proven: every app route on another tenant's resource is a 404 indistinguishable from one
that never existed, and nothing of the other tenant changes (its partition and its objects, read
before and after each request). The routes on the caller's own resources: test_isolation_own_tenant.py.

The tenants are onboarded once for the module (seconds each): tenant A (pool) and tenant B (silo),
each with one of every resource a route names. Every test here only reads or is refused, and checks
that both tenants' partitions and objects are after it as they were before. Each test starts on the
world as built: should a test leave it changed (it failed, then), the next test gets two new tenants,
so that no test can pass on what another removed or fail for what another wrote.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.helpers.isolation import (
    DATASET_ROUTES,
    NEVER,
    ROUTE_IDS,
    ROUTES,
    build_world,
    filled,
    objects,
    param,
    partition,
)

State = dict[str, Any]


def state_of(world: dict[str, Any]) -> State:
    """What no test of this module may change: both tenants' partitions and their buckets' objects."""
    state: State = {}
    for name, tenant in world.items():
        state[f"{name} partition"] = partition(tenant["table"], tenant["tenant"]["tenantId"])
        state[f"{name} objects"] = objects(tenant["bucket"])
    return state


class SharedWorld:
    """The module's tenants, with their state as built; built anew (two new tenants, their slugs
    numbered) for the next test when a test left them changed."""

    def __init__(self, cloud: Cloud, app: ApiClient, onboard: Any) -> None:
        self._cloud, self._app, self._onboard = cloud, app, onboard
        self.builds = 0
        self._build()

    def _build(self) -> None:
        suffix = f"-{self.builds}" if self.builds else ""
        self.world = build_world(self._cloud, self._app, self._onboard, suffix)
        self.built = state_of(self.world)
        self.builds += 1

    def as_built(self) -> State:
        """The state as built, now: the tenants' if no test changed them, else new tenants'."""
        if state_of(self.world) != self.built:
            self._build()
        return self.built


@pytest.fixture(scope="module")
def shared(module_cloud: Cloud, module_app: ApiClient, module_onboard: Any) -> SharedWorld:
    return SharedWorld(module_cloud, module_app, module_onboard)


@pytest.fixture
def before(shared: SharedWorld) -> State:
    """The world's state as the test starts: as built, whatever an earlier test did."""
    return shared.as_built()


@pytest.fixture
def world(shared: SharedWorld, before: State) -> dict[str, Any]:
    """Tenant A (pool) and tenant B (silo), `tenant-a` and `tenant-b`, each with one of every
    resource a route names (helpers/isolation.py), as built."""
    return shared.world


@pytest.mark.parametrize(("method", "template", "body"), ROUTES, ids=ROUTE_IDS)
def test_another_tenants_resource_is_404_and_untouched(
    world: dict[str, Any], before: State, method: str, template: str, body: Any
) -> None:
    a, b = world["tenant-a"], world["tenant-b"]
    response = a["admin"].request(method, template.format(**b["ids"]), filled(body, b["ids"]))
    nowhere = dict.fromkeys(b["ids"], NEVER)
    never = a["admin"].request(method, template.format(**nowhere), filled(body, nowhere))
    assert response.status == 404
    assert response.error["code"] == never.error["code"] == "NOT_FOUND"
    assert response.error["message"].replace(b["ids"][param(template)], "<id>") == never.error[
        "message"
    ].replace(NEVER, "<id>")
    after = state_of(world)
    assert after["tenant-b partition"] == before["tenant-b partition"]
    assert after["tenant-b objects"] == before["tenant-b objects"]
    assert after == before  # nor anything of the caller's: the request was refused
    assert b["tenant"]["tenantId"] not in str(response.body)


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
    world: dict[str, Any], before: State, monkeypatch: pytest.MonkeyPatch
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
    assert state_of(world) == before


def test_lists_and_audit_show_only_the_own_tenant(world: dict[str, Any], before: State) -> None:
    a, b = world["tenant-a"], world["tenant-b"]
    for path in (
        "/users",
        "/agents",
        f"/agents/{a['ids']['agentId']}/executions",
        "/audit",
        "/usage",
        "/secrets",
        "/cards",
        f"/cards?datasetId=ds-{b['slug']}",
        "/datasets",
        "/groups",
        f"/groups/{a['ids']['groupId']}/members",
        "/dashboards",
        f"/dashboards?ownerId={a['ids']['adminId']}",
        f"/dashboards/{a['ids']['dashboardId']}/filter-views",
    ):
        body = str(a["admin"].get(path).body)
        for value in (*b["ids"].values(), b["tenant"]["tenantId"], b["slug"]):
            assert value not in body, (path, value)
    assert a["admin"].get("/me").data["email"] == f"admin@{a['slug']}.example"
    assert state_of(world) == before  # reading wrote nothing


def test_config_is_the_own_tenants(world: dict[str, Any], before: State) -> None:
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
    assert state_of(world) == before  # reading wrote nothing


def test_a_request_body_cannot_choose_the_tenant(world: dict[str, Any], before: State) -> None:
    a, b = world["tenant-a"], world["tenant-b"]
    sneaky = a["admin"].post("/agents", {"name": "x", "tenantId": b["tenant"]["tenantId"]})
    assert sneaky.status == 422  # unknown fields are refused outright
    assert state_of(world) == before
