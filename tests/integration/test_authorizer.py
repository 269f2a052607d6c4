"""The authorizer against the user's stored membership, in-process on moto with real tokens: a removed
user is refused within API Gateway's result-cache TTL, and the role is the stored one, not the token's.
Also `make token`'s lookup of a user by email within a tenant."""

from __future__ import annotations

from typing import Any

import boto3
import jwt

from localcloud.apigateway import AuthorizerCache, authorizer_event, rest_proxy_event
from localcloud.tokens import issue_token
from tenancy_infra.topology import AUTHORIZER_RESULT_TTL_SECONDS, function
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.integration.conftest import admin_of, token_for


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def authorize(cloud: Cloud, token: str) -> dict[str, Any]:
    """The authorizer's own answer for `GET /agents` with this token (no cache in front of it)."""
    event = rest_proxy_event(
        method="GET", path="/agents", resource="/agents", headers={"Authorization": [f"Bearer {token}"]}
    )
    invocation = cloud.runtime.invoke("authorizer", authorizer_event(event))
    assert invocation.error is None, invocation.error
    return invocation.result  # type: ignore[no-any-return]


def effect(answer: dict[str, Any]) -> str:
    [statement] = answer["policyDocument"]["Statement"]
    return str(statement["Effect"])


def agents_of(cloud: Cloud, tenant_id: str) -> list[str]:
    items = boto3.client("dynamodb").query(
        TableName=cloud.settings.app_table_name,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :a)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":a": {"S": "AGENT#"}},
        ConsistentRead=True,
    )["Items"]
    return sorted(i["name"]["S"] for i in items)


def test_the_gateway_caches_answers_for_the_topology_ttl() -> None:
    """The bound below is the one CDK deploys: the authorizer's result TTL, from one constant."""
    trigger = function("authorizer").trigger
    assert getattr(trigger, "result_ttl_seconds", None) == AUTHORIZER_RESULT_TTL_SECONDS > 0


