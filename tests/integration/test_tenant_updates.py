"""TenantUpdated -> SSM service discovery: status, error, tier and config beside the tenant's route,
ordered by the tenant's version, and kept through a whole lifecycle by the local cloud's pumps."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tenancy.application.access.routing import Route, RouteStore
from tenancy.application.discovery import DiscoveryNotSettled, DiscoveryState, TenantDiscovery
from tenancy.contracts.envelopes import TenantUpdatedEvent
from tenancy.contracts.tiers import Isolation
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud, sample_event
from tests.integration.conftest import new_tenant

TID = "3f1c2a9e-5b7d-4e1a-9c2f-8d6b4a1e7c05"
ROUTE_NAMES = set(Route(Isolation.POOL, "t", "b", "p").parameters())


def updated(version: int, status: str, tenant_id: str = TID, **detail: Any) -> dict[str, Any]:
    event = sample_event("eventbridge-tenant-updated.json")
    event["detail"] = {
        **event["detail"],
        "tenantId": tenant_id,
        "version": version,
        "status": status,
        "overrides": {},
        **detail,
    }
    event["detail"] = {k: v for k, v in event["detail"].items() if v is not None}
    return event


def deliver(cloud: Cloud, event: dict[str, Any]) -> dict[str, Any]:
    invocation = cloud.runtime.invoke("tenant_updates", event)
    assert invocation.error is None, invocation.error
    return invocation.result  # type: ignore[no-any-return]


def parameters(cloud: Cloud, tenant_id: str = TID) -> dict[str, str]:
    """Every parameter under the tenant's path (route and discovery), by name."""
    base = f"/{cloud.settings.app_name}/{cloud.settings.stage}/tenants/{tenant_id}/"
    found = boto3.client("ssm").get_parameters_by_path(Path=base, Recursive=True)["Parameters"]
    return {p["Name"][len(base) :]: p["Value"] for p in found}


def discovery_of(cloud: Cloud, tenant_id: str = TID) -> dict[str, Any]:
    """The discovery parameters, with `state` parsed."""
    found: dict[str, Any] = {k: v for k, v in parameters(cloud, tenant_id).items() if k not in ROUTE_NAMES}
    if "state" in found:
        found["state"] = json.loads(found["state"])
    return found


def state(version: int, status: str, tier: str = "PRO", config: str = "{}", **error: str) -> dict[str, Any]:
    return {"version": version, "status": status, "tier": tier, "config": config, **error}


def test_an_update_writes_status_tier_config_and_its_state(cloud: Cloud) -> None:
    overrides = {"limits": {"users": 10}, "flags": {"secrets": True}}
    result = deliver(cloud, updated(3, "PROVISIONED", tier="PRO", overrides=overrides))
    assert (result["stale"], result["settledVersion"]) == (False, 3)
    assert sorted(result["written"]) == ["config", "provisioning-status", "tier"]
    stored = discovery_of(cloud)
    assert json.loads(stored["config"]) == overrides
    assert stored == {
        "provisioning-status": "PROVISIONED",
        "tier": "PRO",
        "config": stored["config"],
        "state": state(3, "PROVISIONED", config=stored["config"]),
    }


def test_an_older_version_after_a_newer_one_changes_nothing(cloud: Cloud) -> None:
    deliver(cloud, updated(5, "FAILED", error="StackFailed: the silo stack rolled back", tier="PRO"))
    newer = discovery_of(cloud)
    assert newer["provisioning-error"] == "StackFailed: the silo stack rolled back"
    assert newer["state"]["version"] == 5

    late = deliver(cloud, updated(4, "PROVISIONING", tier="FREE", overrides={"limits": {"users": 1}}))
    assert (late["stale"], late["settledVersion"], late["written"], late["deleted"]) == (True, 5, [], [])
    redelivered = deliver(cloud, updated(5, "FAILED", error="StackFailed: the silo stack rolled back"))
    assert (redelivered["stale"], redelivered["written"]) == (True, [])
    assert discovery_of(cloud) == newer


