"""What `make dev` builds on the local server equals what the CDK app deploys: keys, GSIs, stream
view type, TTL, and every EventBridge rule's pattern."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from localcloud.resources import LocalResources, create_resources, local_settings
from tenancy_infra.topology import FUNCTIONS, PLATFORM_PARAMETERS, RuleTrigger
from tests.infrastructure.synth import APP_NAME, STAGE, Synthesized, table_named


@pytest.fixture(scope="module")
def local() -> Iterator[LocalResources]:
    from moto import mock_aws

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield create_resources(boto3.client, local_settings(APP_NAME, STAGE, "us-east-1"))


def described(name: str) -> dict[str, Any]:
    return boto3.client("dynamodb").describe_table(TableName=name)["Table"]  # type: ignore[no-any-return]


def gsis(indexes: list[dict[str, Any]]) -> dict[str, Any]:
    return {i["IndexName"]: (i["KeySchema"], i["Projection"]["ProjectionType"]) for i in indexes}


@pytest.mark.parametrize("suffix", ["control", "app", "idempotency"])
def test_tables_have_the_deployed_keys_indexes_and_stream(
    synthesized: Synthesized, local: LocalResources, suffix: str
) -> None:
    deployed = table_named(synthesized, f"{APP_NAME}-{STAGE}-{suffix}")["Properties"]
    table = described(f"{APP_NAME}-{STAGE}-{suffix}")
    assert table["KeySchema"] == deployed["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        deployed["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    assert gsis(table.get("GlobalSecondaryIndexes", [])) == gsis(deployed.get("GlobalSecondaryIndexes", []))
    deployed_stream = deployed.get("StreamSpecification", {}).get("StreamViewType")
    assert table.get("StreamSpecification", {}).get("StreamViewType") == deployed_stream
    assert (table["TableName"], deployed_stream is not None) == (
        f"{APP_NAME}-{STAGE}-{suffix}",
        suffix == "control",
    )


@pytest.mark.parametrize(("suffix", "attribute"), [("app", "expiresAt"), ("idempotency", "expiration")])
def test_the_ttl_attributes_match(
    synthesized: Synthesized, local: LocalResources, suffix: str, attribute: str
) -> None:
    deployed = table_named(synthesized, f"{APP_NAME}-{STAGE}-{suffix}")["Properties"][
        "TimeToLiveSpecification"
    ]
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=f"{APP_NAME}-{STAGE}-{suffix}")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == deployed["AttributeName"] == attribute


@pytest.mark.parametrize(
    "spec", [s for s in FUNCTIONS if isinstance(s.trigger, RuleTrigger)], ids=lambda s: s.name
)
def test_rules_have_the_deployed_patterns(synthesized: Synthesized, local: LocalResources, spec: Any) -> None:
    name = local.rule_names[spec.name]
    [deployed] = [
        r["Properties"]
        for r in synthesized.resources("AWS::Events::Rule").values()
        if r["Properties"].get("Name") == name
    ]
    bus = f"{APP_NAME}-{STAGE}-bus"
    local_rule = boto3.client("events").describe_rule(Name=name, EventBusName=bus)
    assert json.loads(local_rule["EventPattern"]) == deployed["EventPattern"]
    assert local_rule["State"] == deployed["State"] == "ENABLED"


def test_the_user_pool_and_client_match_the_deployed_ones(
    synthesized: Synthesized, local: LocalResources
) -> None:
    """Same pool name, custom attributes (and their mutability), auth flows and public client; the
    ID token carries at least the attributes the local client reads."""
    cognito = boto3.client("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=local.settings.user_pool_id)["UserPool"]
    [deployed_pool] = synthesized.resources("AWS::Cognito::UserPool").values()
    assert pool["Name"] == deployed_pool["Properties"]["UserPoolName"] == f"{APP_NAME}-{STAGE}-users"

    def custom(schema: list[dict[str, Any]]) -> dict[str, bool]:
        return {
            a["Name"].removeprefix("custom:"): a["Mutable"]
            for a in schema
            if a.get("AttributeDataType") == "String"
            and a["Name"].removeprefix("custom:") in ("tenantId", "role")
        }

    assert custom(pool["SchemaAttributes"]) == custom(deployed_pool["Properties"]["Schema"])
    assert custom(pool["SchemaAttributes"]) == {"tenantId": False, "role": True}
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True

    client = cognito.describe_user_pool_client(
        UserPoolId=local.settings.user_pool_id, ClientId=local.settings.user_pool_client_id
    )["UserPoolClient"]
    [deployed_client] = synthesized.resources("AWS::Cognito::UserPoolClient").values()
    assert sorted(client["ExplicitAuthFlows"]) == sorted(deployed_client["Properties"]["ExplicitAuthFlows"])
    assert "ClientSecret" not in client
    assert deployed_client["Properties"]["GenerateSecret"] is False
    assert set(client["ReadAttributes"]) <= set(deployed_client["Properties"]["ReadAttributes"])


def test_the_platform_parameters_have_the_deployed_names(
    synthesized: Synthesized, local: LocalResources
) -> None:
    """The same `/<app>/<stage>/platform/...` names; locally each holds the local resource's value."""
    prefix = f"/{APP_NAME}/{STAGE}/platform/"
    deployed = {
        r["Properties"]["Name"]: r["Properties"]["Value"]
        for r in synthesized.resources("AWS::SSM::Parameter").values()
        if r["Properties"]["Name"].startswith(prefix)
    }
    found = boto3.client("ssm").get_parameters_by_path(Path=prefix, Recursive=True)["Parameters"]
    local_values = {p["Name"]: p["Value"] for p in found}
    assert sorted(local_values) == sorted(deployed) == sorted(prefix + name for name in PLATFORM_PARAMETERS)

    stack, settings = synthesized.stack, local.settings
    assert deployed[prefix + "app-table/name"] == {"Ref": synthesized.logical_id(stack.app_table)}
    assert deployed[prefix + "event-bus/arn"] == {
        "Fn::GetAtt": [synthesized.logical_id(stack.event_bus), "Arn"]
    }
    assert local_values[prefix + "app-table/name"] == settings.app_table_name == f"{APP_NAME}-{STAGE}-app"
    assert local_values[prefix + "usage-table/name"] == f"{APP_NAME}-{STAGE}-usage"
    assert local_values[prefix + "control-table/name"] == settings.control_table_name
    assert local_values[prefix + "pool-bucket/name"] == settings.tenant_bucket_name
    assert local_values[prefix + "event-bus/name"] == settings.event_bus_name
    assert local_values[prefix + "silo-template/url"] == settings.silo_template_url
    assert local_values[prefix + "user-pool/id"] == settings.user_pool_id
    assert local_values[prefix + "app-table/arn"].endswith(f":table/{APP_NAME}-{STAGE}-app")
    assert local_values[prefix + "event-bus/arn"].endswith(f":event-bus/{APP_NAME}-{STAGE}-bus")
