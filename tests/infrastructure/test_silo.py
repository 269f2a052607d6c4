"""The silo tenant template: what the provisioner deploys once per ENTERPRISE tenant."""

from __future__ import annotations

import re
from typing import Any

from tenancy_infra.stacks.silo import synth_silo_template
from tenancy_infra.topology import APP_TABLE
from tests.infrastructure.synth import (
    APP_NAME,
    STAGE,
    Synthesized,
    actual_schema,
    expected_schema,
    table_named,
)


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def test_shipped_template_is_the_standalone_silo_synthesis(synthesized: Synthesized) -> None:
    assert synthesized.silo_template == synth_silo_template(APP_NAME, STAGE)


def test_template_needs_no_bootstrap_and_no_assets(synthesized: Synthesized) -> None:
    template = synthesized.silo_template
    assert set(template["Parameters"]) == {"TenantId"}
    assert "Rules" not in template
    assert "Conditions" not in template
    assert "cdk-hnb659fds" not in synthesized.silo_template_text  # no bootstrap bucket or role
    assert not resources_of_type(template, "AWS::CDK::Metadata")
    assert not resources_of_type(template, "AWS::Lambda::Function")  # no custom resources


def test_template_holds_exactly_a_bucket_its_ssl_policy_and_a_table(synthesized: Synthesized) -> None:
    types = sorted(resource["Type"] for resource in synthesized.silo_template["Resources"].values())
    assert types == ["AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::S3::BucketPolicy"]


def test_outputs_are_what_the_provisioner_reads(synthesized: Synthesized) -> None:
    template = synthesized.silo_template
    [bucket_id] = resources_of_type(template, "AWS::S3::Bucket")
    [table_id] = resources_of_type(template, "AWS::DynamoDB::Table")
    assert set(template["Outputs"]) == {"BucketName", "TableName"}
    assert template["Outputs"]["BucketName"]["Value"] == {"Ref": bucket_id}
    assert template["Outputs"]["TableName"]["Value"] == {"Ref": table_id}


def test_bucket_is_private_encrypted_ssl_only_and_deleted_with_the_stack(synthesized: Synthesized) -> None:
    template = synthesized.silo_template
    [(bucket_id, bucket)] = resources_of_type(template, "AWS::S3::Bucket").items()
    properties = bucket["Properties"]
    assert "BucketName" not in properties  # generated from the stack name <app>-<stage>-tenant-<id>
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert bucket["DeletionPolicy"] == "Delete"
    [policy] = resources_of_type(template, "AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == {"Ref": bucket_id}
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_table_has_the_pooled_app_table_schema(synthesized: Synthesized) -> None:
    [table] = resources_of_type(synthesized.silo_template, "AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    pooled = table_named(synthesized, f"{APP_NAME}-{STAGE}-app")["Properties"]
    assert actual_schema(properties) == actual_schema(pooled) == expected_schema(APP_TABLE)
    for setting in (
        "BillingMode",
        "PointInTimeRecoverySpecification",
        "SSESpecification",
        "TimeToLiveSpecification",
    ):
        assert properties[setting] == pooled[setting], setting
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert "TableName" not in properties
    assert table["DeletionPolicy"] == "Delete"


def test_resources_are_tagged_with_the_tenant(synthesized: Synthesized) -> None:
    for logical_id, resource in synthesized.silo_template["Resources"].items():
        if resource["Type"] == "AWS::S3::BucketPolicy":
            continue  # not taggable
        tags = {tag["Key"]: tag["Value"] for tag in resource["Properties"]["Tags"]}
        assert tags["tenant-id"] == {"Ref": "TenantId"}, logical_id


def test_tenant_id_parameter_only_accepts_stack_name_characters(synthesized: Synthesized) -> None:
    parameter = synthesized.silo_template["Parameters"]["TenantId"]
    assert parameter["Type"] == "String"
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("01J9Z3K4ABCDEF")
    assert pattern.fullmatch("3f1c2a9e-4b1d-4c8e-9a7b-2f6d5e4c3b2a")
    for bad in ("", "a/b", "tenant_1", "-leading", "x" * 65):
        assert not pattern.fullmatch(bad), bad
