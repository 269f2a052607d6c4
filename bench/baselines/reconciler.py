"""Four status-index queries (PENDING, OFFBOARDING, PROVISIONING, DEPROVISIONING)."""

from __future__ import annotations

import os
from typing import Any

import boto3

_dynamodb = boto3.client("dynamodb")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    found = 0
    for status in ("PENDING", "OFFBOARDING", "PROVISIONING", "DEPROVISIONING"):
        found += len(
            _dynamodb.query(
                TableName=os.environ["CONTROL_TABLE_NAME"],
                IndexName="GSI2",
                KeyConditionExpression="GSI2PK = :pk",
                FilterExpression="updatedAt < :cutoff",
                ExpressionAttributeValues={":pk": {"S": f"STATUS#{status}"}, ":cutoff": {"S": "2000-01-01"}},
            )["Items"]
        )
    return {"redriven": [], "timedOut": [], "seen": found}
