"""Tables, buckets and the event bus, as the topology describes them."""

from __future__ import annotations

from typing import Any

import pytest

from tenancy_infra.topology import APP_TABLE, CONTROL_TABLE, IDEMPOTENCY_TABLE, USAGE_TABLE, TableSpec
from tests.infrastructure.synth import (
    APP_NAME,
    STAGE,
    Synthesized,
    actual_schema,
    expected_schema,
    table_named,
)


@pytest.mark.parametrize(
    "spec", [CONTROL_TABLE, APP_TABLE, IDEMPOTENCY_TABLE, USAGE_TABLE], ids=lambda spec: spec.suffix
)
def test_tables_have_the_topology_schema(synthesized: Synthesized, spec: TableSpec) -> None:
    table = table_named(synthesized, f"{APP_NAME}-{STAGE}-{spec.suffix}")
    properties = table["Properties"]
    assert actual_schema(properties) == expected_schema(spec)
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # SSEEnabled without a key: SSE-KMS with the AWS managed key aws/dynamodb.
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert "KMSMasterKeyId" not in properties["SSESpecification"]
    # Tenants and their data outlive the stack; idempotency records are answers replayable for a day.
    policy = "Delete" if spec is IDEMPOTENCY_TABLE else "Retain"
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == policy


def test_only_the_control_table_streams_new_and_old_images(synthesized: Synthesized) -> None:
    control = table_named(synthesized, f"{APP_NAME}-{STAGE}-control")["Properties"]
    app = table_named(synthesized, f"{APP_NAME}-{STAGE}-app")["Properties"]
    assert CONTROL_TABLE.stream == "NEW_AND_OLD_IMAGES"
    assert control["StreamSpecification"] == {"StreamViewType": CONTROL_TABLE.stream}
    assert "StreamSpecification" not in app


def test_app_table_expires_items_by_the_topology_ttl_attribute(synthesized: Synthesized) -> None:
    app = table_named(synthesized, f"{APP_NAME}-{STAGE}-app")["Properties"]
    assert APP_TABLE.ttl_attribute == "expiresAt"
    assert app["TimeToLiveSpecification"] == {"AttributeName": APP_TABLE.ttl_attribute, "Enabled": True}
    control = table_named(synthesized, f"{APP_NAME}-{STAGE}-control")["Properties"]
    assert "TimeToLiveSpecification" not in control
    idempotency = table_named(synthesized, f"{APP_NAME}-{STAGE}-idempotency")["Properties"]
    assert idempotency["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert "StreamSpecification" not in idempotency


def test_usage_table_is_keyed_per_tenant_and_expires_by_ttl(synthesized: Synthesized) -> None:
    usage = table_named(synthesized, f"{APP_NAME}-{STAGE}-usage")["Properties"]
    assert usage["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert usage["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert "StreamSpecification" not in usage
    assert "GlobalSecondaryIndexes" not in usage


def bucket_policy_statements(synthesized: Synthesized, bucket_id: str) -> list[dict[str, Any]]:
    [policy] = [
        resource
        for resource in synthesized.resources("AWS::S3::BucketPolicy").values()
        if resource["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def denies_insecure_transport(statements: list[dict[str, Any]], bucket_id: str) -> bool:
    return any(
        statement["Effect"] == "Deny"
        and statement["Action"] == "s3:*"
        and statement["Principal"] == {"AWS": "*"}
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        and {"Fn::GetAtt": [bucket_id, "Arn"]} in statement["Resource"]
        for statement in statements
    )


BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def test_tenant_bucket_is_private_encrypted_ssl_only_and_logged(synthesized: Synthesized) -> None:
    bucket_id = synthesized.logical_id(synthesized.stack.tenant_bucket)
    logs_id = synthesized.logical_id(synthesized.stack.access_logs_bucket)
    bucket = synthesized.template["Resources"][bucket_id]
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == BLOCK_ALL
    [rule] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert properties["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}
    assert "BucketName" not in properties  # bucket names are global: CloudFormation generates it
    assert bucket["DeletionPolicy"] == "Retain"
    assert denies_insecure_transport(bucket_policy_statements(synthesized, bucket_id), bucket_id)


def test_access_logs_bucket_is_private_ssl_only_and_accepts_only_s3_log_delivery(
    synthesized: Synthesized,
) -> None:
    logs_id = synthesized.logical_id(synthesized.stack.access_logs_bucket)
    bucket_id = synthesized.logical_id(synthesized.stack.tenant_bucket)
    properties = synthesized.template["Resources"][logs_id]["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == BLOCK_ALL
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    statements = bucket_policy_statements(synthesized, logs_id)
    assert denies_insecure_transport(statements, logs_id)
    [delivery] = [s for s in statements if s["Effect"] == "Allow"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Condition"]["ArnLike"]["aws:SourceArn"] == {"Fn::GetAtt": [bucket_id, "Arn"]}


def test_custom_event_bus_is_named_after_the_app_and_stage(synthesized: Synthesized) -> None:
    [bus] = synthesized.resources("AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] == f"{APP_NAME}-{STAGE}-bus"


def test_outputs_name_the_deployment_resources(synthesized: Synthesized) -> None:
    outputs = synthesized.template["Outputs"]
    stack = synthesized.stack
    assert outputs["ControlTableName"]["Value"] == {"Ref": synthesized.logical_id(stack.control_table)}
    assert outputs["AppTableName"]["Value"] == {"Ref": synthesized.logical_id(stack.app_table)}
    assert outputs["EventBusName"]["Value"] == {"Ref": synthesized.logical_id(stack.event_bus)}
    assert outputs["TenantBucketName"]["Value"] == {"Ref": synthesized.logical_id(stack.tenant_bucket)}
    assert sorted(stack.apis) == ["app", "control"]
    for api_name, api in stack.apis.items():
        output = f"{api_name.capitalize()}ApiUrl"
        api_url = outputs[output]["Value"]["Fn::Join"][1]
        assert {"Ref": synthesized.logical_id(api)} in api_url, output
        [stage_id] = [
            stage_id
            for stage_id, stage in synthesized.resources("AWS::ApiGateway::Stage").items()
            if stage["Properties"]["RestApiId"] == {"Ref": synthesized.logical_id(api)}
        ]
        assert api_url[-3:] == ["/", {"Ref": stage_id}, "/"]
    # RestApi's generated Endpoint output is replaced by ControlApiUrl / AppApiUrl.
    assert not [name for name in outputs if "Endpoint" in name]
