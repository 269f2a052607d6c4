"""GET /agents/{agentId}: route (GetParametersByPath), tenant credentials (AssumeRole), the
request counted (UpdateItem), GetItem. Route and credentials are cached per tenant, as Tenancy
caches them.

`count_request` is what a bare developer would write for Tenancy's request limiter: one conditional
UpdateItem per request on the tenant's day item of the usage table (`PK=TENANT#<id>`,
`SK=DAY#<yyyy-mm-dd>`, as tenancy.contracts.usage keys it), with the tenant's credentials, refused
at a daily maximum. Every app API route of the baselines calls it first (bench/baselines/routes.py)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3

_ssm = boto3.client("ssm")
_sts = boto3.client("sts")
_tables: dict[str, str] = {}
_clients: dict[str, Any] = {}
# The daily maximum the counter is held to: the bench's tenants never reach it (bench/world.py's
# app_context gives Tenancy's limiter the same 1e9 requests a day).
DAILY_MAX = 1_000_000_000


def tenant_table_and_client(tenant_id: str) -> tuple[str, Any]:
    """The tenant's table (from its SSM route) and a client with its credentials, both cached."""
    if tenant_id not in _tables:
        base = f"/{os.environ['APP_NAME']}/{os.environ['STAGE']}/tenants/{tenant_id}/"
        params = _ssm.get_parameters_by_path(Path=base, Recursive=True)["Parameters"]
        _tables[tenant_id] = next(p["Value"] for p in params if p["Name"].endswith("dynamodb/table-name"))
    if tenant_id not in _clients:
        creds = _sts.assume_role(
            RoleArn=os.environ["TENANT_ACCESS_ROLE_ARN"],
            RoleSessionName=f"tenant-{tenant_id}",
            Tags=[{"Key": "TenantId", "Value": tenant_id}],
        )["Credentials"]
        _clients[tenant_id] = boto3.client(
            "dynamodb",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    return _tables[tenant_id], _clients[tenant_id]


def count_request(tenant_id: str, client: Any) -> None:
    """One more request on the tenant's counter of the day, refused (ConditionalCheckFailed) at
    DAILY_MAX."""
    day = time.strftime("%Y-%m-%d", time.gmtime())
    client.update_item(
        TableName=os.environ["USAGE_TABLE_NAME"],
        Key={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": f"DAY#{day}"}},
        UpdateExpression="ADD apiCalls :one",
        ConditionExpression="attribute_not_exists(apiCalls) OR apiCalls < :max",
        ExpressionAttributeValues={":one": {"N": "1"}, ":max": {"N": str(DAILY_MAX)}},
        ReturnValues="UPDATED_NEW",
    )


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    tenant_id = event["requestContext"]["authorizer"]["tenantId"]
    table, client = tenant_table_and_client(tenant_id)
    count_request(tenant_id, client)
    agent_id = event["pathParameters"]["agentId"]
    item = client.get_item(
        TableName=table,
        Key={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": f"AGENT#{agent_id}"}},
        ConsistentRead=True,
    ).get("Item")
    if item is None:
        return {"statusCode": 404, "body": json.dumps({"error": {"code": "NOT_FOUND"}})}
    data = {k: next(iter(v.values())) for k, v in item.items() if k not in ("PK", "SK")}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"data": data}),
    }
