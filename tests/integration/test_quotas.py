"""Rate limits, daily quotas and usage metering through the handlers (authorizer, app API, control
API) on moto: every app request is counted against its tenant before its route runs; a refused one
is a 429 that writes nothing; one tenant over its limit never refuses another; the usage APIs
answer what was counted, to the tenant's admins and to the control plane, and to no other tenant."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tenancy.application.quotas.middleware import request_limiter
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.integration.conftest import admin_of, token_for


class FrozenClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(cloud: Cloud) -> FrozenClock:
    """The limiter's clock, stopped: no token comes back between two requests of a test."""
    frozen = FrozenClock()
    request_limiter()._clock = frozen
    return frozen


def set_config(
    api: ApiClient, tenant_id: str, limits: dict[str, int], flags: dict[str, bool] | None = None
) -> None:
    version = api.get(f"/tenants/{tenant_id}").data["version"]
    answer = api.request(
        "PUT", f"/tenants/{tenant_id}/config", {"limits": limits, "flags": flags or {}, "version": version}
    )
    assert answer.status == 200, answer.body


def day_item(cloud: Cloud, tenant_id: str, day: str) -> dict[str, int]:
    item = (
        boto3.client("dynamodb")
        .get_item(
            TableName=cloud.settings.usage_table_name,
            Key={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": f"DAY#{day}"}},
            ConsistentRead=True,
        )
        .get("Item", {})
    )
    return {name: int(value["N"]) for name, value in item.items() if "N" in value}


def agents_of(cloud: Cloud, tenant_id: str) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").query(
        TableName=cloud.settings.app_table_name,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :agent)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":agent": {"S": "AGENT#"}},
        ConsistentRead=True,
    )["Items"]


def today(clock: FrozenClock) -> str:
    return datetime.fromtimestamp(clock.now, UTC).date().isoformat()


Onboard = Callable[..., dict[str, Any]]


def test_an_admitted_request_carries_the_ratelimit_headers(
    cloud: Cloud, app: ApiClient, onboard: Onboard, clock: FrozenClock
) -> None:
    onboard("acme", "PRO")  # 50 per second, burst 100, 500 000 a day
    admin = admin_of(cloud, app, "acme")
    first = admin.get("/me")
    assert first.status == 200
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("100", "99")
    assert first.headers["RateLimit-Reset"] == "1"  # one token spent, back in 20 ms
    second = admin.get("/agents")
    assert second.headers["RateLimit-Remaining"] == "98"
    assert "Retry-After" not in second.headers


def test_over_the_rate_a_request_is_a_429_and_its_route_never_runs(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Onboard, clock: FrozenClock
) -> None:
    tenant = onboard("acme", "PRO")
    set_config(api, tenant["tenantId"], {"apiRequestsPerSecond": 1, "apiBurst": 2})
    admin = admin_of(cloud, app, "acme")
    assert admin.post("/agents", {"name": "one"}).status == 201
    assert admin.post("/agents", {"name": "two"}).status == 201
    refused = admin.post("/agents", {"name": "three"})
    assert refused.status == 429
    assert refused.error["code"] == "RATE_LIMITED"
    assert refused.error["details"]["limit"] == "apiRequestsPerSecond"
    # tat = now + 2 s, tau = 1 s: a token is back in 1 s
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["RateLimit-Limit"] == "2"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert sorted(a["name"]["S"] for a in agents_of(cloud, tenant["tenantId"])) == ["one", "two"]
    counted = day_item(cloud, tenant["tenantId"], today(clock))
    assert (counted["apiCalls"], counted["throttled"]) == (2, 1)
    clock.now += 1.0
    assert admin.post("/agents", {"name": "three"}).status == 201


def test_over_the_daily_quota_a_request_is_a_429_until_midnight_utc(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Onboard, clock: FrozenClock
) -> None:
    tenant = onboard("acme", "PRO")
    set_config(api, tenant["tenantId"], {"apiRequestsPerDay": 2})
    admin = admin_of(cloud, app, "acme")
    assert [admin.get("/me").status for _ in range(2)] == [200, 200]
    refused = admin.get("/me")
    assert refused.status == 429
    assert refused.error["code"] == "QUOTA_EXCEEDED"
    now = datetime.fromtimestamp(clock.now, UTC)
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    assert refused.headers["Retry-After"] == str(math.ceil((midnight - now).total_seconds()))
    assert refused.headers["RateLimit-Limit"] == "2"
    clock.now = midnight.timestamp() + 1  # a new UTC day: a new quota
    assert admin.get("/me").status == 200


