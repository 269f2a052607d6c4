"""One Lambda per topology FunctionSpec, wired to its trigger as the topology says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tenancy_infra.topology import (
    FUNCTIONS,
    LAMBDA_PYTHON,
    FunctionSpec,
    Layer,
    Network,
    ObjectCreatedTrigger,
    RuleTrigger,
    ScheduleTrigger,
    StreamTrigger,
)
from tests.infrastructure.synth import APP_NAME, STAGE, Synthesized

ROOT = Path(__file__).resolve().parents[2]
RULE_CONSUMERS = [spec for spec in FUNCTIONS if isinstance(spec.trigger, RuleTrigger)]
# Rules on the default bus for S3's Object Created events: retried and dead-lettered like the above.
OBJECT_CONSUMERS = [spec for spec in FUNCTIONS if isinstance(spec.trigger, ObjectCreatedTrigger)]
STREAM_CONSUMERS = [spec for spec in FUNCTIONS if isinstance(spec.trigger, StreamTrigger)]
SCHEDULED = [spec for spec in FUNCTIONS if isinstance(spec.trigger, ScheduleTrigger)]


def function_resource(synthesized: Synthesized, spec: FunctionSpec) -> dict[str, Any]:
    return synthesized.template["Resources"][synthesized.logical_id(synthesized.stack.functions[spec.name])]


def function_ref(synthesized: Synthesized, spec: FunctionSpec) -> dict[str, str]:
    return {"Ref": synthesized.logical_id(synthesized.stack.functions[spec.name])}


def function_arn(synthesized: Synthesized, spec: FunctionSpec) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.functions[spec.name]), "Arn"]}


def queue_arn(synthesized: Synthesized, queue_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [queue_id, "Arn"]}


def test_one_function_per_spec(synthesized: Synthesized) -> None:
    functions = synthesized.resources("AWS::Lambda::Function")
    assert len(functions) == len(FUNCTIONS)
    names = sorted(f["Properties"]["FunctionName"] for f in functions.values())
    assert names == sorted(f"{APP_NAME}-{STAGE}-{spec.name.replace('_', '-')}" for spec in FUNCTIONS)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_function_runtime_code_and_limits(synthesized: Synthesized, spec: FunctionSpec) -> None:
    properties = function_resource(synthesized, spec)["Properties"]
    assert properties["Runtime"] == f"python{LAMBDA_PYTHON}" == "python3.13"
    assert properties["Handler"] == spec.handler == "handler.lambda_handler"
    assert properties["Timeout"] == spec.timeout_seconds
    assert properties["MemorySize"] == spec.memory_mb
    assert properties["Architectures"] == ["x86_64"]
    if spec.network is Network.ISOLATED:  # no route to X-Ray, no X-Ray permission
        assert "TracingConfig" not in properties
    else:
        assert properties["TracingConfig"] == {"Mode": "Active"}
    assert properties["Description"] == spec.description
    layer_id = synthesized.logical_id(synthesized.stack.layer)
    engine_id = synthesized.logical_id(synthesized.stack.engine_layer)
    expected = [{"Ref": layer_id}] + ([{"Ref": engine_id}] if Layer.ENGINE in spec.layers else [])
    assert sorted(properties["Layers"], key=str) == sorted(expected, key=str)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_function_code_is_its_own_folder(synthesized: Synthesized, spec: FunctionSpec) -> None:
    """The function's asset is functions/<name> itself (handler.py at the root of the zip)."""
    code = function_resource(synthesized, spec)["Properties"]["Code"]
    staged = synthesized.staged_asset(code["S3Key"])
    source = ROOT / "functions" / spec.name
    expected = {
        path.relative_to(source)
        for path in source.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert {path.relative_to(staged) for path in staged.rglob("*") if path.is_file()} == expected


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_function_environment(synthesized: Synthesized, spec: FunctionSpec) -> None:
    stack = synthesized.stack
    variables = function_resource(synthesized, spec)["Properties"]["Environment"]["Variables"]
    resource_values = {
        "CONTROL_TABLE_NAME": {"Ref": synthesized.logical_id(stack.control_table)},
        "APP_TABLE_NAME": {"Ref": synthesized.logical_id(stack.app_table)},
        "IDEMPOTENCY_TABLE_NAME": {"Ref": synthesized.logical_id(stack.idempotency_table)},
        "USAGE_TABLE_NAME": {"Ref": synthesized.logical_id(stack.usage_table)},
        "EVENT_BUS_NAME": {"Ref": synthesized.logical_id(stack.event_bus)},
        "TENANT_BUCKET_NAME": {"Ref": synthesized.logical_id(stack.tenant_bucket)},
        "SILO_STACK_ROLE_ARN": {"Fn::GetAtt": [synthesized.logical_id(stack.silo_stack_role), "Arn"]},
        "USER_POOL_ID": {"Ref": synthesized.logical_id(stack.user_pool)},
        "USER_POOL_CLIENT_ID": {"Ref": synthesized.logical_id(stack.user_pool_client)},
        "TENANT_ACCESS_ROLE_ARN": {"Fn::GetAtt": [synthesized.logical_id(stack.tenant_access_role), "Arn"]},
        "SECRETS_KMS_KEY_ID": {"Fn::GetAtt": [synthesized.logical_id(stack.secrets_key), "Arn"]},
        "PLANS": "",  # no `plans` context: the shipped plans as they are
        "CARD_EXECUTOR_FUNCTION_NAME": f"{APP_NAME}-{STAGE}-card-executor",
    }
    # Every variable the topology asks for is one this test knows the value of.
    assert set(spec.environment) <= set(resource_values) | {"SILO_TEMPLATE_URL"}
    expected = {name: resource_values[name] for name in spec.environment if name in resource_values}
    expected |= {
        "APP_NAME": APP_NAME,
        "STAGE": STAGE,
        "POWERTOOLS_SERVICE_NAME": spec.name,
        "POWERTOOLS_METRICS_NAMESPACE": "Tenancy",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    if "SILO_TEMPLATE_URL" in spec.environment:
        url = variables.pop("SILO_TEMPLATE_URL")["Fn::Sub"]
        assert url.startswith("https://s3.${AWS::Region}.${AWS::URLSuffix}/")
        assert url.endswith(f"/{stack.silo_template.asset_hash}.json")
    assert variables == expected


def test_the_provisioner_gets_every_silo_setting() -> None:
    provisioner = next(spec for spec in FUNCTIONS if spec.name == "tenant_provisioner")
    assert {"SILO_TEMPLATE_URL", "SILO_STACK_ROLE_ARN", "APP_TABLE_NAME", "TENANT_BUCKET_NAME"} <= set(
        provisioner.environment
    )
    assert "USER_POOL_ID" in provisioner.environment  # creates the first admin, removes users


def test_the_application_plane_gets_its_identity_settings() -> None:
    authorizer = next(spec for spec in FUNCTIONS if spec.name == "authorizer")
    app_api = next(spec for spec in FUNCTIONS if spec.name == "app_api")
    assert {"USER_POOL_ID", "USER_POOL_CLIENT_ID", "CONTROL_TABLE_NAME"} <= set(authorizer.environment)
    # The authorizer reads each token's user item as the tenant (tenant-access role), never directly.
    assert "TENANT_ACCESS_ROLE_ARN" in authorizer.environment
    assert "APP_TABLE_NAME" not in authorizer.environment
    assert {"TENANT_ACCESS_ROLE_ARN", "USER_POOL_ID"} <= set(app_api.environment)
    # The app API gets no table name: it resolves each tenant's table from its route.
    assert not {"APP_TABLE_NAME", "CONTROL_TABLE_NAME"} & set(app_api.environment)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_function_logs_to_its_own_log_group_with_retention(
    synthesized: Synthesized, spec: FunctionSpec
) -> None:
    properties = function_resource(synthesized, spec)["Properties"]
    log_group_id = properties["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = synthesized.template["Resources"][log_group_id]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["LogGroupName"] == f"/aws/lambda/{properties['FunctionName']}"
    assert log_group["Properties"]["RetentionInDays"] == 30


def test_layer_is_the_built_shared_layer_for_the_same_runtime(synthesized: Synthesized) -> None:
    layer = synthesized.template["Resources"][synthesized.logical_id(synthesized.stack.layer)]
    assert len(synthesized.resources("AWS::Lambda::LayerVersion")) == 2  # shared and engine
    assert layer["Properties"]["CompatibleRuntimes"] == [f"python{LAMBDA_PYTHON}"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["x86_64"]
    staged = synthesized.staged_asset(layer["Properties"]["Content"]["S3Key"])
    assert (staged / "python" / "tenancy" / "__init__.py").is_file()
    assert (staged / "python" / "aws_lambda_powertools").is_dir()
    assert not (staged / ".built").exists()


@pytest.mark.parametrize("spec", STREAM_CONSUMERS, ids=lambda spec: spec.name)
def test_stream_event_source_mapping(synthesized: Synthesized, spec: FunctionSpec) -> None:
    trigger = spec.trigger
    assert isinstance(trigger, StreamTrigger)
    [mapping] = [
        m["Properties"]
        for m in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == function_ref(synthesized, spec)
    ]
    table_id = synthesized.logical_id(synthesized.stack.tables[trigger.table])
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == trigger.batch_size
    assert mapping["MaximumBatchingWindowInSeconds"] == trigger.max_batching_window_seconds
    assert mapping["MaximumRetryAttempts"] == trigger.retry_attempts
    assert mapping["BisectBatchOnFunctionError"] is trigger.bisect_batch_on_error is True
    assert trigger.report_batch_item_failures
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    dlq_id = synthesized.logical_id(synthesized.stack.dead_letter_queues[spec.name])
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn(synthesized, dlq_id)}}


@pytest.mark.parametrize("spec", RULE_CONSUMERS, ids=lambda spec: spec.name)
def test_rule_matches_exactly_the_topology_pattern(synthesized: Synthesized, spec: FunctionSpec) -> None:
    trigger = spec.trigger
    assert isinstance(trigger, RuleTrigger)
    rule = synthesized.template["Resources"][synthesized.logical_id(synthesized.stack.rules[spec.name])]
    properties = rule["Properties"]
    assert properties["EventPattern"] == trigger.pattern(APP_NAME)
    assert properties["EventPattern"]["source"] == [f"{APP_NAME}.{trigger.plane}"]
    assert properties["EventBusName"] == {"Ref": synthesized.logical_id(synthesized.stack.event_bus)}
    assert properties["Name"] == f"{APP_NAME}-{STAGE}-{trigger.rule}"
    assert properties["State"] == "ENABLED"


@pytest.mark.parametrize("spec", RULE_CONSUMERS + OBJECT_CONSUMERS, ids=lambda spec: spec.name)
def test_rule_target_retries_and_dead_letters(synthesized: Synthesized, spec: FunctionSpec) -> None:
    trigger = spec.trigger
    assert isinstance(trigger, RuleTrigger | ObjectCreatedTrigger)
    rule = synthesized.template["Resources"][synthesized.logical_id(synthesized.stack.rules[spec.name])]
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == function_arn(synthesized, spec)
    assert target["RetryPolicy"] == {
        "MaximumRetryAttempts": trigger.retry_attempts,
        "MaximumEventAgeInSeconds": trigger.max_event_age_seconds,
    }
    delivery_dlq = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert synthesized.template["Resources"][delivery_dlq]["Type"] == "AWS::SQS::Queue"
    # EventBridge may send to that queue, from this rule only.
    rule_arn = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.rules[spec.name]), "Arn"]}
    [policy] = [
        p["Properties"]
        for p in synthesized.resources("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": delivery_dlq}]
    ]
    [allow] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == rule_arn


