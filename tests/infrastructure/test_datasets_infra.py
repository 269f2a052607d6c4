"""Issue 13's infrastructure: the engine layer, the card executor's isolation, who may invoke it,
and the dataset uploads' path from S3 (pool and silo buckets) to the import function."""

from __future__ import annotations

import json
from typing import Any

from tenancy_infra.topology import FUNCTIONS, InvokeTrigger, Layer, Network, ObjectCreatedTrigger, function
from tests.infrastructure.synth import APP_NAME, STAGE, Synthesized
from tests.infrastructure.test_iam import as_list, flat, statements

EXECUTOR = "card_executor"
EXECUTOR_NAME = f"{APP_NAME}-{STAGE}-card-executor"
ENI_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}


def resource(synthesized: Synthesized, construct: Any) -> dict[str, Any]:
    return synthesized.template["Resources"][synthesized.logical_id(construct)]  # type: ignore[no-any-return]


def function_properties(synthesized: Synthesized, name: str) -> dict[str, Any]:
    return resource(synthesized, synthesized.stack.functions[name])["Properties"]  # type: ignore[no-any-return]


# --- the engine layer -----------------------------------------------------------------------------


def test_the_engine_layer_is_attached_to_exactly_the_import_and_the_analytics_api(
    synthesized: Synthesized,
) -> None:
    engine = {"Ref": synthesized.logical_id(synthesized.stack.engine_layer)}
    holders = sorted(
        name
        for name in synthesized.stack.functions
        if engine in function_properties(synthesized, name)["Layers"]
    )
    assert holders == ["analytics_api", "dataset_import"]
    assert holders == sorted(spec.name for spec in FUNCTIONS if Layer.ENGINE in spec.layers)
    # Every function that holds it also holds the shared layer (no file is in both: order is moot).
    shared = {"Ref": synthesized.logical_id(synthesized.stack.layer)}
    for name in holders:
        layers = function_properties(synthesized, name)["Layers"]
        assert sorted(map(flat, layers)) == sorted(map(flat, [shared, engine]))


def test_the_engine_layer_is_the_built_duckdb_for_the_runtime(synthesized: Synthesized) -> None:
    layer = resource(synthesized, synthesized.stack.engine_layer)["Properties"]
    assert layer["LayerName"] == f"{APP_NAME}-{STAGE}-engine"
    assert layer["CompatibleRuntimes"] == ["python3.13"]
    assert layer["CompatibleArchitectures"] == ["x86_64"]
    staged = synthesized.staged_asset(layer["Content"]["S3Key"])
    assert (staged / "python" / "duckdb" / "__init__.py").is_file()
    # A manylinux wheel for the runtime's Python, not this machine's (3.11).
    [extension] = list((staged / "python" / "duckdb").glob("duckdb.cpython-*.so"))
    assert extension.name.startswith("duckdb.cpython-313-x86_64-linux-gnu")
    assert not (staged / ".built").exists()
    assert not (staged / "python" / "tenancy").exists()  # the shared layer's, not this one's


# --- the card executor: no permissions, no network --------------------------------------------


def test_the_executor_role_holds_its_log_group_and_nothing_else(synthesized: Synthesized) -> None:
    """Its own log group (Lambda writes it), and the ec2 network-interface actions Lambda performs
    with the role to attach the function to its subnets, each denied to the function's own code."""
    properties = function_properties(synthesized, EXECUTOR)
    own_logs = {"Fn::GetAtt": [properties["LoggingConfig"]["LogGroup"]["Ref"], "Arn"]}
    found = statements(synthesized, EXECUTOR)
    allowed = [s for s in found if s["Effect"] == "Allow"]
    denied = [s for s in found if s["Effect"] == "Deny"]
    by_resource: dict[str, set[str]] = {}
    for statement in allowed:
        for on in as_list(statement["Resource"]):
            by_resource.setdefault(flat(on), set()).update(as_list(statement["Action"]))
    assert by_resource == {
        flat(own_logs): {"logs:CreateLogStream", "logs:PutLogEvents"},
        flat("*"): ENI_ACTIONS,
    }
    [deny] = denied
    assert set(deny["Action"]) == ENI_ACTIONS
    assert deny["Resource"] == "*"
    [(operator, condition)] = deny["Condition"].items()
    assert operator == "ArnEquals"
    assert list(condition) == ["lambda:SourceFunctionArn"]
    arn = flat(condition["lambda:SourceFunctionArn"])
    assert arn.endswith(f':function:{EXECUTOR_NAME}"]]}}'), arn
    # No X-Ray, no data, no secrets: nothing else in the role, and nothing in the environment.
    assert "TracingConfig" not in properties
    assert set(properties["Environment"]["Variables"]) == {
        "APP_NAME",
        "STAGE",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
    }


