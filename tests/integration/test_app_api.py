"""The tenant-scoped application API, in-process, behind the real authorizer with real tokens."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.integration.conftest import admin_of, token_for


def test_onboarding_creates_the_first_admin(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    tenant = onboard("acme", "PRO")
    me = admin_of(cloud, app, "acme").get("/me")
    assert me.status == 200
    assert me.data["email"] == "admin@acme.example"
    assert me.data["role"] == "admin"
    assert me.data["tier"] == "PRO"
    cognito_user = boto3.client("cognito-idp").admin_get_user(
        UserPoolId=cloud.settings.user_pool_id, Username=me.data["userId"]
    )
    attributes = {a["Name"]: a["Value"] for a in cognito_user["UserAttributes"]}
    assert attributes["custom:tenantId"] == tenant["tenantId"]
    assert attributes["custom:role"] == "admin"


def test_silo_tenant_data_lands_in_its_own_table(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    pool = onboard("pooled", "FREE")
    silo = onboard("siloed", "ENTERPRISE")
    for slug in ("pooled", "siloed"):
        assert admin_of(cloud, app, slug).post("/agents", {"name": f"{slug}-agent"}).status == 201
    dynamodb = boto3.client("dynamodb")

    def agents_in(table: str, tenant_id: str) -> list[str]:
        items = dynamodb.query(
            TableName=table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :a)",
            ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":a": {"S": "AGENT#"}},
        )["Items"]
        return [i["name"]["S"] for i in items]

    assert agents_in(cloud.settings.app_table_name, pool["tenantId"]) == ["pooled-agent"]
    assert agents_in(silo["resources"]["dedicatedTable"], silo["tenantId"]) == ["siloed-agent"]
    assert agents_in(cloud.settings.app_table_name, silo["tenantId"]) == []


def test_requests_without_a_valid_token_are_refused(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    onboard("acme")
    assert app.get("/me").status == 401
    assert app.as_user("not-a-jwt").get("/me").status == 401
    token = token_for(cloud, "admin@acme.example")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert app.as_user(tampered).get("/me").status == 401


def test_a_tenant_that_is_not_provisioned_is_refused(
    cloud: Cloud, app: ApiClient, api: ApiClient, onboard: Any
) -> None:
    tenant = onboard("leaving")
    token = token_for(cloud, "admin@leaving.example")
    assert app.as_user(token).get("/me").status == 200
    assert api.delete(f"/tenants/{tenant['tenantId']}").status == 202  # OFFBOARDING, not yet processed
    refused = app.as_user(token).get("/me")
    assert refused.status == 403


def test_agents_crud_with_optimistic_locking(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    onboard("acme")
    admin = admin_of(cloud, app, "acme")
    created = admin.post("/agents", {"name": "triage", "description": "sorts tickets"})
    assert created.status == 201
    agent = created.data
    assert (agent["name"], agent["version"], agent["model"]) == ("triage", 1, "default")
    assert admin.get(f"/agents/{agent['agentId']}").data == agent
    renamed = admin.patch(f"/agents/{agent['agentId']}", {"name": "triage-2", "version": 1})
    assert (renamed.status, renamed.data["version"]) == (200, 2)
    stale = admin.patch(f"/agents/{agent['agentId']}", {"name": "lost", "version": 1})
    assert (stale.status, stale.error["code"]) == (409, "VERSION_CONFLICT")
    assert [a["name"] for a in admin.get("/agents").data] == ["triage-2"]
    assert admin.delete(f"/agents/{agent['agentId']}").status == 204
    assert admin.get(f"/agents/{agent['agentId']}").status == 404
    assert admin.delete(f"/agents/{agent['agentId']}").status == 404
    assert admin.post("/agents", {"name": "", "extra": 1}).status == 422


def test_concurrent_updates_with_one_version_admit_exactly_one(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    onboard("acme")
    admin = admin_of(cloud, app, "acme")
    agent = admin.post("/agents", {"name": "racer"}).data
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(
            pool.map(
                lambda i: admin.patch(f"/agents/{agent['agentId']}", {"name": f"n{i}", "version": 1}).status,
                range(8),
            )
        )
    assert statuses == [200] + [409] * 7
    assert admin.get(f"/agents/{agent['agentId']}").data["version"] == 2


def test_executions_move_through_their_states(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    onboard("acme")
    admin = admin_of(cloud, app, "acme")
    agent = admin.post("/agents", {"name": "worker"}).data
    started = admin.post(f"/agents/{agent['agentId']}/executions", {"input": {"ticket": 42}})
    assert started.status == 201
    execution = started.data
    assert (execution["status"], execution["inputSummary"], execution["agentId"]) == (
        "QUEUED",
        '{"ticket":42}',
        agent["agentId"],
    )
    assert execution["traceId"]
    url = f"/executions/{execution['executionId']}"
    assert admin.patch(url, {"status": "SUCCEEDED"}).status == 409  # QUEUED cannot succeed
    assert admin.patch(url, {"status": "RUNNING"}).data["status"] == "RUNNING"
    assert admin.patch(url, {"status": "RUNNING"}).error["code"] == "ILLEGAL_TRANSITION"
    done = admin.patch(url, {"status": "FAILED", "error": "timeout"})
    assert (done.data["status"], done.data["error"]) == ("FAILED", "timeout")
    assert admin.patch(url, {"status": "RUNNING"}).status == 409
    second = admin.post(f"/agents/{agent['agentId']}/executions", {}).data
    by_agent = admin.get(f"/agents/{agent['agentId']}/executions").data
    assert [e["executionId"] for e in by_agent] == sorted([execution["executionId"], second["executionId"]])
    queued = admin.get(f"/agents/{agent['agentId']}/executions?status=QUEUED").data
    assert [e["executionId"] for e in queued] == [second["executionId"]]
    assert admin.post("/agents/no-such-agent/executions", {}).status == 404


def test_users_are_managed_by_admins_only(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    onboard("acme")
    admin = admin_of(cloud, app, "acme")
    created = admin.post("/users", {"email": "Member@Acme.example", "role": "member"})
    assert created.status == 201
    member_user = created.data
    assert member_user["email"] == "member@acme.example"
    duplicate = admin.post("/users", {"email": "member@acme.example"})
    assert (duplicate.status, duplicate.error["code"]) == (409, "EMAIL_TAKEN")
    member = app.as_user(token_for(cloud, "member@acme.example"))
    assert member.get("/me").data["role"] == "member"
    assert member.get("/users").status == 403
    assert member.post("/users", {"email": "x@acme.example"}).status == 403
    assert member.get("/audit").status == 403
    assert member.post("/agents", {"name": "members can"}).status == 201
    promoted = admin.patch(f"/users/{member_user['userId']}", {"role": "admin", "version": 1})
    assert (promoted.status, promoted.data["role"]) == (200, "admin")
    assert sorted(u["email"] for u in admin.get("/users").data) == [
        "admin@acme.example",
        "member@acme.example",
    ]
    assert admin.delete(f"/users/{member_user['userId']}").status == 204
    assert admin.get(f"/users/{member_user['userId']}").status == 404
    assert admin.post("/users", {"email": "member@acme.example"}).status == 201  # the email is free again


def test_the_same_email_may_join_two_tenants(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    onboard("one")
    onboard("two")
    for slug in ("one", "two"):
        assert admin_of(cloud, app, slug).post("/users", {"email": "shared@people.example"}).status == 201


def test_every_mutation_is_audited_in_the_same_transaction(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    onboard("acme")
    admin = admin_of(cloud, app, "acme")
    me = admin.get("/me").data
    agent = admin.post("/agents", {"name": "a"}).data
    admin.patch(f"/agents/{agent['agentId']}", {"name": "b", "version": 1})
    admin.delete(f"/agents/{agent['agentId']}")
    trail = admin.get("/audit").data
    actions = [(e["action"], e["resource"]) for e in trail]
    assert actions[-3:] == [
        ("agent.create", f"AGENT#{agent['agentId']}"),
        ("agent.update", f"AGENT#{agent['agentId']}"),
        ("agent.delete", f"AGENT#{agent['agentId']}"),
    ]
    assert {e["actorUserId"] for e in trail[-3:]} == {me["userId"]}
    assert all(e["traceId"] for e in trail)
    first = trail[-3]["createdAt"]
    window = admin.get(f"/audit?from={first}&to={first}").data
    assert [e["action"] for e in window] == ["agent.create"]
    assert admin.get("/audit?from=2030-01-01&to=2020-01-01").status == 400
    assert admin.get("/audit?from=yesterday").status == 422


def test_lists_paginate_with_cursors_bound_to_the_tenant(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    onboard("one")
    onboard("two")
    first, second = admin_of(cloud, app, "one"), admin_of(cloud, app, "two")
    for i in range(5):
        first.post("/agents", {"name": f"a{i}"})
    page = first.get("/agents?limit=2")
    assert len(page.data) == 2
    cursor = page.body["pagination"]["next_cursor"]
    seen = [a["agentId"] for a in page.data]
    while cursor:
        page = first.get(f"/agents?limit=2&cursor={cursor}")
        seen += [a["agentId"] for a in page.data]
        cursor = page.body["pagination"]["next_cursor"]
    assert len(seen) == len(set(seen)) == 5
    stolen = second.get(
        f"/agents?limit=2&cursor={first.get('/agents?limit=2').body['pagination']['next_cursor']}"
    )
    assert stolen.status == 400
    assert stolen.error["details"][0]["field"] == "cursor"


def test_offboarding_removes_the_tenants_users(
    cloud: Cloud, app: ApiClient, api: ApiClient, onboard: Any
) -> None:
    tenant = onboard("gone")
    admin = admin_of(cloud, app, "gone")
    admin.post("/users", {"email": "member@gone.example"})
    user_ids = [u["userId"] for u in admin.get("/users").data]
    assert api.delete(f"/tenants/{tenant['tenantId']}").status == 202
    cloud.drain()
    assert api.get(f"/tenants/{tenant['tenantId']}").data["provisioningStatus"] == "DEPROVISIONED"
    cognito = boto3.client("cognito-idp")
    for user_id in user_ids:
        with pytest.raises(cognito.exceptions.UserNotFoundException):
            cognito.admin_get_user(UserPoolId=cloud.settings.user_pool_id, Username=user_id)


def test_audit_bounds_are_instants_and_days_not_string_prefixes(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    """`to=…T11:24:50Z` ends at that instant (an entry at .544 is after it); `from` at a whole second
    starts there; a date is the whole day; a date or time that does not exist is a 422."""
    onboard("acme")
    admin = admin_of(cloud, app, "acme")
    agent = admin.post("/agents", {"name": "a"}).data
    stamp = next(e for e in admin.get("/audit").data if e["resource"] == f"AGENT#{agent['agentId']}")[
        "createdAt"
    ]
    second, day = stamp[:19] + "Z", stamp[:10]  # 2026-12-03T11:24:50Z, 2026-12-03
    after_second = stamp > second.replace("Z", ".000Z")
    ids = lambda query: [e["resource"] for e in admin.get(f"/audit?{query}").data]  # noqa: E731
    assert f"AGENT#{agent['agentId']}" in ids(f"from={second}")
    assert (f"AGENT#{agent['agentId']}" in ids(f"to={second}")) is not after_second
    assert f"AGENT#{agent['agentId']}" in ids(f"from={day}&to={day}")
    for impossible in ("2026-13-45", "2026-02-31", "2026-12-03T99:99", "2026-12-03T:"):
        answer = admin.get(f"/audit?from={impossible}")
        assert answer.status == 422, (impossible, answer.body)
