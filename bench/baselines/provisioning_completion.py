"""TenantProvisioned: one conditional UpdateItem."""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.exceptions import ClientError

_dynamodb = boto3.client("dynamodb")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    detail = event["detail"]
    try:
        _dynamodb.update_item(
            TableName=os.environ["CONTROL_TABLE_NAME"],
            Key={"PK": {"S": f"TENANT#{detail['tenantId']}"}, "SK": {"S": "METADATA"}},
            UpdateExpression="SET provisioningStatus = :to, version = version + :one",
            ConditionExpression="provisioningStatus = :from AND operationId = :op",
            ExpressionAttributeValues={
                ":to": {"S": "PROVISIONED"},
                ":from": {"S": "PROVISIONING"},
                ":op": {"S": detail.get("operationId", "")},
                ":one": {"N": "1"},
            },
        )
        return {"tenantId": detail["tenantId"], "status": "PROVISIONED"}
    except ClientError:
        return {"tenantId": detail["tenantId"], "status": "UNCHANGED"}
