"""GET /tenants/{tenantId}: one GetItem."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

_dynamodb = boto3.client("dynamodb")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    tenant_id = event["pathParameters"]["tenantId"]
    item = _dynamodb.get_item(
        TableName=os.environ["CONTROL_TABLE_NAME"],
        Key={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": "METADATA"}},
        ConsistentRead=True,
    ).get("Item")
    if item is None:
        return {"statusCode": 404, "body": json.dumps({"error": {"code": "NOT_FOUND"}})}
    data = {k: next(iter(v.values())) for k, v in item.items()}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"data": data}),
    }
