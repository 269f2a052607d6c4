"""A request that still carries a cached authorization cannot write into an offboarded tenant's data.

API Gateway keeps the authorizer's Allow for its results-cache TTL: after offboarding, such a request
reached the app API, wrote into the purged pool partition (items nothing would ever clean up) or, for a
silo tenant whose table was deleted, answered 500. Every tenant write now requires the partition's
open marker, which offboarding deletes first; a deleted silo table is a closed tenant too.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from localcloud.apigateway import AuthorizerCache
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.integration.conftest import token_for


def partition(cloud: Cloud, table: str, tenant_id: str) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").query(  # type: ignore[no-any-return]
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
    )["Items"]


@pytest.mark.parametrize("tier", ["PRO", "ENTERPRISE"])
def test_a_cached_authorization_cannot_write_after_offboarding(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Any, tier: str
) -> None:
    tenant = onboard("acme", tier)
    tenant_id = tenant["tenantId"]
    table = tenant["resources"].get("dedicatedTable") or cloud.settings.app_table_name
    assert {i["SK"]["S"] for i in partition(cloud, table, tenant_id)} >= {"PARTITION"}
    cache = AuthorizerCache(ttl_seconds=3600)  # the Allow stays cached throughout
    admin = ApiClient(cloud.runtime, "app_api", token_for(cloud, "admin@acme.example"), cache)
    assert admin.post("/agents", {"name": "before"}).status == 201

    assert api.delete(f"/tenants/{tenant_id}").status == 202
    cloud.drain()
    assert api.get(f"/tenants/{tenant_id}").data["provisioningStatus"] == "DEPROVISIONED"

    write = admin.post("/agents", {"name": "after"})
    assert (write.status, write.error["code"]) == (403, "TENANT_INACTIVE")
    if tier == "PRO":
        assert partition(cloud, table, tenant_id) == []  # nothing landed behind the purge
        assert admin.get("/agents").data == []
    else:  # the silo table is gone: reads are a closed tenant too, never a 500
        read = admin.get("/agents")
        assert (read.status, read.error["code"]) == (403, "TENANT_INACTIVE")


def test_a_partition_that_was_never_opened_takes_no_write(cloud: Cloud) -> None:
    from tenancy.application.store import kinds
    from tenancy.application.store.engine import Actor, Change, TenantStore
    from tenancy.common.errors import TenantInactiveError

    store = TenantStore(boto3.client("dynamodb"), cloud.settings.app_table_name, "t-1", Actor("u", "t"))
    with pytest.raises(TenantInactiveError):
        store.create(kinds.AGENT, "a-1", {"agentId": "a-1"}, Change("agent.create", "AGENT#a-1"))
    assert partition(cloud, cloud.settings.app_table_name, "t-1") == []
    store.open_partition()
    store.open_partition()  # idempotent
    assert (
        store.create(kinds.AGENT, "a-1", {"agentId": "a-1"}, Change("agent.create", "AGENT#a-1"))["agentId"]
        == "a-1"
    )
