"""A write that committed is never answered as a conflict, even when botocore retried it after a lost
response; and `Idempotency-Key` makes `POST /tenants` safe for a client that retries itself."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from tenancy.common.clients import _session
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.helpers.retries import LostResponses
from tests.integration.conftest import admin_of, new_tenant

VALID = {"name": "Acme", "slug": "acme", "tier": "PRO", "adminEmail": "admin@acme.example"}


@pytest.fixture
def lost(cloud: Cloud) -> LostResponses:
    """Installed on the functions' botocore session before any of their clients exists."""
    hook = LostResponses()
    hook.install(_session().get_component("event_emitter"))
    return hook


def tenants_with_slug(cloud: Cloud, slug: str) -> list[dict[str, Any]]:
    return [i for i in cloud.control_items() if i.get("slug") == slug and i["SK"] == "METADATA"]


def app_items(cloud: Cloud, tenant_id: str, prefix: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").query(
        TableName=cloud.settings.app_table_name,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":p": {"S": prefix}},
    )["Items"]
    return items  # type: ignore[no-any-return]


# --- the control table ----------------------------------------------------------------------------


@pytest.mark.parametrize("strip_tokens", [False, True], ids=["token", "slug-marker"])
def test_a_create_whose_response_was_lost_is_201_with_one_tenant(
    api: ApiClient, cloud: Cloud, lost: LostResponses, strip_tokens: bool
) -> None:
    """With the token DynamoDB answers the retry with success; without it, the slug marker names
    this very tenant, so the store knows the create committed."""
    lost.strip_tokens = strip_tokens
    lost.arm("TransactWriteItems")
    response = api.post("/tenants", VALID)
    assert lost.lost == ["TransactWriteItems"]  # the retry really happened
    assert response.status == 201, response.body
    [stored] = tenants_with_slug(cloud, "acme")
    assert stored["tenantId"] == response.data["tenantId"]
    markers = [i for i in cloud.control_items() if i["PK"] == "SLUG#acme"]
    assert [m["tenantId"] for m in markers] == [response.data["tenantId"]]
    # And a taken slug is still a conflict.
    again = api.post("/tenants", {**VALID, "name": "Other"})
    assert (again.status, again.error["code"]) == (409, "SLUG_TAKEN")


def test_a_rename_whose_response_was_lost_is_200_with_one_version_bump(
    api: ApiClient, cloud: Cloud, lost: LostResponses
) -> None:
    tenant = new_tenant(api, "acme")
    lost.arm("UpdateItem")
    renamed = api.patch(f"/tenants/{tenant['tenantId']}", {"name": "Acme Two", "version": 1})
    assert lost.lost == ["UpdateItem"]
    assert renamed.status == 200, renamed.body
    assert (renamed.data["name"], renamed.data["version"]) == ("Acme Two", 2)
    stored = cloud.tenant_item(tenant["tenantId"])
    assert stored is not None
    assert (stored["name"], stored["version"]) == ("Acme Two", 2)
    # A genuinely stale version is still refused.
    stale = api.patch(f"/tenants/{tenant['tenantId']}", {"name": "Lost", "version": 1})
    assert (stale.status, stale.error["code"]) == (409, "VERSION_CONFLICT")


def test_a_status_change_whose_response_was_lost_is_reported_as_made(
    api: ApiClient, cloud: Cloud, lost: LostResponses
) -> None:
    from tenancy.control.models import Status
    from tenancy.control.store import ControlStore
    from tests.integration.conftest import force_status

    tenant = new_tenant(api, "acme")
    force_status(
        ControlStore(boto3.client("dynamodb"), cloud.settings.control_table_name),
        tenant["tenantId"],
        Status.PROVISIONED,
    )
    lost.arm("UpdateItem")
    offboarded = api.delete(f"/tenants/{tenant['tenantId']}")
    assert lost.lost == ["UpdateItem"]
    assert offboarded.status == 202, offboarded.body
    assert offboarded.data["provisioningStatus"] == "OFFBOARDING"


# --- the app table (tenant-bound store) -----------------------------------------------------------