def test_a_limit_of_zero_refuses_every_request(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Onboard, clock: FrozenClock
) -> None:
    tenant = onboard("acme", "PRO")
    set_config(api, tenant["tenantId"], {"apiRequestsPerSecond": 0})
    admin = admin_of(cloud, app, "acme")
    answers = [admin.post("/agents", {"name": f"a{n}"}) for n in range(3)]
    assert {(a.status, a.error["code"]) for a in answers} == {(429, "RATE_LIMITED")}
    assert agents_of(cloud, tenant["tenantId"]) == []


def test_a_noisy_tenant_never_slows_another(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Onboard, clock: FrozenClock
) -> None:
    noisy, quiet = onboard("noisy", "PRO"), onboard("quiet", "PRO")
    set_config(api, noisy["tenantId"], {"apiRequestsPerSecond": 1, "apiBurst": 3})
    set_config(api, quiet["tenantId"], {"apiRequestsPerSecond": 1, "apiBurst": 30})
    a, b = admin_of(cloud, app, "noisy"), admin_of(cloud, app, "quiet")
    noisy_answers, quiet_answers = [], []
    for _ in range(25):
        noisy_answers.append(a.get("/agents").status)
        quiet_answers.append(b.get("/agents").status)
    assert noisy_answers == [200] * 3 + [429] * 22
    assert quiet_answers == [200] * 25
    assert day_item(cloud, quiet["tenantId"], today(clock)).get("throttled", 0) == 0


def test_a_retry_with_the_same_idempotency_key_is_counted_once(
    cloud: Cloud, app: ApiClient, onboard: Onboard, clock: FrozenClock
) -> None:
    tenant = onboard("acme", "PRO")
    admin = admin_of(cloud, app, "acme")
    for _ in range(3):
        answer = admin.request("GET", "/me", headers={"Idempotency-Key": "req-7"})
        assert answer.status == 200
        assert "RateLimit-Remaining" in answer.headers
    assert day_item(cloud, tenant["tenantId"], today(clock))["apiCalls"] == 1
    bad = admin.request("GET", "/me", headers={"Idempotency-Key": "a/b"})
    assert bad.status == 422
    assert bad.error["details"][0]["field"] == "Idempotency-Key"


def test_a_reused_idempotency_key_does_not_open_the_quota_to_other_requests(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Onboard, clock: FrozenClock
) -> None:
    """Found walking make dev: a key once counted let any later request through, uncounted."""
    tenant = onboard("acme", "PRO")
    set_config(api, tenant["tenantId"], {"apiRequestsPerDay": 2})
    admin = admin_of(cloud, app, "acme")
    assert admin.request("GET", "/me", headers={"Idempotency-Key": "k1"}).status == 200
    assert admin.get("/agents").status == 200  # the quota is now spent
    sneaky = admin.request("POST", "/agents", {"name": "sneaky"}, headers={"Idempotency-Key": "k1"})
    assert (sneaky.status, sneaky.error["code"]) == (429, "QUOTA_EXCEEDED")
    assert admin.request("GET", "/me", headers={"Idempotency-Key": "k1"}).status == 200  # the retry itself
    assert day_item(cloud, tenant["tenantId"], today(clock))["apiCalls"] == 2


# --- the usage APIs ------------------------------------------------------------------------------


