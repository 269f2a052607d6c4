"""The control-plane REST API: one IAM-authorized Lambda proxy method per topology route."""

from __future__ import annotations

from typing import Any

from tenancy_infra.topology import FUNCTIONS, ApiTrigger, Route
from tests.infrastructure.synth import APP_NAME, STAGE, Synthesized

API_FUNCTIONS = [spec for spec in FUNCTIONS if isinstance(spec.trigger, ApiTrigger)]
ROUTES = [(spec, route) for spec in API_FUNCTIONS for route in spec.trigger.routes]  # type: ignore[union-attr]


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


def methods_by_route(synthesized: Synthesized) -> dict[Route, dict[str, Any]]:
    paths = resource_paths(synthesized)
    return {
        Route(method["Properties"]["HttpMethod"], paths[method["Properties"]["ResourceId"]["Ref"]]): method[
            "Properties"
        ]
        for method in synthesized.resources("AWS::ApiGateway::Method").values()
    }


def test_rest_api_is_named_after_the_app_and_stage(synthesized: Synthesized) -> None:
    [api] = synthesized.resources("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["Name"] == f"{APP_NAME}-{STAGE}-control-api"
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_one_method_per_topology_route(synthesized: Synthesized) -> None:
    assert ROUTES, "the topology declares API routes"
    methods = methods_by_route(synthesized)
    assert sorted(methods, key=repr) == sorted((route for _, route in ROUTES), key=repr)


def test_every_method_is_iam_authorized_lambda_proxy_to_its_function(synthesized: Synthesized) -> None:
    methods = methods_by_route(synthesized)
    for spec, route in ROUTES:
        method = methods[route]
        assert method["AuthorizationType"] == "AWS_IAM", route
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY", route
        assert integration["IntegrationHttpMethod"] == "POST", route
        function_id = synthesized.logical_id(synthesized.stack.functions[spec.name])
        assert {"Fn::GetAtt": [function_id, "Arn"]} in integration["Uri"]["Fn::Join"][1], route


def test_path_parameters_are_required_and_validated(synthesized: Synthesized) -> None:
    [validator_id] = synthesized.resources("AWS::ApiGateway::RequestValidator")
    validator = synthesized.template["Resources"][validator_id]["Properties"]
    assert validator["ValidateRequestParameters"] is True
    for route, method in methods_by_route(synthesized).items():
        assert method["RequestValidatorId"] == {"Ref": validator_id}, route
        if "{tenantId}" in route.path:
            assert method["RequestParameters"] == {"method.request.path.tenantId": True}, route
        else:
            assert "RequestParameters" not in method, route


def test_only_api_gateway_may_invoke_the_api_function_per_method(synthesized: Synthesized) -> None:
    for spec in API_FUNCTIONS:
        function_arn = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.functions[spec.name]), "Arn"]}
        permissions = [
            p["Properties"]
            for p in synthesized.resources("AWS::Lambda::Permission").values()
            if p["Properties"]["FunctionName"] == function_arn
        ]
        assert len(permissions) == len(spec.trigger.routes)  # type: ignore[union-attr]  # no test-invoke
        assert {p["Principal"] for p in permissions} == {"apigateway.amazonaws.com"}


def test_stage_logs_traces_and_throttles(synthesized: Synthesized) -> None:
    [stage] = synthesized.resources("AWS::ApiGateway::Stage").values()
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