def test_app_writes_whose_responses_were_lost_succeed_once(
    cloud: Cloud, app: ApiClient, onboard: Any, lost: LostResponses
) -> None:
    tenant = onboard("acme")
    admin = admin_of(cloud, app, "acme")
    tenant_id = tenant["tenantId"]
    audit_before = len(app_items(cloud, tenant_id, "AUDIT#"))

    lost.arm("TransactWriteItems")
    user = admin.post("/users", {"email": "dev@acme.example", "role": "member"})
    assert user.status == 201, user.body
    lost.arm("TransactWriteItems")
    agent = admin.post("/agents", {"name": "triage"})
    assert agent.status == 201, agent.body
    lost.arm("TransactWriteItems")
    updated = admin.patch(f"/agents/{agent.data['agentId']}", {"name": "triage-2", "version": 1})
    assert (updated.status, updated.data["version"]) == (200, 2), updated.body
    lost.arm("TransactWriteItems")
    assert admin.delete(f"/agents/{agent.data['agentId']}").status == 204
    assert lost.lost == ["TransactWriteItems"] * 4

    users = [i for i in app_items(cloud, tenant_id, "USER#") if i["email"]["S"] == "dev@acme.example"]
    assert len(users) == 1
    assert [m["ownerId"]["S"] for m in app_items(cloud, tenant_id, "EMAIL#dev@acme.example")] == [
        user.data["userId"]
    ]
    assert app_items(cloud, tenant_id, "AGENT#") == []
    assert len(app_items(cloud, tenant_id, "AUDIT#")) == audit_before + 4  # one per write, none twice


def test_a_user_create_retried_without_its_token_is_still_201(
    cloud: Cloud, app: ApiClient, onboard: Any, lost: LostResponses
) -> None:
    tenant = onboard("acme")
    admin = admin_of(cloud, app, "acme")
    lost.strip_tokens = True
    lost.arm("TransactWriteItems")
    user = admin.post("/users", {"email": "dev@acme.example", "role": "member"})
    assert user.status == 201, user.body
    assert (
        len(
            [
                i
                for i in app_items(cloud, tenant["tenantId"], "USER#")
                if i["email"]["S"] == "dev@acme.example"
            ]
        )
        == 1
    )


# --- Idempotency-Key ------------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_return_the_first_answer(api: ApiClient, cloud: Cloud) -> None:
    key = {"Idempotency-Key": "create-acme-1"}
    first = api.post("/tenants", VALID, headers=key)
    assert first.status == 201
    assert "Idempotent-Replayed" not in first.headers
    again = api.post("/tenants", VALID, headers=key)
    assert again.status == 201
    assert again.body == first.body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(tenants_with_slug(cloud, "acme")) == 1


def test_the_same_idempotency_key_with_another_body_is_409_and_writes_nothing(
    api: ApiClient, cloud: Cloud
) -> None:
    key = {"Idempotency-Key": "create-1"}
    assert api.post("/tenants", VALID, headers=key).status == 201
    before = cloud.control_items()
    other = api.post("/tenants", {**VALID, "slug": "other", "name": "Other"}, headers=key)
    assert other.status == 409
    assert other.error["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert other.error["details"][0]["field"] == "Idempotency-Key"
    assert cloud.control_items() == before


def test_a_failed_create_is_not_replayed(api: ApiClient, cloud: Cloud) -> None:
    """A refused request stores no answer: after the slug is freed, the same key creates."""
    new_tenant(api, "acme")
    key = {"Idempotency-Key": "retry-me"}
    assert api.post("/tenants", {**VALID, "name": "Second"}, headers=key).status == 409
    assert api.post("/tenants", {**VALID, "name": "Second"}, headers=key).error["code"] == "SLUG_TAKEN"


def test_different_keys_are_different_requests(api: ApiClient) -> None:
    assert api.post("/tenants", VALID, headers={"Idempotency-Key": "a"}).status == 201
    taken = api.post("/tenants", VALID, headers={"Idempotency-Key": "b"})
    assert (taken.status, taken.error["code"]) == (409, "SLUG_TAKEN")


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "ünïcode"])
def test_a_malformed_idempotency_key_is_422_and_writes_nothing(
    api: ApiClient, cloud: Cloud, key: str
) -> None:
    response = api.post("/tenants", VALID, headers={"Idempotency-Key": key})
    assert response.status == 422, response.body
    assert cloud.control_items() == []


def test_concurrent_requests_with_one_key_create_one_tenant(api: ApiClient, cloud: Cloud) -> None:
    key = {"Idempotency-Key": "burst"}
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: api.post("/tenants", VALID, headers=key), range(6)))
    statuses = sorted(a.status for a in answers)
    assert set(statuses) <= {201, 409}
    created = [a for a in answers if a.status == 201]
    assert created
    assert {a.data["tenantId"] for a in created} == {tenants_with_slug(cloud, "acme")[0]["tenantId"]}
    assert all(a.error["code"] == "IDEMPOTENCY_KEY_IN_USE" for a in answers if a.status == 409)
    assert len(tenants_with_slug(cloud, "acme")) == 1
