"""The application plane through the local cloud, over HTTP, with real tokens: a new user's path
from onboarding to the audit trail, and no route into another tenant."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Any

import pytest

from localcloud.client import ControlPlaneClient
from tests.e2e.conftest import ROOT, RunningCloud
from tests.e2e.test_local_cloud import create, wait_for


def token(cloud: RunningCloud, slug: str, email: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "localcloud.token", slug, email, "--aws-port", str(cloud.aws_port)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


class User:
    def __init__(self, api: ControlPlaneClient, token: str) -> None:
        self.api = api
        self.token = token

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        return self.api.request(method, path, body, token=self.token)


@pytest.fixture(scope="module")
def tenants(cloud: RunningCloud) -> dict[str, Any]:
    api = cloud.client()
    made = {slug: create(api, slug, tier) for slug, tier in (("app-one", "PRO"), ("app-two", "ENTERPRISE"))}
    for tenant in made.values():
        assert (
            wait_for(api, tenant["tenantId"], {"PROVISIONED", "FAILED"})["provisioningStatus"]
            == "PROVISIONED"
        )
    return made


def test_a_new_tenant_admin_builds_and_audits_their_workspace(
    cloud: RunningCloud, tenants: dict[str, Any]
) -> None:
    admin = User(cloud.client(), token(cloud, "app-one", "a@app-one.example"))
    me = admin("GET", "/me")
    assert me.status == 200
    assert (me.body["data"]["role"], me.body["data"]["tier"]) == ("admin", "PRO")

    assert admin("POST", "/users", {"email": "member@app-one.example", "role": "member"}).status == 201
    member = User(cloud.client(), token(cloud, "app-one", "member@app-one.example"))
    assert member("GET", "/users").status == 403
    assert member("GET", "/audit").status == 403

    agent = member("POST", "/agents", {"name": "summariser"}).body["data"]
    execution = member("POST", f"/agents/{agent['agentId']}/executions", {"input": {"doc": "q3.pdf"}}).body[
        "data"
    ]
    assert execution["status"] == "QUEUED"
    assert member("PATCH", f"/executions/{execution['executionId']}", {"status": "RUNNING"}).status == 200
    assert member("PATCH", f"/executions/{execution['executionId']}", {"status": "SUCCEEDED"}).status == 200
    assert member("PATCH", f"/executions/{execution['executionId']}", {"status": "RUNNING"}).status == 409

    trail = admin("GET", "/audit").body["data"]
    assert [e["action"] for e in trail][-4:] == [
        "agent.create",
        "execution.start",
        "execution.running",
        "execution.succeeded",
    ]


def test_no_route_reaches_another_tenant(cloud: RunningCloud, tenants: dict[str, Any]) -> None:
    one = User(cloud.client(), token(cloud, "app-one", "a@app-one.example"))
    two = User(cloud.client(), token(cloud, "app-two", "a@app-two.example"))
    agent = two("POST", "/agents", {"name": "private"}).body["data"]
    execution = two("POST", f"/agents/{agent['agentId']}/executions", {}).body["data"]
    their_user = two("GET", "/me").body["data"]["userId"]
    for method, path, body in [
        ("GET", f"/agents/{agent['agentId']}", None),
        ("PATCH", f"/agents/{agent['agentId']}", {"name": "x", "version": 1}),
        ("DELETE", f"/agents/{agent['agentId']}", None),
        ("GET", f"/agents/{agent['agentId']}/executions", None),
        ("POST", f"/agents/{agent['agentId']}/executions", {}),
        ("GET", f"/executions/{execution['executionId']}", None),
        ("PATCH", f"/executions/{execution['executionId']}", {"status": "RUNNING"}),
        ("GET", f"/users/{their_user}", None),
        ("DELETE", f"/users/{their_user}", None),
    ]:
        assert one(method, path, body).status == 404, (method, path)
    assert two("GET", f"/agents/{agent['agentId']}").body["data"]["version"] == 1
    assert two("GET", f"/executions/{execution['executionId']}").body["data"]["status"] == "QUEUED"
    # usage: each tenant's own counters, never the other's
    counted = one("GET", "/usage").body["data"]["total"]["apiCalls"]
    for _ in range(3):
        assert two("GET", "/agents").status == 200
    ones = one("GET", "/usage").body["data"]
    assert ones["total"]["apiCalls"] == counted + 1  # this read alone: none of two's requests
    assert ones["tenantId"] == tenants["app-one"]["tenantId"]
    assert tenants["app-two"]["tenantId"] not in str(ones)


def test_secrets_over_http_stay_in_their_tenant(cloud: RunningCloud, tenants: dict[str, Any]) -> None:
    """PUT/GET/reveal/DELETE /secrets/{name} through the gateway, on the local cloud's Secrets
    Manager and KMS key; the other tenant's secret of the same name is never reached."""
    one = User(cloud.client(), token(cloud, "app-one", "a@app-one.example"))
    two = User(cloud.client(), token(cloud, "app-two", "a@app-two.example"))
    put = one("PUT", "/secrets/llm-key", {"value": "one-s-value", "description": "LLM"})
    assert put.status == 200, put.body
    assert "one-s-value" not in str(put.body)
    assert two("PUT", "/secrets/llm-key", {"value": "two-s-value"}).status == 200
    assert one("GET", "/secrets/llm-key?reveal=true").body["data"]["value"] == "one-s-value"
    assert two("GET", "/secrets/llm-key?reveal=true").body["data"]["value"] == "two-s-value"
    assert one("GET", "/secrets/llm-key").body["data"]["name"] == "llm-key"
    assert "value" not in one("GET", "/secrets/llm-key").body["data"]
    assert [s["name"] for s in one("GET", "/secrets").body["data"]] == ["llm-key"]
    assert one("PUT", "/secrets/a..b", {"value": "x"}).status == 422
    assert one("DELETE", "/secrets/llm-key").status == 204
    assert one("DELETE", "/secrets/llm-key").status == 404
    assert two("GET", "/secrets/llm-key?reveal=true").body["data"]["value"] == "two-s-value"