def test_a_cleared_error_deletes_provisioning_error(cloud: Cloud) -> None:
    deliver(cloud, updated(2, "FAILED", error="RuntimeError: ssm throttled"))
    assert discovery_of(cloud)["provisioning-error"] == "RuntimeError: ssm throttled"
    result = deliver(cloud, updated(3, "PENDING"))
    assert result["deleted"] == ["provisioning-error"]
    assert discovery_of(cloud) == {
        "provisioning-status": "PENDING",
        "tier": "PRO",
        "config": "{}",
        "state": state(3, "PENDING"),
    }


def test_a_newer_version_writes_only_what_differs(cloud: Cloud) -> None:
    deliver(cloud, updated(1, "PROVISIONING"))
    result = deliver(cloud, updated(2, "PROVISIONING", tenantName="Renamed", changedFields=["name"]))
    assert (result["stale"], result["written"], result["deleted"]) == (False, [], [])
    assert discovery_of(cloud)["state"] == state(2, "PROVISIONING")


def test_an_older_state_put_last_by_a_racing_invocation_is_undone_by_its_settling(cloud: Cloud) -> None:
    """Versions 2 and 3 both read version 1 and both put their state, 2 last: 2's settling finds 3
    in the history of `state` and brings everything back to 3."""
    deliver(cloud, updated(1, "PENDING"))
    deliver(cloud, updated(3, "FAILED", error="StackFailed: rolled back"))
    base = f"/{cloud.settings.app_name}/{cloud.settings.stage}/tenants/{TID}/"
    boto3.client("ssm").put_parameter(
        Name=base + "state", Value=json.dumps(state(2, "PROVISIONING")), Type="String", Overwrite=True
    )
    boto3.client("ssm").put_parameter(
        Name=base + "provisioning-status", Value="PROVISIONING", Type="String", Overwrite=True
    )
    result = deliver(cloud, updated(2, "PROVISIONING"))  # its settling, after its puts
    assert (result["stale"], result["settledVersion"]) == (True, 3)
    assert discovery_of(cloud) == {
        "provisioning-status": "FAILED",
        "provisioning-error": "StackFailed: rolled back",
        "tier": "PRO",
        "config": "{}",
        "state": state(3, "FAILED", error="StackFailed: rolled back"),
    }


