"""Acceptance of the local cloud, over real HTTP with signed requests, as a user runs it."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from localcloud.client import ControlPlaneClient
from tests.e2e.conftest import (
    RunningCloud,
    data_route,
    free_port,
    objects,
    route,
    start_cloud,
    wait_healthy,
)

TIERS = ["FREE", "PRO", "ENTERPRISE", "FREE", "PRO"]


def wait_for(
    api: ControlPlaneClient, tenant_id: str, statuses: set[str], timeout: float = 60.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        tenant = api.get(f"/tenants/{tenant_id}").body["data"]
        if tenant["provisioningStatus"] in statuses or time.monotonic() > deadline:
            return tenant  # type: ignore[no-any-return]
        time.sleep(0.1)


def create(api: ControlPlaneClient, slug: str, tier: str) -> dict[str, Any]:
    response = api.post(
        "/tenants", {"name": slug, "slug": slug, "tier": tier, "adminEmail": f"a@{slug}.example"}
    )
    assert response.status == 201, response.body
    return response.body["data"]  # type: ignore[no-any-return]


def all_tenants(api: ControlPlaneClient) -> list[dict[str, Any]]:
    tenants: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = api.get(f"/tenants?limit=100{cursor}").body
        tenants += page["data"]
        if not page["pagination"]["has_next"]:
            return tenants
        cursor = f"&cursor={page['pagination']['next_cursor']}"


def tenant_count(api: ControlPlaneClient) -> int:
    return len(api.get("/tenants?limit=100").body["data"])


def test_twenty_tenants_onboard_concurrently_and_five_offboard(cloud: RunningCloud) -> None:
    api = cloud.client()
    specs = [(f"bulk-{i:02d}", TIERS[i % len(TIERS)]) for i in range(20)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        created = list(pool.map(lambda spec: create(api, *spec), specs))
    tenants = {t["tenantId"]: t for t in created}
    settled = {tid: wait_for(api, tid, {"PROVISIONED", "FAILED"}) for tid in tenants}
    assert {t["provisioningStatus"] for t in settled.values()} == {"PROVISIONED"}, [
        (t["slug"], t["provisioningStatus"], t["error"]) for t in settled.values()
    ]
    pool_bucket = "tenancy-local-tenants"
    tables = cloud.aws("dynamodb").list_tables()["TableNames"]
    for tid, tenant in settled.items():
        r = data_route(cloud, tid)
        prefix = f"tenants/{tid}/"
        if tenant["tier"] == "ENTERPRISE":
            assert r["isolation"] == "silo"
            assert tenant["resources"]["dedicatedBucket"] == r["s3/bucket"]
            assert tenant["resources"]["dedicatedTable"] == r["dynamodb/table-name"] in tables
            assert objects(cloud, r["s3/bucket"], prefix) == [prefix + ".tenant.json"]
        else:
            assert r == {
                "isolation": "pool",
                "dynamodb/table-name": "tenancy-local-app",
                "s3/bucket": pool_bucket,
                "s3/prefix": prefix,
            }
            assert tenant["resources"]["s3Prefix"] == prefix
        # every tenant gets some data, to prove offboarding removes exactly its own
        cloud.aws("s3").put_object(Bucket=r["s3/bucket"], Key=prefix + "report.csv", Body=b"a,b")
        cloud.aws("dynamodb").put_item(
            TableName=r["dynamodb/table-name"], Item={"PK": {"S": f"TENANT#{tid}"}, "SK": {"S": "AGENT#1"}}
        )

    leaving = [t for t in created if t["tier"] == "ENTERPRISE"][:2] + [
        t for t in created if t["tier"] != "ENTERPRISE"
    ][:3]
    routes = {t["tenantId"]: data_route(cloud, t["tenantId"]) for t in created}
    for tenant in leaving:
        assert api.delete(f"/tenants/{tenant['tenantId']}").status == 202
    for tenant in leaving:
        tid = tenant["tenantId"]
        assert wait_for(api, tid, {"DEPROVISIONED", "FAILED"})["provisioningStatus"] == "DEPROVISIONED"
        assert data_route(cloud, tid) == {}
        r = routes[tid]
        if tenant["tier"] == "ENTERPRISE":
            stacks = cloud.aws("cloudformation").list_stacks(StackStatusFilter=["CREATE_COMPLETE"])[
                "StackSummaries"
            ]
            assert f"tenancy-local-tenant-{tid}" not in [s["StackName"] for s in stacks]
            assert r["dynamodb/table-name"] not in cloud.aws("dynamodb").list_tables()["TableNames"]
            assert r["s3/bucket"] not in [b["Name"] for b in cloud.aws("s3").list_buckets()["Buckets"]]
        else:
            assert objects(cloud, pool_bucket, f"tenants/{tid}/") == []
            items = cloud.aws("dynamodb").query(
                TableName=r["dynamodb/table-name"],
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": f"TENANT#{tid}"}},
            )["Items"]
            assert items == []
    left = {t["tenantId"] for t in leaving}
    for tid in tenants.keys() - left:  # the others' data is untouched
        r = routes[tid]
        assert f"tenants/{tid}/report.csv" in objects(cloud, r["s3/bucket"], f"tenants/{tid}/")
        item = cloud.aws("dynamodb").get_item(
            TableName=r["dynamodb/table-name"], Key={"PK": {"S": f"TENANT#{tid}"}, "SK": {"S": "AGENT#1"}}
        )
        assert "Item" in item
        assert api.get(f"/tenants/{tid}").body["data"]["provisioningStatus"] == "PROVISIONED"


def test_an_injected_provisioner_failure_ends_in_failed_and_retry_recovers(cloud: RunningCloud) -> None:
    api = cloud.client()
    fault = {
        "function": "tenant_provisioner",
        "match": "flaky-tenant",
        "service": "ssm",
        "operation": "PutParameter",
        "times": 1,
    }
    request = urllib.request.Request(
        cloud.api_url + "/_localcloud/faults", data=json.dumps(fault).encode(), method="POST"
    )
    with urllib.request.urlopen(request) as reply:
        assert reply.status == 201
    tenant = create(api, "flaky-tenant", "PRO")
    failed = wait_for(api, tenant["tenantId"], {"FAILED", "PROVISIONED"})
    assert failed["provisioningStatus"] == "FAILED"
    assert "PutParameter" in failed["error"]
    assert "injected by the local cloud" in failed["error"]
    assert api.post(f"/tenants/{tenant['tenantId']}/retry").status == 202
    recovered = wait_for(api, tenant["tenantId"], {"PROVISIONED", "FAILED"}, timeout=30)
    assert recovered["provisioningStatus"] == "PROVISIONED"
    assert recovered["error"] is None
    assert route(cloud, tenant["tenantId"])["isolation"] == "pool"


VALID = {"name": "Bad input", "slug": "bad-input", "tier": "PRO", "adminEmail": "a@bad.example"}


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b'{"name": "x",', 400),  # malformed JSON
        (json.dumps({**VALID, "plan": "gold"}).encode(), 422),  # unknown field
        (json.dumps({**VALID, "name": "x" * 20_000}).encode(), 413),  # oversized body
        (json.dumps({**VALID, "slug": "bad#slug"}).encode(), 422),
        (json.dumps({**VALID, "slug": "bad slug"}).encode(), 422),
        (json.dumps({**VALID, "tier": "pro"}).encode(), 422),  # lowercase tier
    ],
)
def test_bad_requests_get_their_4xx_and_change_nothing(cloud: RunningCloud, raw: bytes, status: int) -> None:
    api = cloud.client()
    before = tenant_count(api)
    response = api.post("/tenants", raw=raw)
    assert response.status == status
    assert set(response.body["error"]) >= {"code", "message"}
    assert tenant_count(api) == before


def test_unsigned_or_badly_signed_requests_are_403_and_change_nothing(cloud: RunningCloud) -> None:
    api = cloud.client()
    before = tenant_count(api)
    unsigned = api.post("/tenants", VALID, signed=False)
    assert (unsigned.status, unsigned.body) == (403, {"message": "Missing Authentication Token"})
    from botocore.credentials import Credentials

    forged = ControlPlaneClient(cloud.api_url, Credentials("test", "not-the-secret")).post("/tenants", VALID)
    assert forged.status == 403
    assert "signature" in forged.body["message"]
    assert tenant_count(api) == before


def test_ten_concurrent_creates_of_one_slug_admit_exactly_one(cloud: RunningCloud) -> None:
    api = cloud.client()
    body = {"name": "Race", "slug": "race-slug", "tier": "FREE", "adminEmail": "a@race.example"}
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(lambda _: api.post("/tenants", body).status, range(10)))
    assert statuses == [201] + [409] * 9


def test_a_port_in_use_is_a_one_line_error(cloud: RunningCloud) -> None:
    process = start_cloud(cloud.api_port, free_port())
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert output.strip().splitlines() == [
        f"localcloud: port {cloud.api_port} (API Gateway) is already in use on 127.0.0.1; choose another"
    ]


def test_ctrl_c_stops_it_cleanly() -> None:
    api_port = free_port()
    process = start_cloud(api_port, free_port())
    wait_healthy(f"http://127.0.0.1:{api_port}", process)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Traceback" not in output
    assert "stopping the local cloud" in output


def test_make_invoke_runs_one_handler_against_the_running_cloud(cloud: RunningCloud) -> None:
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "localcloud.invoke",
            "tenant_api",
            "events/apigw-list-tenants.json",
            "--port",
            str(cloud.api_port),
            "--aws-port",
            str(cloud.aws_port),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["pagination"]["limit"] == 10


def test_make_invoke_without_a_running_cloud_says_so() -> None:
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "localcloud.invoke",
            "tenant_api",
            "events/apigw-list-tenants.json",
            "--port",
            str(free_port()),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert "start it with `make dev`" in completed.stderr


def test_refused_and_accepted_writes_interleaved_leave_no_ghost_and_no_stall(cloud: RunningCloud) -> None:
    """36 concurrent creates where a third reuse a slug, with stale-version PATCHes among them: every
    201 is a tenant that reaches PROVISIONED, every 409 wrote nothing, and the stream keeps flowing
    after the refused transactions (it used to stop until the reconciler re-drove the tenants)."""
    api = cloud.client()
    prefix = "mix-"
    renamed = create(api, f"{prefix}renamed", "FREE")
    version = wait_for(api, renamed["tenantId"], {"PROVISIONED"}, timeout=10)["version"]  # settled
    first = api.patch(f"/tenants/{renamed['tenantId']}", {"name": "first", "version": version})
    assert first.status == 200, first.body
    slugs = [f"{prefix}{i:02d}" for i in range(24)] + [f"{prefix}{i:02d}" for i in range(0, 24, 2)]
    bodies: list[tuple[str, Any]] = [
        ("POST", {"name": s, "slug": s, "tier": TIERS[i % 5], "adminEmail": f"a@{s}.example"})
        for i, s in enumerate(slugs)
    ]
    bodies += [("PATCH", {"name": f"stale {i}", "version": version}) for i in range(6)]

    def send(request: tuple[str, Any]) -> tuple[str, int, Any]:
        method, body = request
        if method == "PATCH":
            answer = api.patch(f"/tenants/{renamed['tenantId']}", body)
        else:
            answer = api.post("/tenants", body)
        return method, answer.status, answer.body

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(send, bodies))
    created = [body["data"] for method, status, body in answers if method == "POST" and status == 201]
    refused = [body for method, status, body in answers if method == "POST" and status != 201]
    assert len(created) == 24
    assert sorted(t["slug"] for t in created) == sorted(set(slugs))
    assert [b["error"]["code"] for b in refused] == ["SLUG_TAKEN"] * 12
    stale = [(status, body["error"]["code"]) for method, status, body in answers if method == "PATCH"]
    assert stale == [(409, "VERSION_CONFLICT")] * 6

    # The table holds exactly the tenants that were answered 201 (no ghost of a refused create).
    listed = [t for t in all_tenants(api) if t["slug"].startswith(prefix)]
    assert sorted(t["tenantId"] for t in listed) == sorted(
        [renamed["tenantId"], *(t["tenantId"] for t in created)]
    )
    after = api.get(f"/tenants/{renamed['tenantId']}").body["data"]
    assert after["name"] == "first"  # the refused PATCHes changed nothing (lifecycle moves bump the version)

    # Every accepted tenant is provisioned within seconds, not when the reconciler comes by.
    settled = {
        t["tenantId"]: wait_for(api, t["tenantId"], {"PROVISIONED", "FAILED"}, timeout=20) for t in created
    }
    assert {t["provisioningStatus"] for t in settled.values()} == {"PROVISIONED"}
    # And after all those refusals, a new tenant still goes through, and offboarding still completes.
    late = create(api, f"{prefix}late", "PRO")
    assert (
        wait_for(api, late["tenantId"], {"PROVISIONED", "FAILED"}, timeout=10)["provisioningStatus"]
        == "PROVISIONED"
    )
    assert api.delete(f"/tenants/{late['tenantId']}").status == 202
    assert (
        wait_for(api, late["tenantId"], {"DEPROVISIONED", "FAILED"}, timeout=10)["provisioningStatus"]
        == "DEPROVISIONED"
    )


def test_an_idempotency_key_makes_a_client_retry_return_the_first_answer(cloud: RunningCloud) -> None:
    api = cloud.client()
    body = {"name": "Keyed", "slug": "keyed", "tier": "FREE", "adminEmail": "a@keyed.example"}
    key = {"Idempotency-Key": "8c1f6a0e-keyed"}
    first = api.post("/tenants", body, headers=key)
    assert first.status == 201
    again = api.post("/tenants", body, headers=key)
    assert (again.status, again.body) == (201, first.body)
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = api.post("/tenants", {**body, "name": "Other"}, headers=key)
    assert (other.status, other.body["error"]["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    keyed = [t for t in all_tenants(api) if t["slug"] == "keyed"]
    assert [t["tenantId"] for t in keyed] == [first.body["data"]["tenantId"]]


def test_a_bad_plans_setting_is_a_one_line_error_at_start() -> None:
    """`PLANS=... make dev` changes the plans as the CDK context does; a malformed one stops it at
    once rather than at a tenant's first request."""
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    completed = subprocess.run(
        [sys.executable, "-m", "localcloud", "--port", str(free_port()), "--aws-port", str(free_port())],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PLANS": '{"FREE": {"limits": {"userz": 10}}}'},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith("localcloud: the PLANS setting is not a valid stage plan")
    assert "userz" in line
