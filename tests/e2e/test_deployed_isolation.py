"""IAM isolation against a deployed stack (the emulator does not evaluate IAM conditions).

Runs only with real AWS credentials and a deployed stack: set TENANCY_DEPLOYED_STACK to the stack
name (e.g. tenancy-dev) and let boto3 find credentials as usual. Skipped otherwise.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

STACK = os.environ.get("TENANCY_DEPLOYED_STACK")
pytestmark = pytest.mark.skipif(
    not STACK, reason="set TENANCY_DEPLOYED_STACK (and real AWS credentials) to run"
)


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    session = boto3.session.Session()
    stack = session.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def as_tenant(role_arn: str, tenant_id: str) -> Any:
    """A DynamoDB client with the credentials app_api would use for this tenant."""
    credentials = boto3.client("sts").assume_role(
        RoleArn=role_arn,
        RoleSessionName=f"isolation-test-{tenant_id}"[:64],
        Tags=[{"Key": "TenantId", "Value": tenant_id}],
    )["Credentials"]
    return boto3.client(
        "dynamodb",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_tenant_credentials_reach_only_their_own_partition(outputs: dict[str, str]) -> None:
    table, role = outputs["AppTableName"], outputs["TenantAccessRoleArn"]
    tenant_a, tenant_b = f"iso-a-{uuid.uuid4().hex[:8]}", f"iso-b-{uuid.uuid4().hex[:8]}"
    client_a = as_tenant(role, tenant_a)
    own = {"PK": {"S": f"TENANT#{tenant_a}"}, "SK": {"S": "AGENT#probe"}}
    client_a.put_item(TableName=table, Item=own)
    assert client_a.get_item(TableName=table, Key=own)["Item"]["SK"]["S"] == "AGENT#probe"
    other = {"PK": {"S": f"TENANT#{tenant_b}"}, "SK": {"S": "AGENT#probe"}}
    for call in (
        lambda: client_a.get_item(TableName=table, Key=other),
        lambda: client_a.put_item(TableName=table, Item=other),
        lambda: client_a.query(
            TableName=table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_b}"}},
        ),
        lambda: client_a.scan(TableName=table, Limit=1),
        lambda: client_a.query(
            TableName=table,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :t",
            ExpressionAttributeValues={":t": {"S": "AGENT"}},
        ),
    ):
        with pytest.raises(ClientError) as denied:
            call()
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    client_a.delete_item(TableName=table, Key=own)
