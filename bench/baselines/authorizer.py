"""Verify the ID token (PyJWT: the standard library has no RS256) and GetItem the tenant."""

import json
import os
import urllib.request

import boto3
import jwt

_dynamodb = boto3.client("dynamodb")
_keys = {}


def lambda_handler(event, context):
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
    effect = "Allow" if tenant["provisioningStatus"]["S"] == "PROVISIONED" else "Deny"
    return {
        "principalId": claims["cognito:username"],
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}],
        },
        "context": {
            "tenantId": claims["custom:tenantId"],
            "role": claims["custom:role"],
            "tier": tenant["tier"]["S"],
        },
    }
