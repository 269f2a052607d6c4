"""The REST APIs: one Lambda proxy method per topology route, on the API the route names; the control
API is IAM-authorized, the app API uses the Lambda REQUEST authorizer on every method."""

from __future__ import annotations

from typing import Any

import pytest

from tenancy_infra.stacks.apis import path_parameters
from tenancy_infra.topology import FUNCTIONS, ApiRoute, ApiTrigger, AuthorizerTrigger, FunctionSpec
from tests.infrastructure.synth import APP_NAME, STAGE, Synthesized

API_FUNCTIONS = [spec for spec in FUNCTIONS if isinstance(spec.trigger, ApiTrigger)]
ROUTES = [(spec, route) for spec in API_FUNCTIONS for route in spec.trigger.routes]  # type: ignore[union-attr]
API_NAMES = sorted({spec.trigger.api for spec in API_FUNCTIONS})  # type: ignore[union-attr]
AUTHORIZERS = [spec for spec in FUNCTIONS if isinstance(spec.trigger, AuthorizerTrigger)]
AUTHORIZATION_TYPES = {"IAM": "AWS_IAM", "CUSTOM": "CUSTOM"}


def api_trigger(spec: FunctionSpec) -> ApiTrigger:
    assert isinstance(spec.trigger, ApiTrigger)
    return spec.trigger


def api_ids(synthesized: Synthesized) -> dict[str, str]:
    """RestApi logical id -> the topology API name."""
    return {synthesized.logical_id(api): name for name, api in synthesized.stack.apis.items()}


def resource_paths(synthesized: Synthesized) -> dict[str, str]:
    """ApiGateway::Resource logical id -> its full path, rebuilt from ParentId/PathPart."""
    resources = synthesized.resources("AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            properties = resources[logical_id]["Properties"]
            parent = properties["ParentId"]
            prefix = "" if "Fn::GetAtt" in parent else path_of(parent["Ref"])
            paths[logical_id] = f"{prefix}/{properties['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths


def methods_by_route(synthesized: Synthesized) -> dict[tuple[str, ApiRoute], dict[str, Any]]:
    """(API name, route) -> the method's properties, for every method of every API."""
    paths = resource_paths(synthesized)
    apis = api_ids(synthesized)
    methods: dict[tuple[str, ApiRoute], dict[str, Any]] = {}
    for method in synthesized.resources("AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        key = (
            apis[properties["RestApiId"]["Ref"]],
            ApiRoute(properties["HttpMethod"], paths[properties["ResourceId"]["Ref"]]),
        )
        assert key not in methods, key
        methods[key] = properties
    return methods


def test_the_topology_declares_both_apis() -> None:
    assert API_NAMES == ["app", "control"]
    assert {api_trigger(spec).api: api_trigger(spec).authorization for spec in API_FUNCTIONS} == {
        "control": "IAM",
        "app": "CUSTOM",
    }


def test_rest_apis_are_named_after_the_app_and_stage(synthesized: Synthesized) -> None:
    apis = synthesized.resources("AWS::ApiGateway::RestApi")
    assert sorted(api["Properties"]["Name"] for api in apis.values()) == sorted(
        f"{APP_NAME}-{STAGE}-{name}-api" for name in API_NAMES
    )
    for api in apis.values():
        assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert sorted(synthesized.stack.apis) == API_NAMES


def test_one_method_per_topology_route(synthesized: Synthesized) -> None:
    assert ROUTES, "the topology declares API routes"
    methods = methods_by_route(synthesized)
    expected = [(api_trigger(spec).api, route) for spec, route in ROUTES]
    assert len(expected) == len(set(expected))
    assert sorted(methods, key=repr) == sorted(expected, key=repr)
    for api_name in API_NAMES:
        assert any(api == api_name for api, _ in methods), api_name


def test_every_method_is_authorized_lambda_proxy_to_its_function(synthesized: Synthesized) -> None:
    methods = methods_by_route(synthesized)
    for spec, route in ROUTES:
        trigger = api_trigger(spec)
        method = methods[(trigger.api, route)]
        assert method["AuthorizationType"] == AUTHORIZATION_TYPES[trigger.authorization], route
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY", route
        assert integration["IntegrationHttpMethod"] == "POST", route
        function_id = synthesized.logical_id(synthesized.stack.functions[spec.name])
        assert {"Fn::GetAtt": [function_id, "Arn"]} in integration["Uri"]["Fn::Join"][1], route


def test_every_control_route_is_aws_iam_and_every_app_route_uses_the_authorizer(
    synthesized: Synthesized,
) -> None:
    [authorizer_id] = synthesized.resources("AWS::ApiGateway::Authorizer")
    methods = methods_by_route(synthesized)
    control = [method for (api, _), method in methods.items() if api == "control"]
    app = [method for (api, _), method in methods.items() if api == "app"]
    assert len(control) == len([r for s, r in ROUTES if api_trigger(s).api == "control"]) > 0
    assert len(app) == len([r for s, r in ROUTES if api_trigger(s).api == "app"]) > 0
    for method in control:
        assert method["AuthorizationType"] == "AWS_IAM"
        assert "AuthorizerId" not in method
    for method in app:
        assert method["AuthorizationType"] == "CUSTOM"
        assert method["AuthorizerId"] == {"Ref": authorizer_id}


@pytest.mark.parametrize("spec", AUTHORIZERS, ids=lambda spec: spec.name)
def test_request_authorizer_reads_the_identity_header_and_caches(
    synthesized: Synthesized, spec: FunctionSpec
) -> None:
    trigger = spec.trigger
    assert isinstance(trigger, AuthorizerTrigger)
    authorizer = synthesized.template["Resources"][
        synthesized.logical_id(synthesized.stack.authorizers[spec.name])
    ]
    properties = authorizer["Properties"]
    assert properties["Type"] == "REQUEST"
    assert trigger.identity_header == "Authorization"
    assert properties["IdentitySource"] == f"method.request.header.{trigger.identity_header}"
    assert properties["AuthorizerResultTtlInSeconds"] == trigger.result_ttl_seconds == 60
    assert properties["RestApiId"] == {"Ref": synthesized.logical_id(synthesized.stack.apis[trigger.api])}
    function_arn = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.functions[spec.name]), "Arn"]}
    assert function_arn in properties["AuthorizerUri"]["Fn::Join"][1]