@pytest.mark.parametrize("spec", RULE_CONSUMERS + OBJECT_CONSUMERS, ids=lambda spec: spec.name)
def test_function_errors_are_retried_by_async_invoke_then_dead_lettered(
    synthesized: Synthesized, spec: FunctionSpec
) -> None:
    trigger = spec.trigger
    assert isinstance(trigger, RuleTrigger | ObjectCreatedTrigger)
    [config] = [
        c["Properties"]
        for c in synthesized.resources("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == function_ref(synthesized, spec)
    ]
    assert config["MaximumRetryAttempts"] == trigger.async_retry_attempts
    assert config["MaximumEventAgeInSeconds"] == trigger.max_event_age_seconds
    failure_dlq = synthesized.logical_id(synthesized.stack.dead_letter_queues[spec.name])
    assert config["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn(synthesized, failure_dlq)}}


def test_every_dead_letter_queue_is_encrypted_and_ssl_only(synthesized: Synthesized) -> None:
    queues = synthesized.resources("AWS::SQS::Queue")
    assert len(queues) == (
        len(STREAM_CONSUMERS) + 2 * len(RULE_CONSUMERS) + 2 * len(OBJECT_CONSUMERS) + len(SCHEDULED)
    )
    policies = [p["Properties"] for p in synthesized.resources("AWS::SQS::QueuePolicy").values()]
    for queue_id, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, queue_id
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600, queue_id
        statements = [
            statement
            for policy in policies
            if {"Ref": queue_id} in policy["Queues"]
            for statement in policy["PolicyDocument"]["Statement"]
        ]
        assert any(
            s["Effect"] == "Deny"
            and s["Action"] == "sqs:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), queue_id


@pytest.mark.parametrize("spec", SCHEDULED, ids=lambda spec: spec.name)
def test_scheduled_functions_run_on_their_rate_with_a_dead_letter_queue(
    synthesized: Synthesized, spec: FunctionSpec
) -> None:
    trigger = spec.trigger
    assert isinstance(trigger, ScheduleTrigger)
    [rule] = [
        r["Properties"]
        for r in synthesized.resources("AWS::Events::Rule").values()
        if r["Properties"].get("Name") == f"{APP_NAME}-{STAGE}-{trigger.rule}"
    ]
    assert rule["ScheduleExpression"] == f"rate({trigger.rate_minutes} minutes)"
    assert "EventBusName" not in rule  # the default bus carries schedules
    [target] = rule["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == trigger.retry_attempts
    dlq = synthesized.logical_id(synthesized.stack.dead_letter_queues[spec.name])
    assert target["DeadLetterConfig"] == {"Arn": queue_arn(synthesized, dlq)}