def test_the_executor_runs_in_isolated_subnets_with_the_no_egress_security_group(
    synthesized: Synthesized,
) -> None:
    network = synthesized.stack.isolated_network
    assert network is not None
    vpc_config = function_properties(synthesized, EXECUTOR)["VpcConfig"]
    group_id = synthesized.logical_id(network.security_group)
    assert vpc_config["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}]
    isolated = [synthesized.stack.resolve(subnet.subnet_id) for subnet in network.vpc.isolated_subnets]
    assert sorted(map(flat, vpc_config["SubnetIds"])) == sorted(map(flat, isolated))
    assert len(vpc_config["SubnetIds"]) == 2
    # Only the isolated function is in a VPC.
    for spec in FUNCTIONS:
        in_vpc = "VpcConfig" in function_properties(synthesized, spec.name)
        assert in_vpc == (spec.network is Network.ISOLATED), spec.name


def test_the_security_group_has_no_ingress_and_no_egress(synthesized: Synthesized) -> None:
    network = synthesized.stack.isolated_network
    assert network is not None
    group = resource(synthesized, network.security_group)["Properties"]
    assert "SecurityGroupIngress" not in group
    # CDK's placeholder, which matches no packet (so CloudFormation adds no allow-all egress).
    assert group["SecurityGroupEgress"] == [
        {
            "CidrIp": "255.255.255.255/32",
            "Description": "Disallow all traffic",
            "FromPort": 252,
            "IpProtocol": "icmp",
            "ToPort": 86,
        }
    ]
    assert not synthesized.resources("AWS::EC2::SecurityGroupIngress")
    assert not synthesized.resources("AWS::EC2::SecurityGroupEgress")


def test_the_isolated_vpc_has_no_route_anywhere(synthesized: Synthesized) -> None:
    """No internet or NAT gateway, no VPC endpoint, no route besides each table's implicit local one."""
    for resource_type in (
        "AWS::EC2::InternetGateway",
        "AWS::EC2::EgressOnlyInternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::VPCEndpoint",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::Route",
        "AWS::EC2::TransitGatewayAttachment",
        "AWS::EC2::VPCPeeringConnection",
        "AWS::EC2::EIP",
    ):
        assert not synthesized.resources(resource_type), resource_type
    [vpc] = synthesized.resources("AWS::EC2::VPC").values()
    assert vpc["Properties"]["Tags"]
    subnets = synthesized.resources("AWS::EC2::Subnet").values()
    assert len(subnets) == 2
    assert all(subnet["Properties"]["MapPublicIpOnLaunch"] is False for subnet in subnets)
    # Rejected traffic is recorded: a card trying to connect out shows up in the flow logs.
    [flow_log] = synthesized.resources("AWS::EC2::FlowLog").values()
    assert flow_log["Properties"]["TrafficType"] == "REJECT"
    assert flow_log["Properties"]["ResourceType"] == "VPC"


def test_only_the_analytics_api_may_invoke_the_executor(synthesized: Synthesized) -> None:
    executor_arn = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.functions[EXECUTOR]), "Arn"]}
    invokers = {}
    for name in synthesized.stack.functions:
        for statement in statements(synthesized, name):
            actions = as_list(statement["Action"])
            if any(action.startswith("lambda:") for action in actions):
                invokers[name] = (statement["Effect"], actions, statement["Resource"])
    assert invokers == {"analytics_api": ("Allow", ["lambda:InvokeFunction"], executor_arn)}
    trigger = function(EXECUTOR).trigger
    assert isinstance(trigger, InvokeTrigger)
    assert trigger.callers == ("analytics_api",)
    # No resource policy lets anything else (an API, a rule, another account) invoke it.
    executor_ref = {"Ref": synthesized.logical_id(synthesized.stack.functions[EXECUTOR])}
    for permission in synthesized.resources("AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"] not in (executor_ref, executor_arn)
    assert not [
        mapping
        for mapping in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == executor_ref
    ]
    # The caller finds it by name.
    variables = function_properties(synthesized, "analytics_api")["Environment"]["Variables"]
    assert variables["CARD_EXECUTOR_FUNCTION_NAME"] == EXECUTOR_NAME
    assert function_properties(synthesized, EXECUTOR)["FunctionName"] == EXECUTOR_NAME


