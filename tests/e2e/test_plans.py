"""Plans, configuration, limits and usage through the local cloud, over HTTP, as an operator and a
tenant's users would meet them: the operator's overrides reach the tenant's requests, a noisy
tenant gets 429s while its neighbour does not, count limits hold, and usage is metered."""

from __future__ import annotations

import time
from typing import Any

import pytest

from localcloud.client import ControlPlaneClient
from tests.e2e.conftest import RunningCloud, route
from tests.e2e.test_app_plane import User, token
from tests.e2e.test_local_cloud import create, wait_for


def provisioned(api: ControlPlaneClient, slug: str, tier: str) -> dict[str, Any]:
    tenant = create(api, slug, tier)
    done = wait_for(api, tenant["tenantId"], {"PROVISIONED", "FAILED"})
    assert done["provisioningStatus"] == "PROVISIONED", done
    return done


def configure(api: ControlPlaneClient, tenant_id: str, limits: dict[str, Any], flags: dict[str, Any]) -> Any:
    version = api.get(f"/tenants/{tenant_id}").body["data"]["version"]
    response = api.request(
        "PATCH", f"/tenants/{tenant_id}/config", {"limits": limits, "flags": flags, "version": version}
    )
    assert response.status == 200, response.body
    return response.body["data"]


@pytest.fixture(scope="module")
def tenants(cloud: RunningCloud) -> dict[str, dict[str, Any]]:
    api = cloud.client()
    return {slug: provisioned(api, slug, tier) for slug, tier in (("plan-free", "FREE"), ("plan-pro", "PRO"))}


def test_an_operators_overrides_reach_the_tenants_requests(
    cloud: RunningCloud, tenants: dict[str, dict[str, Any]]
) -> None:
    api = cloud.client()
    tenant_id = tenants["plan-free"]["tenantId"]
    config = configure(api, tenant_id, {"users": 2}, {"usageApi": True})
    assert config["limits"]["users"] == {"value": 2, "source": "tenant"}
    assert config["limits"]["agents"]["source"] == "plan"

    admin = User(api, token(cloud, "plan-free", "a@plan-free.example"))
    seen = admin("GET", "/config")
    assert seen.status == 200, seen.body
    assert seen.body["data"]["limits"]["users"] == {"value": 2, "source": "tenant", "used": 1}
    assert seen.body["data"]["flags"]["usageApi"] == {"value": True, "source": "tenant"}
    assert seen.body["data"]["flags"]["secrets"] == {"value": False, "source": "plan"}  # FREE

    # users: the admin is one of two; the second fits, the third is refused and written nowhere
    assert admin("POST", "/users", {"email": "two@plan-free.example"}).status == 201
    third = admin("POST", "/users", {"email": "three@plan-free.example"})
    assert (third.status, third.body["error"]["code"]) == (409, "LIMIT_REACHED")
    emails = [u["email"] for u in admin("GET", "/users").body["data"]]
    assert "three@plan-free.example" not in emails

    # the FREE plan has no secrets
    refused = admin("PUT", "/secrets/llm-key", {"value": "sk-not-stored"})
    assert (refused.status, refused.body["error"]["code"]) == (403, "FEATURE_DISABLED")

    # a plan change across the pool/silo line is refused, one within it is taken
    version = api.get(f"/tenants/{tenant_id}").body["data"]["version"]
    crossing = api.patch(f"/tenants/{tenant_id}", {"tier": "ENTERPRISE", "version": version})
    assert (crossing.status, crossing.body["error"]["code"]) == (409, "ISOLATION_CHANGE_UNSUPPORTED")
    assert api.patch(f"/tenants/{tenant_id}", {"tier": "PRO", "version": version}).status == 200


def test_the_application_plane_learns_every_change_through_ssm(
    cloud: RunningCloud, tenants: dict[str, dict[str, Any]]
) -> None:
    api = cloud.client()
    tenant_id = tenants["plan-pro"]["tenantId"]
    configure(api, tenant_id, {"agents": 7}, {})
    deadline = time.monotonic() + 30
    while True:
        parameters = route(cloud, tenant_id)
        if '"agents":7' in parameters.get("config", "").replace(" ", "") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert parameters["provisioning-status"] == "PROVISIONED"
    assert parameters["tier"] == "PRO"
    assert '"agents":7' in parameters["config"].replace(" ", ""), parameters
    platform = cloud.aws("ssm").get_parameters_by_path(
        Path=f"/tenancy/{cloud.stage}/platform/", Recursive=True
    )
    assert platform["Parameters"], "the platform parameters are published"


def test_a_noisy_tenant_gets_429s_and_its_neighbour_does_not(
    cloud: RunningCloud, tenants: dict[str, dict[str, Any]]
) -> None:
    api = cloud.client()
    noisy = provisioned(api, "plan-noisy", "FREE")
    configure(api, noisy["tenantId"], {"apiRequestsPerSecond": 1, "apiBurst": 3}, {"usageApi": True})
    loud = User(api, token(cloud, "plan-noisy", "a@plan-noisy.example"))
    quiet = User(api, token(cloud, "plan-pro", "a@plan-pro.example"))

    answers = [loud("GET", "/me") for _ in range(8)]
    statuses = [a.status for a in answers]
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses
    refused = next(a for a in answers if a.status == 429)
    assert refused.body["error"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Remaining"] == "0"
    admitted = answers[0]
    assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(admitted.headers)

    assert [quiet("GET", "/me").status for _ in range(8)] == [200] * 8  # its neighbour is untouched

    time.sleep(1.5)  # a token is back
    usage = loud("GET", "/usage")
    assert usage.status == 200, usage.body
    today = usage.body["data"]["days"][-1]
    assert today["apiCalls"] >= 3
    assert today["throttled"] >= 1
    assert usage.body["data"]["total"]["throttled"] == today["throttled"]
    control = api.get(f"/tenants/{noisy['tenantId']}/usage").body["data"]
    assert control["days"][-1]["throttled"] == today["throttled"]