def test_tokens_are_required_and_checked(cloud: RunningCloud, tenants: dict[str, Any]) -> None:
    api = cloud.client()
    assert api.request("GET", "/me", signed=False).status == 401
    assert api.request("GET", "/me", token="forged.token.value").status == 401
    valid = token(cloud, "app-one", "a@app-one.example")
    assert api.request("GET", "/me", token=valid[:-3] + "abc").status == 401


def claims_of(id_token: str) -> dict[str, Any]:
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def test_a_removed_users_token_is_refused_and_writes_nothing(
    cloud: RunningCloud, tenants: dict[str, Any]
) -> None:
    """The authorizer reads the user item on every call; API Gateway (and the local cloud, alike)
    keeps an answer per token for the authorizer's result TTL. A token that was not answered within
    that TTL before the removal is refused on its next request (one that was may still be served
    from the cache until the TTL runs out: tests/integration/test_authorizer.py steps past it)."""
    admin = User(cloud.client(), token(cloud, "app-one", "a@app-one.example"))
    created = admin("POST", "/users", {"email": "leaver@app-one.example", "role": "member"})
    assert created.status == 201
    leaver_id = created.body["data"]["userId"]
    working = User(cloud.client(), token(cloud, "app-one", "leaver@app-one.example"))
    assert working("POST", "/agents", {"name": "made-before-removal"}).status == 201
    leaver = User(cloud.client(), token(cloud, "app-one", "leaver@app-one.example"))  # issued, not used
    names_before = sorted(a["name"] for a in admin("GET", "/agents?limit=100").body["data"])
    audit_before = len(admin("GET", "/audit?limit=100").body["data"])

    assert admin("DELETE", f"/users/{leaver_id}").status == 204

    assert leaver("POST", "/agents", {"name": "made-after-removal"}).status == 403
    assert leaver("GET", "/agents").status == 403
    assert leaver("GET", "/me").status == 403
    names_after = sorted(a["name"] for a in admin("GET", "/agents?limit=100").body["data"])
    assert names_after == names_before
    assert "made-after-removal" not in names_after
    trail = admin("GET", "/audit?limit=100").body["data"]
    assert [e["action"] for e in trail[audit_before:]] == ["user.delete"]


def test_make_token_finds_the_user_within_the_tenant(cloud: RunningCloud, tenants: dict[str, Any]) -> None:
    """The same email as a user of two tenants: `make token` gives each tenant's own user a token."""
    user_ids = {}
    for slug in ("app-one", "app-two"):
        admin = User(cloud.client(), token(cloud, slug, f"a@{slug}.example"))
        created = admin("POST", "/users", {"email": "both@people.example", "role": "member"})
        assert created.status == 201, created.body
        user_ids[slug] = created.body["data"]["userId"]
    for slug, tenant in tenants.items():
        issued = token(cloud, slug, "both@people.example")
        assert claims_of(issued)["custom:tenantId"] == tenant["tenantId"]
        me = User(cloud.client(), issued)("GET", "/me")
        assert (me.status, me.body["data"]["userId"]) == (200, user_ids[slug])
