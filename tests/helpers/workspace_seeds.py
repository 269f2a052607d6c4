"""Workspace items written straight into a tenant's partition (dashboards, groups, memberships),
for tests of the routes that read them (sharing), independent of the routes that create them."""

from __future__ import annotations

from typing import Any

import boto3

from tenancy.application.sharing import graph
from tenancy.application.store import keys
from tenancy.application.store.engine import Actor, TenantStore
from tenancy.application.store.transaction import Transaction
from tests.helpers.cloud import Cloud

CREATED = "2026-12-03T10:00:00.000000Z"


def table_of(cloud: Cloud, tenant: dict[str, Any]) -> str:
    return str(tenant["resources"].get("dedicatedTable") or cloud.settings.app_table_name)


def tenant_store(cloud: Cloud, tenant: dict[str, Any], client: Any = None) -> TenantStore:
    """The tenant's store as the seeding test (its partition is open: the tenant is provisioned)."""
    dynamodb = client if client is not None else boto3.client("dynamodb")
    return TenantStore(dynamodb, table_of(cloud, tenant), tenant["tenantId"], Actor("seed", "seed"))


def seed_dashboard(
    store: TenantStore, dashboard_id: str, owner_id: str, name: str | None = None
) -> dict[str, Any]:
    item = {
        "dashboardId": dashboard_id,
        "ownerId": owner_id,
        "name": name or f"dashboard {dashboard_id}",
        "description": "",
        "layout": {"columns": 12, "rowHeight": 80, "items": []},
        "filters": [],
        "cardIds": [],
        "version": 1,
        "createdAt": CREATED,
        "updatedAt": CREATED,
    }
    tx = Transaction().put(keys.item_sk(keys.DASHBOARD, dashboard_id), item)
    tx.put(keys.dashboard_by_owner_sk(owner_id, CREATED, dashboard_id), {"dashboardId": dashboard_id})
    store.commit(tx, None)
    return item


def seed_group(store: TenantStore, group_id: str, *members: str) -> None:
    item = {"groupId": group_id, "name": group_id, "description": "", "memberCount": 0, "version": 1}
    tx = Transaction().put(keys.item_sk(keys.GROUP, group_id), item)
    tx.put(keys.group_name_sk(group_id), {"ownerId": group_id})
    store.commit(tx, None)
    for user_id in members:
        add_member(store, group_id, user_id)


def add_member(store: TenantStore, group_id: str, user_id: str) -> None:
    store.commit(graph.add_member_writes(Transaction(), group_id, user_id, CREATED, "seed"), None)


def remove_member(store: TenantStore, group_id: str, user_id: str) -> None:
    store.commit(graph.remove_member_writes(Transaction(), group_id, user_id), None)


def items(cloud: Cloud, tenant: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """The tenant's items whose sort key begins with `prefix`, by sort key (raw DynamoDB values)."""
    query: dict[str, Any] = {
        "TableName": table_of(cloud, tenant),
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"TENANT#{tenant['tenantId']}"}},
        "ConsistentRead": True,
    }
    if prefix:
        query["KeyConditionExpression"] += " AND begins_with(SK, :prefix)"
        query["ExpressionAttributeValues"][":prefix"] = {"S": prefix}
    found: dict[str, dict[str, Any]] = {}
    client = boto3.client("dynamodb")
    while True:
        response = client.query(**query)
        found.update({item["SK"]["S"]: item for item in response["Items"]})
        if "LastEvaluatedKey" not in response:
            return found
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def audit_actions(cloud: Cloud, tenant: dict[str, Any]) -> list[tuple[str, str]]:
    """(action, resource) of every audit item of the tenant, oldest first."""
    return [(i["action"]["S"], i["resource"]["S"]) for i in items(cloud, tenant, "AUDIT#").values()]