def test_a_removed_user_is_refused_within_the_result_cache_ttl(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    tenant = onboard("acme")
    clock = Clock()
    gateway = app.as_user(None)
    gateway.authorizer_cache = AuthorizerCache(AUTHORIZER_RESULT_TTL_SECONDS, clock)
    admin = gateway.as_user(token_for(cloud, "admin@acme.example"))
    leaver_id = admin.post("/users", {"email": "leaver@acme.example", "role": "member"}).data["userId"]
    token = token_for(cloud, "leaver@acme.example")
    leaver = gateway.as_user(token)
    assert effect(authorize(cloud, token)) == "Allow"
    assert leaver.post("/agents", {"name": "before"}).status == 201  # the Allow is now cached

    assert admin.delete(f"/users/{leaver_id}").status == 204

    # The authorizer itself refuses at once: the user item is gone.
    refused = authorize(cloud, token)
    assert effect(refused) == "Deny"
    assert "context" not in refused
    # Through API Gateway, once the cached Allow has expired (at most the TTL after the deletion).
    clock.now += AUTHORIZER_RESULT_TTL_SECONDS
    assert leaver.post("/agents", {"name": "after"}).status == 403
    assert leaver.get("/agents").status == 403
    assert leaver.get("/me").status == 403
    assert agents_of(cloud, tenant["tenantId"]) == ["before"]
    assert admin.get("/agents").status == 200  # the tenant's other users are untouched


def test_a_token_issued_before_removal_and_not_yet_used_is_refused_at_once(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    tenant = onboard("acme")
    gateway = app.as_user(None)
    gateway.authorizer_cache = AuthorizerCache(AUTHORIZER_RESULT_TTL_SECONDS, Clock())
    admin = gateway.as_user(token_for(cloud, "admin@acme.example"))
    leaver_id = admin.post("/users", {"email": "leaver@acme.example"}).data["userId"]
    leaver = gateway.as_user(token_for(cloud, "leaver@acme.example"))
    assert admin.delete(f"/users/{leaver_id}").status == 204
    assert leaver.post("/agents", {"name": "never"}).status == 403
    assert leaver.get("/agents").status == 403
    assert agents_of(cloud, tenant["tenantId"]) == []
    audit = [e["action"] for e in admin.get("/audit").data]
    assert "agent.create" not in audit


def test_the_role_comes_from_the_stored_user_not_the_token(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    onboard("acme")
    admin = admin_of(cloud, app, "acme")
    created = admin.post("/users", {"email": "dev@acme.example", "role": "member"}).data
    token = token_for(cloud, "dev@acme.example")  # says custom:role = member
    assert jwt.decode(token, options={"verify_signature": False})["custom:role"] == "member"
    dev = app.as_user(token)
    assert dev.get("/users").status == 403

    promoted = admin.patch(f"/users/{created['userId']}", {"role": "admin", "version": 1})
    assert promoted.status == 200
    assert dev.get("/users").status == 200  # the same token, now an admin's
    assert authorize(cloud, token)["context"]["role"] == "admin"

    assert admin.patch(f"/users/{created['userId']}", {"role": "member", "version": 2}).status == 200
    assert dev.get("/users").status == 403
    assert dev.post("/users", {"email": "x@acme.example"}).status == 403


def test_silo_users_are_checked_in_their_own_table(cloud: Cloud, app: ApiClient, onboard: Any) -> None:
    onboard("vault", "ENTERPRISE")
    admin = admin_of(cloud, app, "vault")
    member_id = admin.post("/users", {"email": "m@vault.example"}).data["userId"]
    token = token_for(cloud, "m@vault.example")
    assert effect(authorize(cloud, token)) == "Allow"
    assert admin.delete(f"/users/{member_id}").status == 204
    assert effect(authorize(cloud, token)) == "Deny"


def test_a_token_for_the_same_email_in_each_of_two_tenants(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    tenants = {slug: onboard(slug)["tenantId"] for slug in ("one", "two")}
    user_ids = {
        slug: admin_of(cloud, app, slug).post("/users", {"email": "Shared@People.example"}).data["userId"]
        for slug in tenants
    }
    settings = cloud.settings
    for slug, tenant_id in tenants.items():
        token = issue_token(
            boto3.client("cognito-idp"),
            settings.user_pool_id,
            settings.user_pool_client_id,
            "shared@people.example",
            tenant_id,
        )
        claims = jwt.decode(token, options={"verify_signature": False})
        assert (claims["custom:tenantId"], claims["cognito:username"]) == (tenant_id, user_ids[slug])
        me = app.as_user(token).get("/me")
        assert (me.status, me.data["userId"]) == (200, user_ids[slug])


def test_the_context_carries_the_tenants_effective_config_at_its_current_version(
    cloud: Cloud, app: ApiClient, api: ApiClient, onboard: Any
) -> None:
    """The app API learns the tenant's limits and flags from the authorizer's context: computed from
    the tenant item read on this very authorization, so a change shows on the next one."""
    from tenancy.contracts.plans import EffectiveConfig, Limit

    tenant = onboard("acme", "PRO")
    token = token_for(cloud, "admin@acme.example")
    before = EffectiveConfig.from_compact(authorize(cloud, token)["context"]["config"])
    assert (before.tier, before.limit(Limit.USERS)) == ("PRO", 100)
    assert before.limits[Limit.USERS].source == "plan"
    version = api.get(f"/tenants/{tenant['tenantId']}").data["version"]
    assert (
        api.put(f"/tenants/{tenant['tenantId']}/config", {"limits": {"users": 3}, "version": version}).status
        == 200
    )
    after = EffectiveConfig.from_compact(authorize(cloud, token)["context"]["config"])
    assert (after.limit(Limit.USERS), after.limits[Limit.USERS].source, after.version) == (
        3,
        "tenant",
        version + 1,
    )
