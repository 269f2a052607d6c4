"""Verify the ID token (PyJWT: the standard library has no RS256), GetItem the tenant, then GetItem
the user's item as the tenant: route (GetParametersByPath) and tenant credentials (AssumeRole),
cached per tenant as Tenancy caches them; the user item is read on every call."""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

import boto3
import jwt

_dynamodb = boto3.client("dynamodb")
_ssm = boto3.client("ssm")
_sts = boto3.client("sts")
_keys: dict[str, Any] = {}
_tables: dict[str, str] = {}
_clients: dict[str, Any] = {}


def tenant_table_and_client(tenant_id: str) -> tuple[str, Any]:
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


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token = event["headers"]["Authorization"].split(" ", 1)[1]
    kid = jwt.get_unverified_header(token)["kid"]
    if kid not in _keys:
        with urllib.request.urlopen(os.environ["JWKS_URL"]) as response:  # noqa: S310 (configured URL)
            _keys.update({k["kid"]: jwt.PyJWK(k).key for k in json.load(response)["keys"]})
    pool = os.environ["USER_POOL_ID"]
    region = os.environ.get("AWS_REGION", "us-east-1")
    claims = jwt.decode(
        token,
        _keys[kid],
        algorithms=["RS256"],
        audience=os.environ["USER_POOL_CLIENT_ID"],
        issuer=f"https://cognito-idp.{region}.amazonaws.com/{pool}",
    )
    tenant = _dynamodb.get_item(
        TableName=os.environ["CONTROL_TABLE_NAME"],
        Key={"PK": {"S": f"TENANT#{claims['custom:tenantId']}"}, "SK": {"S": "METADATA"}},
    )["Item"]
    tenant_id, user_id = claims["custom:tenantId"], claims["cognito:username"]
    user = None
    if tenant["provisioningStatus"]["S"] == "PROVISIONED":
        table, client = tenant_table_and_client(tenant_id)
        user = client.get_item(
            TableName=table,
            Key={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": f"USER#{user_id}"}},
            ConsistentRead=True,
        ).get("Item")
    effect = "Allow" if user is not None else "Deny"
    return {
        "principalId": claims["cognito:username"],
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}],
        },
        "context": {
            "tenantId": claims["custom:tenantId"],
            "role": user["role"]["S"] if user else "",
            "tier": tenant["tier"]["S"],
        },
    }