def test_both_usage_apis_answer_what_was_counted(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Onboard, clock: FrozenClock
) -> None:
    tenant = onboard("acme", "PRO")
    set_config(api, tenant["tenantId"], {"apiRequestsPerSecond": 1, "apiBurst": 5})
    admin = admin_of(cloud, app, "acme")
    statuses = [admin.get("/agents").status for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    clock.now += 1.0
    day = today(clock)
    answer = admin.get(f"/usage?from={day}&to={day}")
    assert answer.status == 200, answer.body
    report = answer.data
    assert report["tenantId"] == tenant["tenantId"]
    assert (report["from"], report["to"]) == (day, day)
    # the five admitted, and this read itself (counted before it ran); one refused
    assert report["days"] == [
        {"date": day, "apiCalls": 6, "throttled": 1, "executions": 0, "storageBytes": 0}
    ]
    assert report["total"]["apiCalls"] == 6
    control = api.get(f"/tenants/{tenant['tenantId']}/usage?from={day}&to={day}")
    assert control.status == 200
    assert control.data["days"] == report["days"]  # the control plane's read is not counted


def test_usage_defaults_to_the_last_30_days_with_every_day_answered(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Onboard, clock: FrozenClock
) -> None:
    tenant = onboard("acme", "PRO")
    report = admin_of(cloud, app, "acme").get("/usage").data
    days = [d["date"] for d in report["days"]]
    assert len(days) == 30
    assert days[-1] == datetime.now(UTC).date().isoformat()
    assert report["days"][-1]["apiCalls"] == 1
    assert all(d["apiCalls"] == 0 for d in report["days"][:-1])
    assert len(api.get(f"/tenants/{tenant['tenantId']}/usage").data["days"]) == 30


def test_usage_is_for_admins_of_tenants_whose_plan_has_it(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Onboard, clock: FrozenClock
) -> None:
    free = onboard("free", "FREE")  # usageApi off
    onboard("acme", "PRO")
    admin = admin_of(cloud, app, "acme")
    assert admin.post("/users", {"email": "member@acme.example", "role": "member"}).status == 201
    member = app.as_user(token_for(cloud, "member@acme.example"))
    refused = member.get("/usage")
    assert (refused.status, refused.error["code"]) == (403, "FORBIDDEN")
    disabled = admin_of(cloud, app, "free").get("/usage")
    assert (disabled.status, disabled.error["code"]) == (403, "FEATURE_DISABLED")
    set_config(api, free["tenantId"], {}, {"usageApi": True})
    assert admin_of(cloud, app, "free").get("/usage").status == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-03-10&to=2026-03-09", "from"),
        ("from=2025-01-01&to=2026-01-02", "to"),  # 367 days
        ("from=2026-02-30", "from"),
        ("to=2026-13-01", "to"),
        ("from=yesterday", "from"),
    ],
)
def test_a_bad_range_is_a_422_naming_the_field(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Onboard, clock: FrozenClock, query: str, field: str
) -> None:
    tenant = onboard("acme", "PRO")
    for answer in (
        admin_of(cloud, app, "acme").get(f"/usage?{query}"),
        api.get(f"/tenants/{tenant['tenantId']}/usage?{query}"),
    ):
        assert answer.status == 422, answer.body
        assert [d["field"] for d in answer.error["details"]] == [field]


def test_a_year_is_the_longest_range(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Onboard, clock: FrozenClock
) -> None:
    tenant = onboard("acme", "PRO")
    answer = api.get(f"/tenants/{tenant['tenantId']}/usage?from=2024-01-01&to=2024-12-31")  # 366 days
    assert answer.status == 200
    assert len(answer.data["days"]) == 366


def test_the_control_usage_of_an_unknown_tenant_is_a_404(cloud: Cloud, api: ApiClient) -> None:
    answer = api.get("/tenants/00000000-0000-4000-8000-000000000000/usage")
    assert (answer.status, answer.error["code"]) == (404, "NOT_FOUND")


def test_a_tenant_never_sees_another_tenants_usage(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Onboard, clock: FrozenClock
) -> None:
    a, b = onboard("tenant-a", "PRO"), onboard("tenant-b", "ENTERPRISE")
    admin_a, admin_b = admin_of(cloud, app, "tenant-a"), admin_of(cloud, app, "tenant-b")
    for _ in range(7):
        assert admin_b.get("/agents").status == 200
    day = today(clock)
    mine = admin_a.get(f"/usage?from={day}&to={day}").data
    assert mine["tenantId"] == a["tenantId"]
    assert mine["days"][0]["apiCalls"] == 1
    assert b["tenantId"] not in str(mine)
    theirs = api.get(f"/tenants/{b['tenantId']}/usage?from={day}&to={day}").data
    assert theirs["days"][0]["apiCalls"] == 7