# --- dataset uploads: S3 -> EventBridge (default bus) -> the import -------------------------------


def test_the_upload_rule_matches_csv_objects_under_tenants_in_the_pool_and_silo_buckets(
    synthesized: Synthesized,
) -> None:
    spec = function("dataset_import")
    trigger = spec.trigger
    assert isinstance(trigger, ObjectCreatedTrigger)
    rule = resource(synthesized, synthesized.stack.rules["dataset_import"])["Properties"]
    pool = {"Ref": synthesized.logical_id(synthesized.stack.tenant_bucket)}
    assert rule["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [pool, {"prefix": f"{APP_NAME}-{STAGE}-tenant-"}]},
            "object": {"key": [{"wildcard": "tenants/*.csv"}]},
        },
    }
    assert "EventBusName" not in rule  # the default bus, where S3 sends its events
    assert rule["Name"] == f"{APP_NAME}-{STAGE}-{trigger.rule}"
    assert rule["State"] == "ENABLED"
    [target] = rule["Targets"]
    assert target["Arn"] == {
        "Fn::GetAtt": [synthesized.logical_id(synthesized.stack.functions["dataset_import"]), "Arn"]
    }


def test_the_pool_bucket_sends_its_events_to_event_bridge(synthesized: Synthesized) -> None:
    bucket = resource(synthesized, synthesized.stack.tenant_bucket)["Properties"]
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    # Through the bucket's own property: no notifications custom resource (and its Lambda).
    assert not [
        r for r in synthesized.template["Resources"].values() if r["Type"] == "Custom::S3BucketNotifications"
    ]


def test_the_silo_bucket_sends_its_events_to_event_bridge(synthesized: Synthesized) -> None:
    [bucket] = [r for r in synthesized.silo_template["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    assert bucket["Properties"]["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    # The silo stack role (CloudFormation) may configure it.
    role_id = synthesized.logical_id(synthesized.stack.silo_stack_role)
    [policy] = [
        p["Properties"]
        for p in synthesized.resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    [buckets] = [s for s in policy["PolicyDocument"]["Statement"] if s["Sid"] == "SiloBuckets"]
    assert {"s3:PutBucketNotification", "s3:GetBucketNotification"} <= set(buckets["Action"])


def test_the_silo_bucket_prefix_matches_cloudformation_generated_names(synthesized: Synthesized) -> None:
    """CloudFormation names a stack's bucket `<stack>-<logicalid>-<suffix>`, lowercased; the silo
    stack is `<app>-<stage>-tenant-<tenantId>`: the rule's prefix matches it, and no shared bucket."""
    rule = resource(synthesized, synthesized.stack.rules["dataset_import"])["Properties"]
    [prefix] = [
        matcher["prefix"]
        for matcher in rule["EventPattern"]["detail"]["bucket"]["name"]
        if isinstance(matcher, dict) and "prefix" in matcher
    ]
    generated = f"{APP_NAME}-{STAGE}-tenant-01J9Z3K4ABCDEF-bucket-1x2y3z4w5v6u".lower()
    assert generated.startswith(prefix)
    for logical_id in synthesized.resources("AWS::S3::Bucket"):
        assert not f"{APP_NAME}-{STAGE}-{logical_id}".lower().startswith(prefix), logical_id
    assert json.dumps(rule["EventPattern"]).count("prefix") == 1
