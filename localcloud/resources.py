"""Create Tenancy's resources on an AWS-compatible endpoint from the same topology the CDK app uses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenancy.common.config import Settings
from tenancy.common.names import TENANT_ACCESS_ROLE_SUFFIX, platform_parameter, resource_name, silo_stack_name
from tenancy_infra.topology import (
    APP_TABLE,
    CONTROL_TABLE,
    FUNCTIONS,
    IDEMPOTENCY_TABLE,
    PLATFORM_PARAMETERS,
    USAGE_TABLE,
    USER_POOL,
    InvokeTrigger,
    ObjectCreatedTrigger,
    RuleTrigger,
    StreamTrigger,
    UserPoolSpec,
    create_table_request,
    function,
)

ROOT = Path(__file__).resolve().parents[1]
SILO_TEMPLATE = ROOT / ".build" / "silo-template.json"
LOCAL_JWKS = ROOT / ".build" / "local-jwks.json"
ACCOUNT_ID = "123456789012"


@dataclass
class LocalResources:
    settings: Settings
    function_queues: dict[str, str] = field(default_factory=dict)  # function -> event queue URL
    dead_letter_queues: dict[str, str] = field(default_factory=dict)  # function -> DLQ URL
    rule_names: dict[str, str] = field(default_factory=dict)  # function -> rule name (its bus: rule_buses)
    rule_buses: dict[str, str] = field(default_factory=dict)  # function -> the bus of its rule


def silo_template_body() -> str:
    """The silo template the CDK app synthesizes (built by `make build`; synthesized here if absent)."""
    if not SILO_TEMPLATE.exists():
        from tenancy_infra.silo_template import write_silo_template

        write_silo_template(SILO_TEMPLATE)
    return SILO_TEMPLATE.read_text()


def invoked_function_names(app_name: str, stage: str) -> dict[str, str]:
    """The deployed name (`<app>-<stage>-<suffix>`) of every InvokeTrigger function -> its topology name:
    what a caller's Lambda Invoke names, and what the local cloud serves."""
    return {
        resource_name(app_name, stage, spec.resource_suffix): spec.name
        for spec in FUNCTIONS
        if isinstance(spec.trigger, InvokeTrigger)
    }


def local_settings(app_name: str, stage: str, region: str, **overrides: Any) -> Settings:
    return Settings(
        app_name=app_name,
        stage=stage,
        tenant_bucket_name=resource_name(app_name, stage, "tenants"),
        card_executor_function_name=resource_name(app_name, stage, function("card_executor").resource_suffix),
        silo_template_url=(
            f"https://s3.{region}.amazonaws.com/{resource_name(app_name, stage, 'assets')}/silo-template.json"
        ),
        provisioner_poll_seconds=0.05,
        provisioner_safety_margin_seconds=1.0,
        **overrides,
    )


def create_resources(clients: Any, settings: Settings) -> LocalResources:
    """Tables, buckets, bus, the rules of every EventBridge-triggered function (each targeting a
    queue of its own, plus a DLQ), and the silo template uploaded where SILO_TEMPLATE_URL points.

    `clients(service)` returns a boto3 client for the endpoint.
    """
    dynamodb, s3, events, sqs = clients("dynamodb"), clients("s3"), clients("events"), clients("sqs")
    dynamodb.create_table(**create_table_request(CONTROL_TABLE, settings.control_table_name))
    dynamodb.create_table(**create_table_request(APP_TABLE, settings.app_table_name))
    dynamodb.create_table(**create_table_request(IDEMPOTENCY_TABLE, settings.idempotency_table_name))
    dynamodb.create_table(**create_table_request(USAGE_TABLE, settings.usage_table_name))
    for spec, name in (
        (APP_TABLE, settings.app_table_name),
        (IDEMPOTENCY_TABLE, settings.idempotency_table_name),
        (USAGE_TABLE, settings.usage_table_name),
    ):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
        )
    s3.create_bucket(Bucket=settings.tenant_bucket_name)
    # As deployed (storage.py): the bucket's events go to EventBridge, where ObjectCreatedTrigger rules
    # pick theirs (moto sends them to the rules of every bus). Silo buckets get it from their template.
    s3.put_bucket_notification_configuration(
        Bucket=settings.tenant_bucket_name, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    assets_bucket, _, template_key = settings.silo_template_url.split("amazonaws.com/", 1)[1].partition("/")
    s3.create_bucket(Bucket=assets_bucket)
    s3.put_object(Bucket=assets_bucket, Key=template_key, Body=silo_template_body().encode())
    bus_arn = events.create_event_bus(Name=settings.event_bus_name)["EventBusArn"]

    pool_id, client_id = create_user_pool(clients("cognito-idp"), settings, USER_POOL)
    settings = settings.model_copy(
        update={
            "user_pool_id": pool_id,
            "user_pool_client_id": client_id,
            "tenant_access_role_arn": create_tenant_access_role(clients("iam"), settings),
            "secrets_kms_key_id": create_secrets_key(clients("kms"), settings),
            "jwks_url": local_jwks_url(),
        }
    )
    create_platform_parameters(clients("ssm"), dynamodb, settings, bus_arn)
    resources = LocalResources(settings)
    for function_spec in FUNCTIONS:
        trigger = function_spec.trigger
        if not isinstance(trigger, RuleTrigger | StreamTrigger | ObjectCreatedTrigger):
            continue
        base = resource_name(settings.app_name, settings.stage, function_spec.resource_suffix)
        dlq_url = sqs.create_queue(QueueName=f"{base}-dlq")["QueueUrl"]
        resources.dead_letter_queues[function_spec.name] = dlq_url
        if isinstance(trigger, StreamTrigger):
            continue
        queue_url = sqs.create_queue(QueueName=f"{base}-events")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        rule = resource_name(settings.app_name, settings.stage, trigger.rule)
        if isinstance(trigger, RuleTrigger):
            bus, pattern = settings.event_bus_name, trigger.pattern(settings.app_name)
        else:  # S3's events arrive on the default bus: the pooled bucket, and silo buckets by prefix
            silo_buckets = silo_stack_name(settings.app_name, settings.stage, "")
            bus, pattern = "default", trigger.pattern([settings.tenant_bucket_name], [silo_buckets])
        events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern), State="ENABLED")
        events.put_targets(
            Rule=rule, EventBusName=bus, Targets=[{"Id": function_spec.name, "Arn": queue_arn}]
        )
        resources.function_queues[function_spec.name] = queue_url
        resources.rule_names[function_spec.name] = rule
        resources.rule_buses[function_spec.name] = bus
    return resources


