"""Count-based plan limits, enforced in the create's own transaction; executions metered in the
start's transaction; and `GET /config`, the caller's tenant's effective limits and flags."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from tenancy.common.clients import _session
from tenancy.contracts import usage
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.helpers.retries import LostResponses
from tests.integration.conftest import admin_of, token_for


@pytest.fixture
def lost(cloud: Cloud) -> LostResponses:
    hook = LostResponses()
    hook.install(_session().get_component("event_emitter"))
    return hook


def items(cloud: Cloud, tenant_id: str, prefix: str) -> list[dict[str, Any]]:
    found = boto3.client("dynamodb").query(
        TableName=cloud.settings.app_table_name,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":p": {"S": prefix}},
        ConsistentRead=True,
    )["Items"]
    return found


def counter(cloud: Cloud, tenant_id: str, kind: str) -> int | None:
    found = items(cloud, tenant_id, f"COUNT#{kind}")
    return int(found[0]["n"]["N"]) if found else None


def usage_today(cloud: Cloud, tenant_id: str) -> dict[str, Any]:
    key = usage.day_key(tenant_id, usage.today())
    item = boto3.client("dynamodb").get_item(
        TableName=cloud.settings.usage_table_name,
        Key={name: {"S": value} for name, value in key.items()},
        ConsistentRead=True,
    )
    return item.get("Item", {})


def set_limits(api: ApiClient, tenant_id: str, **limits: int) -> None:
    version = api.get(f"/tenants/{tenant_id}").data["version"]
    changed = api.patch(f"/tenants/{tenant_id}/config", {"limits": limits, "version": version})
    assert changed.status == 200, changed.body


# --- count limits ---------------------------------------------------------------------------------


def test_users_up_to_the_limit_then_409_limit_reached_writing_nothing(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    tenant = onboard("acme", "FREE")  # 5 users; the first admin is one
    tenant_id = tenant["tenantId"]
    admin = admin_of(cloud, app, "acme")
    assert counter(cloud, tenant_id, "USER") == 1
    for n in range(4):
        assert admin.post("/users", {"email": f"u{n}@acme.example"}).status == 201
    audit_before = len(items(cloud, tenant_id, "AUDIT#"))

    refused = admin.post("/users", {"email": "one-too-many@acme.example"})

    assert refused.status == 409, refused.body
    assert refused.error["code"] == "LIMIT_REACHED"
    assert refused.error["details"] == {"limit": "users", "maximum": 5, "current": 5}
    assert [i for i in items(cloud, tenant_id, "USER#") if i["email"]["S"].startswith("one-too")] == []
    assert items(cloud, tenant_id, "EMAIL#one-too-many@acme.example") == []
    assert len(items(cloud, tenant_id, "AUDIT#")) == audit_before
    assert counter(cloud, tenant_id, "USER") == 5
    cognito = boto3.client("cognito-idp").list_users(UserPoolId=cloud.settings.user_pool_id)["Users"]
    emails = {a["Value"] for u in cognito for a in u["Attributes"] if a["Name"] == "email"}
    assert "u0@acme.example" in emails
    assert "one-too-many@acme.example" not in emails


def test_agents_up_to_the_limit_and_a_delete_frees_a_slot(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    tenant_id = onboard("acme", "FREE")["tenantId"]  # 3 agents
    admin = admin_of(cloud, app, "acme")
    created = [admin.post("/agents", {"name": f"a{n}"}) for n in range(3)]
    assert [c.status for c in created] == [201, 201, 201]
    refused = admin.post("/agents", {"name": "a3"})
    assert (refused.status, refused.error["code"]) == (409, "LIMIT_REACHED")
    assert refused.error["details"] == {"limit": "agents", "maximum": 3, "current": 3}
    assert len(items(cloud, tenant_id, "AGENT#")) == 3

    assert admin.delete(f"/agents/{created[0].data['agentId']}").status == 204
    assert counter(cloud, tenant_id, "AGENT") == 2
    assert admin.post("/agents", {"name": "a3"}).status == 201
    assert counter(cloud, tenant_id, "AGENT") == 3
    assert admin.post("/agents", {"name": "a4"}).status == 409


def test_a_deleted_user_frees_a_slot(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    tenant_id = onboard("acme", "FREE")["tenantId"]
    admin = admin_of(cloud, app, "acme")
    users = [admin.post("/users", {"email": f"u{n}@acme.example"}).data for n in range(4)]
    assert admin.post("/users", {"email": "late@acme.example"}).status == 409
    assert admin.delete(f"/users/{users[0]['userId']}").status == 204
    assert counter(cloud, tenant_id, "USER") == 4
    assert admin.post("/users", {"email": "late@acme.example"}).status == 201
    assert counter(cloud, tenant_id, "USER") == 5


def test_racing_creates_at_one_below_the_limit_let_exactly_one_through(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    tenant_id = onboard("acme", "FREE")["tenantId"]
    admin = admin_of(cloud, app, "acme")
    for n in range(2):
        assert admin.post("/agents", {"name": f"a{n}"}).status == 201

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda n: admin.post("/agents", {"name": f"racer-{n}"}), range(6)))

    assert sorted(a.status for a in answers) == [201, 409, 409, 409, 409, 409]
    assert {a.error["code"] for a in answers if a.status == 409} == {"LIMIT_REACHED"}
    assert len(items(cloud, tenant_id, "AGENT#")) == 3
    assert counter(cloud, tenant_id, "AGENT") == 3


def test_racing_user_creates_at_one_below_the_limit_let_exactly_one_through(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    tenant_id = onboard("acme", "FREE")["tenantId"]
    admin = admin_of(cloud, app, "acme")
    for n in range(3):
        assert admin.post("/users", {"email": f"u{n}@acme.example"}).status == 201

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda n: admin.post("/users", {"email": f"r{n}@acme.example"}), range(4)))

    assert sorted(a.status for a in answers) == [201, 409, 409, 409]
    assert len(items(cloud, tenant_id, "USER#")) == 5
    assert len(items(cloud, tenant_id, "EMAIL#")) == 5
    assert counter(cloud, tenant_id, "USER") == 5


def test_a_create_whose_response_was_lost_counts_once(
    cloud: Cloud, app: ApiClient, onboard: Any, lost: LostResponses
) -> None:
    """botocore's retry carries the same ClientRequestToken: DynamoDB answers it with success and
    adds nothing, so the slot is taken once (the last slot: the retry is not a LIMIT_REACHED)."""
    tenant_id = onboard("acme", "FREE")["tenantId"]
    admin = admin_of(cloud, app, "acme")
    for n in range(2):
        assert admin.post("/agents", {"name": f"a{n}"}).status == 201
    lost.arm("TransactWriteItems")
    last = admin.post("/agents", {"name": "last"})
    assert lost.lost == ["TransactWriteItems"]
    assert last.status == 201, last.body
    assert counter(cloud, tenant_id, "AGENT") == 3
    assert len(items(cloud, tenant_id, "AGENT#")) == 3


def test_a_user_create_retried_without_its_token_at_the_last_slot_is_201_counted_once(
    cloud: Cloud, app: ApiClient, onboard: Any, lost: LostResponses
) -> None:
    """Without the token the retry meets its own email marker (and a full counter): the marker
    naming this very user says the create committed, and the counter is not refused twice."""
    tenant_id = onboard("acme", "FREE")["tenantId"]
    admin = admin_of(cloud, app, "acme")
    for n in range(3):
        assert admin.post("/users", {"email": f"u{n}@acme.example"}).status == 201
    lost.strip_tokens = True
    lost.arm("TransactWriteItems")
    last = admin.post("/users", {"email": "last@acme.example"})
    assert lost.lost == ["TransactWriteItems"]
    assert last.status == 201, last.body
    assert counter(cloud, tenant_id, "USER") == 5
    assert len(items(cloud, tenant_id, "USER#")) == 5


def test_a_tenant_override_raising_the_limit_takes_effect(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Any
) -> None:
    tenant_id = onboard("acme", "FREE")["tenantId"]
    admin = admin_of(cloud, app, "acme")
    for n in range(3):
        assert admin.post("/agents", {"name": f"a{n}"}).status == 201
    assert admin.post("/agents", {"name": "a3"}).status == 409

    set_limits(api, tenant_id, agents=4)

    assert admin.post("/agents", {"name": "a3"}).status == 201
    refused = admin.post("/agents", {"name": "a4"})
    assert refused.status == 409
    assert refused.error["details"] == {"limit": "agents", "maximum": 4, "current": 4}


def test_a_tenant_override_lowering_the_limit_refuses_creates_and_keeps_what_exists(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Any
) -> None:
    tenant_id = onboard("acme", "PRO")["tenantId"]
    admin = admin_of(cloud, app, "acme")
    agents = [admin.post("/agents", {"name": f"a{n}"}).data for n in range(3)]
    set_limits(api, tenant_id, agents=2)
    refused = admin.post("/agents", {"name": "more"})
    assert refused.error["details"] == {"limit": "agents", "maximum": 2, "current": 3}
    assert admin.get(f"/agents/{agents[2]['agentId']}").status == 200  # nothing is taken away
    assert admin.delete(f"/agents/{agents[2]['agentId']}").status == 204
    assert admin.post("/agents", {"name": "more"}).status == 409  # 2 of 2
    assert admin.delete(f"/agents/{agents[1]['agentId']}").status == 204
    assert admin.post("/agents", {"name": "more"}).status == 201


def test_a_tenant_whose_items_predate_counting_is_counted_from_what_it_holds(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    """No counter item (a tenant onboarded before counting): the first counted write seeds it with
    the number of items the partition holds, so the limit holds from then on."""
    tenant_id = onboard("acme", "FREE")["tenantId"]
    admin = admin_of(cloud, app, "acme")
    agents = [admin.post("/agents", {"name": f"a{n}"}).data for n in range(2)]
    dynamodb = boto3.client("dynamodb")
    for kind in ("AGENT", "USER"):
        dynamodb.delete_item(
            TableName=cloud.settings.app_table_name,
            Key={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": f"COUNT#{kind}"}},
        )

    assert admin.post("/agents", {"name": "a2"}).status == 201
    assert counter(cloud, tenant_id, "AGENT") == 3
    assert admin.post("/agents", {"name": "a3"}).error["code"] == "LIMIT_REACHED"

    # A delete seeds a missing counter too (counting the item it deletes), then takes one off.
    member = admin.post("/users", {"email": "m@acme.example"}).data
    assert counter(cloud, tenant_id, "USER") == 2
    dynamodb.delete_item(
        TableName=cloud.settings.app_table_name,
        Key={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": "COUNT#USER"}},
    )
    assert admin.delete(f"/users/{member['userId']}").status == 204
    assert counter(cloud, tenant_id, "USER") == 1
    assert admin.delete(f"/agents/{agents[0]['agentId']}").status == 204
    assert counter(cloud, tenant_id, "AGENT") == 2


def test_the_first_admin_is_counted(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    tenant_id = onboard("acme", "FREE")["tenantId"]
    assert counter(cloud, tenant_id, "USER") == 1
    assert counter(cloud, tenant_id, "AGENT") == 0


# --- executions metered ---------------------------------------------------------------------------


def test_started_executions_are_counted_on_todays_usage_item(
    cloud: Cloud, app: ApiClient, onboard: Any, lost: LostResponses
) -> None:
    tenant_id = onboard("acme", "PRO")["tenantId"]
    other_id = onboard("other", "PRO")["tenantId"]
    admin = admin_of(cloud, app, "acme")
    agent = admin.post("/agents", {"name": "triage"}).data
    for n in range(3):
        started = admin.post(f"/agents/{agent['agentId']}/executions", {"input": {"n": n}})
        assert started.status == 201, started.body

    day = usage_today(cloud, tenant_id)
    assert int(day["executions"]["N"]) == 3
    assert int(day["expiresAt"]["N"]) == usage.expires_at(usage.today())
    assert "executions" not in usage_today(cloud, other_id)

    lost.arm("TransactWriteItems")
    retried = admin.post(f"/agents/{agent['agentId']}/executions", {"input": {"n": 3}})
    assert lost.lost == ["TransactWriteItems"]
    assert retried.status == 201
    assert int(usage_today(cloud, tenant_id)["executions"]["N"]) == 4
    assert len(items(cloud, tenant_id, "EXEC#")) == 4


def test_a_refused_start_is_not_counted(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    tenant_id = onboard("acme", "PRO")["tenantId"]
    admin = admin_of(cloud, app, "acme")
    never = "00000000-0000-4000-8000-000000000000"
    assert admin.post(f"/agents/{never}/executions", {"input": {}}).status == 404
    assert "executions" not in usage_today(cloud, tenant_id)


# --- GET /config ----------------------------------------------------------------------------------


def test_get_config_for_a_free_tenant_shows_the_plan_and_what_is_used(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    tenant_id = onboard("acme", "FREE")["tenantId"]
    admin = admin_of(cloud, app, "acme")
    admin.post("/agents", {"name": "a"})
    member = admin.post("/users", {"email": "m@acme.example", "role": "member"}).data
    assert member

    config = app.as_user(token_for(cloud, "m@acme.example")).get("/config")  # any member may read it

    assert config.status == 200, config.body
    data = config.data
    assert (data["tenantId"], data["tier"]) == (tenant_id, "FREE")
    assert data["limits"]["users"] == {"value": 5, "source": "plan", "used": 2}
    assert data["limits"]["agents"] == {"value": 3, "source": "plan", "used": 1}
    assert data["limits"]["apiRequestsPerSecond"] == {"value": 10, "source": "plan"}
    assert data["limits"]["storageBytes"] == {"value": 100 * 1024**2, "source": "plan"}
    assert data["flags"]["secrets"] == {"value": False, "source": "plan"}


def test_get_config_for_a_pro_tenant_with_an_override_says_which_value_is_the_tenants(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Any
) -> None:
    tenant_id = onboard("acme", "PRO")["tenantId"]
    admin = admin_of(cloud, app, "acme")
    before = admin.get("/config").data
    assert before["limits"]["agents"] == {"value": 50, "source": "plan", "used": 0}
    assert before["flags"]["secrets"] == {"value": True, "source": "plan"}

    set_limits(api, tenant_id, agents=75)
    after = admin.get("/config").data

    assert after["limits"]["agents"] == {"value": 75, "source": "tenant", "used": 0}
    assert after["limits"]["users"] == {"value": 100, "source": "plan", "used": 1}
    assert after["version"] > before["version"]
    assert after["tier"] == "PRO"


def test_get_config_needs_a_token(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    onboard("acme", "FREE")
    assert app.get("/config").status == 401