def test_an_update_that_died_after_its_state_is_completed_by_its_retry(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(cloud, updated(1, "PROVISIONING"))
    original = TenantDiscovery._put

    def status_put_fails(self: TenantDiscovery, name: str, value: str) -> None:
        if name.endswith("/provisioning-status"):
            raise RuntimeError("ssm:PutParameter throttled")
        original(self, name, value)

    monkeypatch.setattr(TenantDiscovery, "_put", status_put_fails)
    event = updated(2, "PROVISIONED", tier="FREE")
    assert cloud.runtime.invoke("tenant_updates", event).error is not None
    half = discovery_of(cloud)
    assert (half["state"]["version"], half["provisioning-status"]) == (2, "PROVISIONING")

    monkeypatch.setattr(TenantDiscovery, "_put", original)
    retried = deliver(cloud, event)
    assert (retried["stale"], retried["settledVersion"], retried["written"]) == (
        True,
        2,
        ["provisioning-status", "tier"],  # the rest of what the first attempt did not reach
    )
    assert discovery_of(cloud) == {
        "provisioning-status": "PROVISIONED",
        "tier": "FREE",
        "config": "{}",
        "state": state(2, "PROVISIONED", tier="FREE"),
    }


def test_the_route_is_found_beside_them_and_its_deletion_leaves_them(cloud: Cloud) -> None:
    routes = RouteStore(boto3.client("ssm"), cloud.settings.app_name, cloud.settings.stage)
    route = Route(Isolation.POOL, cloud.settings.app_table_name, "bucket", f"tenants/{TID}/")
    routes.put(TID, route)
    deliver(cloud, updated(7, "PROVISIONED"))
    assert routes.get(TID) == route
    routes.delete(TID)
    assert routes.get(TID) is None
    assert set(discovery_of(cloud)) == set(parameters(cloud))  # the route is gone
    assert discovery_of(cloud)["provisioning-status"] == "PROVISIONED"


def test_an_update_for_a_malformed_tenant_id_fails_and_writes_nothing(cloud: Cloud) -> None:
    invocation = cloud.runtime.invoke("tenant_updates", updated(1, "PENDING", tenant_id="../other"))
    assert invocation.error is not None
    found = boto3.client("ssm").get_parameters_by_path(Path=f"/{cloud.settings.app_name}/", Recursive=True)[
        "Parameters"
    ]
    assert found == [] or all("/platform/" in p["Name"] for p in found)


# --- through the local cloud's pumps --------------------------------------------------------------


def test_a_lifecycle_ends_in_provisioned_then_deprovisioned(api: ApiClient, cloud: Cloud) -> None:
    tenant = new_tenant(api, "steady-co", tier="FREE")
    tid = tenant["tenantId"]
    cloud.drain()
    provisioned = api.get(f"/tenants/{tid}").data
    assert provisioned["provisioningStatus"] == "PROVISIONED"
    assert discovery_of(cloud, tid) == {
        "provisioning-status": "PROVISIONED",
        "tier": "FREE",
        "config": "{}",
        "state": state(provisioned["version"], "PROVISIONED", tier="FREE"),
    }
    assert parameters(cloud, tid)["isolation"] == "pool"  # the route beside them

    changed = api.patch(f"/tenants/{tid}", {"tier": "PRO", "version": provisioned["version"]})
    assert changed.status == 200, changed.body
    cloud.drain()
    assert discovery_of(cloud, tid)["tier"] == "PRO"

    assert api.delete(f"/tenants/{tid}").status == 202
    cloud.drain()
    gone = api.get(f"/tenants/{tid}").data
    assert gone["provisioningStatus"] == "DEPROVISIONED"
    assert set(parameters(cloud, tid)) == set(discovery_of(cloud, tid))  # the route is gone, these stay
    assert discovery_of(cloud, tid) == {
        "provisioning-status": "DEPROVISIONED",
        "tier": "PRO",
        "config": "{}",
        "state": state(gone["version"], "DEPROVISIONED"),
    }
    assert cloud.dead_letters("tenant_updates") == []


def test_a_failed_provisioning_shows_its_error_until_the_retry_clears_it(
    api: ApiClient, cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    tid = new_tenant(api, "flaky-co", tier="PRO")["tenantId"]
    original = RouteStore.put

    def ssm_throttled(self: RouteStore, tenant_id: str, route: Any) -> None:
        raise RuntimeError("ssm:PutParameter throttled")

    monkeypatch.setattr(RouteStore, "put", ssm_throttled)
    cloud.drain()
    failed = discovery_of(cloud, tid)
    assert failed["provisioning-status"] == "FAILED"
    assert failed["provisioning-error"] == "RuntimeError: ssm:PutParameter throttled"

    monkeypatch.setattr(RouteStore, "put", original)
    assert api.post(f"/tenants/{tid}/retry").status == 202
    cloud.drain()
    recovered = discovery_of(cloud, tid)
    assert recovered["provisioning-status"] == "PROVISIONED"
    assert "provisioning-error" not in recovered


def test_settling_gives_up_when_newer_versions_keep_arriving(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bounded: the invocation fails (DiscoveryNotSettled) and Lambda's retry settles later."""
    versions = iter(range(10, 100))

    def ever_newer(self: TenantDiscovery, base: str) -> DiscoveryState:
        return DiscoveryState(version=next(versions), status="PROVISIONED", tier="PRO", config="{}")

    monkeypatch.setattr(TenantDiscovery, "_newest", ever_newer)
    with pytest.raises(DiscoveryNotSettled):
        TenantDiscovery(boto3.client("ssm"), cloud.settings.app_name, cloud.settings.stage).apply(
            TenantUpdatedEvent.model_validate(updated(1, "PENDING")).detail
        )
