"""The stack's floor for GET /tenants/{tenantId}: the tenant_api baseline plus what any handler built
on Tenancy's stack pays before its own code runs — pydantic, with one model validated, and
Powertools' Logger and Metrics decorators. The benchmark measures it beside the tenant_api baseline,
so the README can tell the stack's share of a cold-start ratio from Tenancy's own."""

import json
import os

import boto3
from aws_lambda_powertools import Logger, Metrics
from pydantic import BaseModel

_dynamodb = boto3.client("dynamodb")
logger = Logger()
metrics = Metrics(namespace="Floor")


class Tenant(BaseModel):
    tenantId: str
    name: str
    provisioningStatus: str


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event, context):
    tenant_id = event["pathParameters"]["tenantId"]
    item = _dynamodb.get_item(
        TableName=os.environ["CONTROL_TABLE_NAME"],
        Key={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": "METADATA"}},
        ConsistentRead=True,
    ).get("Item")
    if item is None:
        return {"statusCode": 404, "body": json.dumps({"error": {"code": "NOT_FOUND"}})}
    data = Tenant.model_validate({k: next(iter(v.values())) for k, v in item.items()}).model_dump()
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"data": data}),
    }
