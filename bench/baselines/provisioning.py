"""A PENDING tenant's stream record: UpdateItem (-> PROVISIONING) + PutEvents."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import boto3

_dynamodb = boto3.client("dynamodb")
_events = boto3.client("events")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        image = record["dynamodb"].get("NewImage", {})
        if image.get("provisioningStatus", {}).get("S") != "PENDING":
            continue
        try:
            tenant_id = image["tenantId"]["S"]
            _dynamodb.update_item(
                TableName=os.environ["CONTROL_TABLE_NAME"],
                Key={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": "METADATA"}},
                UpdateExpression="SET provisioningStatus = :to, operationId = :op, version = version + :one",
                ConditionExpression="provisioningStatus = :from",
                ExpressionAttributeValues={
                    ":to": {"S": "PROVISIONING"},
                    ":from": {"S": "PENDING"},
                    ":op": {"S": str(uuid.uuid4())},
                    ":one": {"N": "1"},
                },
            )
            _events.put_events(
                Entries=[
                    {
                        "EventBusName": os.environ["EVENT_BUS_NAME"],
                        "Source": "tenancy.control-plane",
                        "DetailType": "TenantOnboarding",
                        "Detail": json.dumps({"tenantId": tenant_id, "tier": image["tier"]["S"]}),
                    }
                ]
            )
        except Exception:
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}