@pytest.mark.parametrize("spec", AUTHORIZERS, ids=lambda spec: spec.name)
def test_only_api_gateway_may_invoke_the_authorizer_as_that_authorizer(
    synthesized: Synthesized, spec: FunctionSpec
) -> None:
    function_arn = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.functions[spec.name]), "Arn"]}
    [permission] = [
        p["Properties"]
        for p in synthesized.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == function_arn
    ]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["Action"] == "lambda:InvokeFunction"
    source = permission["SourceArn"]["Fn::Join"][1]
    authorizer_id = synthesized.logical_id(synthesized.stack.authorizers[spec.name])
    assert source[-2:] == ["/authorizers/", {"Ref": authorizer_id}]


def test_path_parameters_are_required_and_validated(synthesized: Synthesized) -> None:
    validators = synthesized.resources("AWS::ApiGateway::RequestValidator")
    assert len(validators) == len(API_NAMES)
    by_api = {
        api_ids(synthesized)[validator["Properties"]["RestApiId"]["Ref"]]: validator_id
        for validator_id, validator in validators.items()
    }
    for validator_id in validators:
        assert (
            synthesized.template["Resources"][validator_id]["Properties"]["ValidateRequestParameters"] is True
        )
    for (api, route), method in methods_by_route(synthesized).items():
        assert method["RequestValidatorId"] == {"Ref": by_api[api]}, route
        names = path_parameters(route)
        if names:
            assert method["RequestParameters"] == {f"method.request.path.{name}": True for name in names}, (
                route
            )
        else:
            assert "RequestParameters" not in method, route
    assert {"tenantId", "userId", "agentId", "executionId"} <= {
        name for _, route in ROUTES for name in path_parameters(route)
    }


def test_only_api_gateway_may_invoke_the_api_function_per_method(synthesized: Synthesized) -> None:
    for spec in API_FUNCTIONS:
        function_arn = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.functions[spec.name]), "Arn"]}
        permissions = [
            p["Properties"]
            for p in synthesized.resources("AWS::Lambda::Permission").values()
            if p["Properties"]["FunctionName"] == function_arn
        ]
        assert len(permissions) == len(api_trigger(spec).routes)  # no test-invoke
        assert {p["Principal"] for p in permissions} == {"apigateway.amazonaws.com"}
        api_id = synthesized.logical_id(synthesized.stack.apis[api_trigger(spec).api])
        for permission in permissions:
            assert {"Ref": api_id} in permission["SourceArn"]["Fn::Join"][1], spec.name


@pytest.mark.parametrize("api_name", API_NAMES)
def test_stage_logs_traces_and_throttles(synthesized: Synthesized, api_name: str) -> None:
    api_id = synthesized.logical_id(synthesized.stack.apis[api_name])
    [stage] = [
        s
        for s in synthesized.resources("AWS::ApiGateway::Stage").values()
        if s["Properties"]["RestApiId"] == {"Ref": api_id}
    ]
    properties = stage["Properties"]
    assert properties["StageName"] == STAGE
    assert properties["TracingEnabled"] is True
    log_group = properties["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1][-1]["Ref"]
    assert synthesized.template["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup"
    assert synthesized.template["Resources"][log_group]["Properties"]["RetentionInDays"] == 30
    assert '"requestId":"$context.requestId"' in properties["AccessLogSetting"]["Format"]
    [settings] = properties["MethodSettings"]
    assert settings["HttpMethod"] == "*"
    assert settings["ResourcePath"] == "/*"
    assert settings["LoggingLevel"] == "INFO"
    assert settings["DataTraceEnabled"] is False  # never log request/response bodies
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["ThrottlingBurstLimit"] >= settings["ThrottlingRateLimit"]


def test_one_account_level_cloudwatch_role_and_every_stage_deploys_after_it(synthesized: Synthesized) -> None:
    [account_id] = synthesized.resources("AWS::ApiGateway::Account")
    for stage_id, stage in synthesized.resources("AWS::ApiGateway::Stage").items():
        assert account_id in stage.get("DependsOn", []), stage_id


def test_only_the_tenant_facing_api_sits_behind_the_web_acl(synthesized: Synthesized) -> None:
    [association] = synthesized.resources("AWS::WAFv2::WebACLAssociation").values()
    [web_acl_id] = synthesized.resources("AWS::WAFv2::WebACL")
    properties = association["Properties"]
    assert properties["WebACLArn"] == {"Fn::GetAtt": [web_acl_id, "Arn"]}
    parts = properties["ResourceArn"]["Fn::Join"][1]
    app = synthesized.stack.apis["app"]
    assert {"Ref": synthesized.logical_id(app)} in parts
    assert {"Ref": synthesized.stack.resolve(app.deployment_stage.node.default_child.logical_id)} in parts  # type: ignore[union-attr]
    web_acl = synthesized.template["Resources"][web_acl_id]["Properties"]
    assert web_acl["Scope"] == "REGIONAL"
    assert web_acl["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in web_acl["Rules"]}
    rate = rules["RateLimitPerIp"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} < set(rules)
    assert len({rule["Priority"] for rule in rules.values()}) == len(rules)
