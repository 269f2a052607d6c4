"""Bare boto3 versions of the remaining API routes, for the warm-latency comparison."""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import boto3

from bench.baselines import app_api

_dynamodb = boto3.client("dynamodb")
# The agents limit the create is held to: the bench's tenants never reach it (bench/world.py's
# app_context gives Tenancy the same).
AGENTS_LIMIT = 1_000_000


def _ok(status: int, data: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"data": data}),
    }


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: next(iter(v.values())) for k, v in item.items() if k not in ("PK", "SK")}


def list_tenants(event: dict[str, Any], context: Any) -> dict[str, Any]:
    items = _dynamodb.query(
        TableName=os.environ["CONTROL_TABLE_NAME"],
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :t",
        ExpressionAttributeValues={":t": {"S": "TENANT"}},
        Limit=21,
    )["Items"][:20]
    return _ok(200, [_plain(i) for i in items])


def create_tenant(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = json.loads(event["body"])
    tenant_id = str(uuid.uuid4())
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    item = {
        "PK": {"S": f"TENANT#{tenant_id}"},
        "SK": {"S": "METADATA"},
        "tenantId": {"S": tenant_id},
        "name": {"S": body["name"]},
        "slug": {"S": body["slug"]},
        "tier": {"S": body["tier"]},
        "provisioningStatus": {"S": "PENDING"},
        "version": {"N": "1"},
        "createdAt": {"S": now},
    }
    table = os.environ["CONTROL_TABLE_NAME"]
    _dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}},
            {
                "Put": {
                    "TableName": table,
                    "Item": {
                        "PK": {"S": f"SLUG#{body['slug']}"},
                        "SK": {"S": "SLUG"},
                        "tenantId": {"S": tenant_id},
                    },
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
    )
    return _ok(201, _plain(item))


def _tenant(event: dict[str, Any]) -> tuple[str, str, Any]:
    """The caller's tenant, its table and client, the request counted (as Tenancy's limiter does)."""
    tenant_id = event["requestContext"]["authorizer"]["tenantId"]
    table, client = app_api.tenant_table_and_client(tenant_id)  # route + credentials, cached
    app_api.count_request(tenant_id, client)
    return tenant_id, table, client


def list_agents(event: dict[str, Any], context: Any) -> dict[str, Any]:
    tenant_id, table, client = _tenant(event)
    items = client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :a)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":a": {"S": "AGENT#"}},
        Limit=21,
    )["Items"][:20]
    return _ok(200, [_plain(i) for i in items])


def create_agent(event: dict[str, Any], context: Any) -> dict[str, Any]:
    tenant_id, table, client = _tenant(event)
    body = json.loads(event["body"])
    agent_id = str(uuid.uuid4())
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    pk = {"S": f"TENANT#{tenant_id}"}
    item = {"PK": pk, "SK": {"S": f"AGENT#{agent_id}"}, "name": {"S": body["name"]}, "version": {"N": "1"}}
    audit = {"PK": pk, "SK": {"S": f"AUDIT#{now}#{uuid.uuid4().hex}"}, "action": {"S": "agent.create"}}
    # The tenant's agent count, in the same transaction, refused at the plan's limit.
    counter = {
        "TableName": table,
        "Key": {"PK": pk, "SK": {"S": "COUNT#AGENT"}},
        "UpdateExpression": "ADD n :one",
        "ConditionExpression": "attribute_not_exists(n) OR n < :limit",
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": str(AGENTS_LIMIT)}},
    }
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"TableName": table, "Item": audit, "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Update": counter},
        ]
    )
    return _ok(201, _plain(item))


def me(event: dict[str, Any], context: Any) -> dict[str, Any]:
    tenant_id, table, client = _tenant(event)
    user_id = event["requestContext"]["authorizer"]["userId"]
    item = client.get_item(
        TableName=table,
        Key={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": f"USER#{user_id}"}},
        ConsistentRead=True,
    )["Item"]
    # The user's groups: their memberships (and, when there are any, the groups' names).
    memberships = client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :of)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":of": {"S": f"MEMBEROF#{user_id}#"}},
        ConsistentRead=True,
    )["Items"]
    groups = [m["groupId"]["S"] for m in memberships]
    answer = _plain(item)
    answer["groups"] = []
    if groups:
        keys = [{"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": f"GROUP#{g}"}} for g in groups]
        found = client.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})
        names = {g["groupId"]["S"]: g["name"]["S"] for g in found["Responses"][table]}
        answer["groups"] = [{"groupId": g, "name": names[g]} for g in groups]
    return _ok(200, answer)