def platform_values(dynamodb: Any, settings: Settings, bus_arn: str) -> dict[str, str]:
    """The local value of every topology.PLATFORM_PARAMETERS name (what the CDK app publishes)."""
    return {
        "app-table/name": settings.app_table_name,
        "app-table/arn": dynamodb.describe_table(TableName=settings.app_table_name)["Table"]["TableArn"],
        "control-table/name": settings.control_table_name,
        "usage-table/name": settings.usage_table_name,
        "pool-bucket/name": settings.tenant_bucket_name,
        "event-bus/name": settings.event_bus_name,
        "event-bus/arn": bus_arn,
        "silo-template/url": settings.silo_template_url,
        "user-pool/id": settings.user_pool_id,
    }


def create_platform_parameters(ssm: Any, dynamodb: Any, settings: Settings, bus_arn: str) -> None:
    """`/<app>/<stage>/platform/...`, as the CDK app's PlatformParameters publishes them."""
    values = platform_values(dynamodb, settings, bus_arn)
    if set(values) != set(PLATFORM_PARAMETERS):
        raise ValueError(f"the local cloud's platform parameters differ from {PLATFORM_PARAMETERS}")
    for name in PLATFORM_PARAMETERS:
        ssm.put_parameter(
            Name=platform_parameter(settings.app_name, settings.stage, name),
            Value=values[name],
            Type="String",
            Overwrite=True,
        )


def settings_environ(settings: Settings) -> dict[str, str]:
    """The environment variables a deployed function would get for these settings."""
    return {name.upper(): str(value) for name, value in settings.model_dump().items()}


def create_user_pool(cognito: Any, settings: Settings, spec: UserPoolSpec) -> tuple[str, str]:
    """The tenant users' pool and app client, with the custom attributes the CDK app declares."""
    pool = cognito.create_user_pool(
        PoolName=resource_name(settings.app_name, settings.stage, spec.suffix),
        AutoVerifiedAttributes=["email"],
        Schema=[
            {
                "Name": name,
                "AttributeDataType": "String",
                "Mutable": mutable,
                "StringAttributeConstraints": {"MaxLength": "64"},
            }
            for name, mutable in spec.custom_attributes
        ],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName=resource_name(settings.app_name, settings.stage, "app-client"),
        GenerateSecret=False,
        ExplicitAuthFlows=[
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
        ReadAttributes=["email", *[f"custom:{name}" for name, _ in spec.custom_attributes]],
    )["UserPoolClient"]
    return pool["Id"], client["ClientId"]


def create_tenant_access_role(iam: Any, settings: Settings) -> str:
    """The role app_api assumes with a TenantId session tag (moto does not evaluate its policy; the
    infrastructure tests assert the deployed policy document)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
    name = resource_name(settings.app_name, settings.stage, TENANT_ACCESS_ROLE_SUFFIX)
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def create_secrets_key(kms: Any, settings: Settings) -> str:
    """The KMS key of the tenants' secrets, with the alias the CDK app gives it; returns its ARN."""
    key_arn = str(
        kms.create_key(Description="Encrypts tenants' secrets in Secrets Manager")["KeyMetadata"]["Arn"]
    )
    kms.enable_key_rotation(KeyId=key_arn)
    alias = f"alias/{resource_name(settings.app_name, settings.stage, 'tenant-secrets')}"
    kms.create_alias(AliasName=alias, TargetKeyId=key_arn)
    return key_arn


def local_jwks_url() -> str:
    """moto signs Cognito tokens with a key of its own; its public half, as a file the authorizer reads."""
    if not LOCAL_JWKS.exists():
        import gzip

        import moto.cognitoidp

        source = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz"
        LOCAL_JWKS.parent.mkdir(parents=True, exist_ok=True)
        LOCAL_JWKS.write_bytes(gzip.decompress(source.read_bytes()))
    return LOCAL_JWKS.as_uri()
