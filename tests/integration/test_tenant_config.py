"""Plans and per-tenant configuration on the control API: effective values with their sources,
overrides under optimistic locking, plan (tier) changes, and refusals that write nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tenancy.common.config import get_settings
from tenancy.contracts.plans import PLANS, Flag, Limit
from tenancy.contracts.tiers import Tier
from tenancy.control.models import Status
from tenancy.control.store import ControlStore
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.integration.conftest import force_status, new_tenant


def config_url(tenant: dict[str, Any]) -> str:
    return f"/tenants/{tenant['tenantId']}/config"


def test_a_new_tenant_has_its_plan_and_nothing_overridden(api: ApiClient) -> None:
    tenant = new_tenant(api, "acme", "PRO")
    response = api.get(config_url(tenant))
    assert response.status == 200
    config = response.data
    assert (config["tenantId"], config["tier"], config["version"]) == (tenant["tenantId"], "PRO", 1)
    assert config["overrides"] == {}
    assert config["limits"] == {
        str(name): {"value": value, "source": "plan"} for name, value in PLANS[Tier.PRO].limits.items()
    }
    assert config["flags"] == {
        str(name): {"value": value, "source": "plan"} for name, value in PLANS[Tier.PRO].flags.items()
    }


def test_put_replaces_the_overrides_and_each_value_says_where_it_came_from(
    api: ApiClient, cloud: Cloud
) -> None:
    tenant = new_tenant(api)
    body = {"limits": {"users": 50, "apiBurst": 0}, "flags": {"secrets": True}, "version": 1}
    response = api.put(config_url(tenant), body)
    assert response.status == 200
    config = response.data
    assert config["version"] == 2
    assert config["limits"]["users"] == {"value": 50, "source": "tenant"}
    assert config["limits"]["apiBurst"] == {"value": 0, "source": "tenant"}  # zero is a limit, not unset
    assert config["limits"]["agents"] == {"value": PLANS[Tier.FREE].limits[Limit.AGENTS], "source": "plan"}
    assert config["flags"]["secrets"] == {"value": True, "source": "tenant"}
    item = cloud.tenant_item(tenant["tenantId"])
    assert item is not None
    assert item["overrides"] == {"limits": {"users": 50, "apiBurst": 0}, "flags": {"secrets": True}}
    # PUT is a replacement: what is left out is no longer overridden
    again = api.put(config_url(tenant), {"limits": {"agents": 9}, "version": 2}).data
    assert again["overrides"] == {"limits": {"agents": 9}}
    assert again["limits"]["users"]["source"] == "plan"
    assert api.put(config_url(tenant), {"version": 3}).data["overrides"] == {}


def test_patch_merges_and_null_removes_an_override(api: ApiClient) -> None:
    tenant = new_tenant(api)
    api.put(config_url(tenant), {"limits": {"users": 50, "agents": 7}, "version": 1})
    response = api.patch(config_url(tenant), {"limits": {"users": None, "datasets": 12}, "version": 2})
    assert response.status == 200
    assert response.data["overrides"] == {"limits": {"agents": 7, "datasets": 12}}
    assert response.data["limits"]["users"]["source"] == "plan"
    flags = api.patch(config_url(tenant), {"flags": {"usageApi": True}, "version": 3}).data
    assert flags["overrides"] == {"limits": {"agents": 7, "datasets": 12}, "flags": {"usageApi": True}}


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("PUT", {"limits": {"seats": 3}, "version": 1}, "seats"),
        ("PUT", {"flags": {"sso": True}, "version": 1}, "sso"),
        ("PUT", {"limits": {"users": -1}, "version": 1}, "users"),
        ("PUT", {"limits": {"users": "10"}, "version": 1}, "users"),
        ("PUT", {"limits": {"users": 1.5}, "version": 1}, "users"),
        ("PUT", {"flags": {"secrets": "yes"}, "version": 1}, "secrets"),
        ("PUT", {"limits": {"users": 1}}, "version"),
        ("PUT", {"overrides": {}, "version": 1}, "overrides"),
        ("PATCH", {"limits": {"seats": 3}, "version": 1}, "seats"),
        ("PATCH", {"limits": {"users": -5}, "version": 1}, "users"),
        ("PATCH", {"flags": {"secrets": 1}, "version": 1}, "secrets"),
    ],
)
def test_bad_overrides_are_a_422_naming_the_field_and_write_nothing(
    api: ApiClient, method: str, body: dict[str, Any], field: str
) -> None:
    tenant = new_tenant(api)
    response = api.request(method, config_url(tenant), body)
    assert (response.status, response.error["code"]) == (422, "VALIDATION_ERROR")
    assert field in str(response.error), response.error
    assert api.get(f"/tenants/{tenant['tenantId']}").data["version"] == 1


def test_a_stale_version_is_a_409_and_the_newer_overrides_stay(api: ApiClient) -> None:
    tenant = new_tenant(api)
    assert api.put(config_url(tenant), {"limits": {"users": 8}, "version": 1}).status == 200
    for method in ("PUT", "PATCH"):
        stale = api.request(method, config_url(tenant), {"limits": {"users": 99}, "version": 1})
        assert (stale.status, stale.error["code"]) == (409, "VERSION_CONFLICT")
        assert stale.error["details"]["currentVersion"] == 2
    assert api.get(config_url(tenant)).data["overrides"] == {"limits": {"users": 8}}


def test_racing_changes_at_one_version_let_exactly_one_through(api: ApiClient) -> None:
    tenant = new_tenant(api)

    def change(users: int) -> int:
        return api.patch(config_url(tenant), {"limits": {"users": users}, "version": 1}).status

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(change, [10, 20, 30, 40]))
    assert statuses == [200, 409, 409, 409]
    config = api.get(config_url(tenant)).data
    assert config["version"] == 2
    assert config["overrides"]["limits"]["users"] in {10, 20, 30, 40}


def test_unknown_tenant_is_404(api: ApiClient) -> None:
    assert api.get("/tenants/nobody/config").status == 404
    assert api.put("/tenants/nobody/config", {"version": 1}).status == 404
    assert api.patch("/tenants/nobody/config", {"limits": {"users": 1}, "version": 1}).status == 404


@pytest.mark.parametrize("status", [Status.OFFBOARDING, Status.DEPROVISIONING, Status.DEPROVISIONED])
def test_an_offboarded_tenant_config_is_read_only(
    api: ApiClient, store: ControlStore, status: Status
) -> None:
    tenant = new_tenant(api)
    force_status(store, tenant["tenantId"], status)
    version = api.get(f"/tenants/{tenant['tenantId']}").data["version"]
    refused = api.put(config_url(tenant), {"limits": {"users": 1}, "version": version})
    assert (refused.status, refused.error["code"]) == (409, "TENANT_OFFBOARDED")
    assert api.get(config_url(tenant)).data["overrides"] == {}


def test_a_plan_change_within_the_pool_changes_the_limits(api: ApiClient, cloud: Cloud) -> None:
    tenant = new_tenant(api, "acme", "FREE")
    api.put(config_url(tenant), {"limits": {"users": 7}, "version": 1})
    response = api.patch(f"/tenants/{tenant['tenantId']}", {"tier": "PRO", "version": 2})
    assert response.status == 200
    assert (response.data["tier"], response.data["isolation"], response.data["version"]) == ("PRO", "pool", 3)
    config = api.get(config_url(tenant)).data
    assert config["tier"] == "PRO"
    assert config["limits"]["agents"] == {"value": PLANS[Tier.PRO].limits[Limit.AGENTS], "source": "plan"}
    assert config["limits"]["users"] == {"value": 7, "source": "tenant"}  # overrides survive a plan change
    assert config["flags"]["secrets"] == {"value": PLANS[Tier.PRO].flags[Flag.SECRETS], "source": "plan"}
    back = api.patch(f"/tenants/{tenant['tenantId']}", {"tier": "FREE", "version": 3})
    assert (back.status, back.data["tier"]) == (200, "FREE")


@pytest.mark.parametrize(
    ("start", "target"), [("FREE", "ENTERPRISE"), ("PRO", "ENTERPRISE"), ("ENTERPRISE", "PRO")]
)
def test_a_plan_change_across_pool_and_silo_is_a_409_that_writes_nothing(
    api: ApiClient, start: str, target: str
) -> None:
    tenant = new_tenant(api, "acme", start)
    response = api.patch(f"/tenants/{tenant['tenantId']}", {"tier": target, "name": "Renamed", "version": 1})
    assert (response.status, response.error["code"]) == (409, "ISOLATION_CHANGE_UNSUPPORTED")
    assert "not supported yet" in response.error["message"]
    assert response.error["details"] == [
        {"field": "tier", "message": f"{start} → {target} crosses pool/silo"}
    ]
    after = api.get(f"/tenants/{tenant['tenantId']}").data
    assert (after["tier"], after["name"], after["version"]) == (start, tenant["name"], 1)


def test_null_tier_or_name_is_refused(api: ApiClient) -> None:
    tenant = new_tenant(api)
    for body in ({"tier": None, "version": 1}, {"name": None, "tier": "PRO", "version": 1}):
        assert api.patch(f"/tenants/{tenant['tenantId']}", body).status == 422


def test_the_stage_may_change_a_plan_and_the_tenant_may_change_it_again(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "PLANS", '{"FREE": {"limits": {"users": 25, "agents": 6}, "flags": {"usageApi": true}}}'
    )
    get_settings.cache_clear()
    tenant = new_tenant(api)
    api.put(config_url(tenant), {"limits": {"agents": 2}, "version": 1})
    config = api.get(config_url(tenant)).data
    assert config["limits"]["users"] == {"value": 25, "source": "stage"}
    assert config["limits"]["agents"] == {"value": 2, "source": "tenant"}
    assert config["flags"]["usageApi"] == {"value": True, "source": "stage"}
    assert config["limits"]["datasets"]["source"] == "plan"


def test_a_patch_that_changes_nothing_writes_nothing(api: ApiClient) -> None:
    """Found walking make dev: an empty PATCH bumped the version and announced nothing."""
    tenant = new_tenant(api)
    api.put(config_url(tenant), {"limits": {"users": 9}, "version": 1})
    for body in (
        {"version": 2},
        {"limits": {}, "flags": {}, "version": 2},
        {"limits": {"users": 9}, "version": 2},
    ):
        same = api.patch(config_url(tenant), body)
        assert same.status == 200
        assert (same.data["version"], same.data["overrides"]) == (2, {"limits": {"users": 9}})
    stale = api.patch(config_url(tenant), {"version": 1})
    assert (stale.status, stale.error["code"]) == (409, "VERSION_CONFLICT")
    assert api.get(f"/tenants/{tenant['tenantId']}").data["version"] == 2


def test_a_tenant_patch_that_changes_nothing_writes_nothing(api: ApiClient) -> None:
    tenant = new_tenant(api, "acme", "PRO")
    url = f"/tenants/{tenant['tenantId']}"
    same = api.patch(url, {"tier": "PRO", "name": tenant["name"], "version": 1})
    assert (same.status, same.data["version"]) == (200, 1)
    assert api.patch(url, {"tier": "PRO", "version": 7}).status == 409  # still a stale version
    assert api.get(url).data["version"] == 1


def test_an_offboarded_tenant_says_so_before_anything_about_its_tier(
    api: ApiClient, store: ControlStore
) -> None:
    tenant = new_tenant(api, "acme", "PRO")
    force_status(store, tenant["tenantId"], Status.DEPROVISIONED)
    version = api.get(f"/tenants/{tenant['tenantId']}").data["version"]
    refused = api.patch(f"/tenants/{tenant['tenantId']}", {"tier": "ENTERPRISE", "version": version})
    assert (refused.status, refused.error["code"]) == (409, "TENANT_OFFBOARDED")
