"""Pool onboarding: PutObject (prefix marker), 4 PutParameter (route), PutEvents (result)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

_s3 = boto3.client("s3")
_ssm = boto3.client("ssm")
_events = boto3.client("events")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    tenant_id = event["detail"]["tenantId"]
    prefix = f"tenants/{tenant_id}/"
    bucket = os.environ["TENANT_BUCKET_NAME"]
    _s3.put_object(
        Bucket=bucket, Key=prefix + ".tenant.json", Body=json.dumps({"tenantId": tenant_id}).encode()
    )
    base = f"/{os.environ['APP_NAME']}/{os.environ['STAGE']}/tenants/{tenant_id}/"
    route = {
        "isolation": "pool",
        "dynamodb/table-name": os.environ["APP_TABLE_NAME"],
        "s3/bucket": bucket,
        "s3/prefix": prefix,
    }
    for name, value in route.items():
        _ssm.put_parameter(Name=base + name, Value=value, Type="String", Overwrite=True)
    detail = {"tenantId": tenant_id, "status": "COMPLETED", "resources": {"s3Prefix": prefix}}
    _events.put_events(
        Entries=[
            {
                "EventBusName": os.environ["EVENT_BUS_NAME"],
                "Source": "tenancy.application-plane",
                "DetailType": "TenantProvisioned",
                "Detail": json.dumps(detail),
            }
        ]
    )
    return {"detailType": "TenantProvisioned", "detail": detail}
