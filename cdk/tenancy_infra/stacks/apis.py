"""REST APIs from topology ApiTriggers: the IAM-authorized control API and the tenant-facing app API
(Lambda REQUEST authorizer, behind a WAF web ACL). Both log, trace and throttle the same way."""

from __future__ import annotations

import re
from typing import Literal

import aws_cdk as cdk
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ..topology import ApiRoute, AuthorizerTrigger
from .cfn import cfn
from .nag import acknowledge, acknowledge_managed_policy

Authorization = Literal["IAM", "CUSTOM"]

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
API_THROTTLING_RATE_LIMIT = 50  # requests per second, per stage
API_THROTTLING_BURST_LIMIT = 100
# WAF on the tenant-facing API: requests per client IP per 5-minute window before it is blocked.
WAF_RATE_LIMIT_PER_IP = 2000
WAF_MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
# The common rule set blocks bodies over 8 KB; agent definitions may be larger, and the function
# bounds and validates bodies itself (pydantic), so that one rule only counts.
WAF_COUNT_ONLY_RULES = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)}
_PATH_PARAMETER = re.compile(r"\{(\w+)\+?\}")

_DESCRIPTIONS: dict[str, str] = {
    "IAM": "IAM-authorized: operators and internal services, SigV4",
    "CUSTOM": "tenant users: Cognito ID tokens checked by a Lambda REQUEST authorizer",
}
_AUTHORIZATION_TYPES = {"IAM": apigw.AuthorizationType.IAM, "CUSTOM": apigw.AuthorizationType.CUSTOM}
_NO_COGNITO_AUTHORIZER: dict[str, str] = {
    "IAM": "The control-plane API is for operators and internal services, authorized with AWS_IAM "
    "(SigV4); tenant end users never call it, so there is no Cognito user pool authorizer.",
    "CUSTOM": "A Lambda REQUEST authorizer verifies the Cognito ID token (RS256 signature against the "
    "user pool's JWKS, issuer, audience = the app client, token_use, expiry), the tenant's status "
    "(PROVISIONED only) and that the user is still a user of the tenant (its stored user item), "
    "then hands tenant, user, stored role and tier to the API: more than a Cognito user pool "
    "authorizer can check.",
}


def path_parameters(route: ApiRoute) -> list[str]:
    return _PATH_PARAMETER.findall(route.path)


def build_rest_api(
    scope: Construct,
    construct_id: str,
    *,
    rest_api_name: str,
    api_name: str,
    stage: str,
    authorization: Authorization,
    cloud_watch_account: cdk.CfnResource | None,
) -> apigw.RestApi:
    """A regional REST API with one stage `stage`: execution logs (INFO, never bodies), JSON access
    logs, X-Ray, stage throttling, and a request validator (`.node` child "RequestValidator").

    API Gateway's CloudWatch Logs role is an account-level setting: the first API creates it
    (`cloud_watch_account` None); later ones reuse it and deploy after it."""
    access_logs = logs.LogGroup(
        scope, f"{construct_id}AccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
    )
    api = apigw.RestApi(
        scope,
        construct_id,
        rest_api_name=rest_api_name,
        description=f"Tenancy {api_name} API ({_DESCRIPTIONS[authorization]})",
        endpoint_types=[apigw.EndpointType.REGIONAL],
        cloud_watch_role=cloud_watch_account is None,
        deploy_options=apigw.StageOptions(
            stage_name=stage,
            tracing_enabled=True,
            metrics_enabled=True,
            logging_level=apigw.MethodLoggingLevel.INFO,
            data_trace_enabled=False,
            throttling_rate_limit=API_THROTTLING_RATE_LIMIT,
            throttling_burst_limit=API_THROTTLING_BURST_LIMIT,
            access_log_destination=apigw.LogGroupLogDestination(access_logs),
            access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                caller=True,
                http_method=True,
                ip=True,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=True,
            ),
        ),
    )
    # One well-named output per API (`<Api>ApiUrl`, in TenancyStack) instead of RestApi's generated one.
    api.node.try_remove_child("Endpoint")
    if cloud_watch_account is not None:
        api.deployment_stage.node.add_dependency(cloud_watch_account)
    cloud_watch_role = api.node.try_find_child("CloudWatchRole")
    if isinstance(cloud_watch_role, iam.Role):
        acknowledge_managed_policy(
            cfn(cloud_watch_role),
            iam.ManagedPolicy.from_aws_managed_policy_name(
                "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            ).managed_policy_arn,
            "API Gateway's account-level CloudWatch Logs role (needed for execution logging) uses "
            "the AWS policy made for it; it only lets API Gateway write its own log groups.",
        )
    if authorization == "IAM":
        acknowledge(
            cfn(api.deployment_stage),
            "AwsSolutions-APIG3",
            "Every method is AWS_IAM-authorized (SigV4 from operators and internal services) and the "
            "stage is throttled; no anonymous traffic reaches the integration, so no WAF web ACL is "
            "attached.",
        )
    # Required path parameters are checked by API Gateway; bodies are validated by the function
    # (Powertools + pydantic), since the proxy methods declare no request models.
    api.add_request_validator(
        "RequestValidator", validate_request_body=True, validate_request_parameters=True
    )
    return api


def cloud_watch_account(api: apigw.RestApi) -> cdk.CfnResource | None:
    """The AWS::ApiGateway::Account resource `api` created (None if it reuses another API's)."""
    account = api.node.try_find_child("Account")
    return account if isinstance(account, cdk.CfnResource) else None


def request_validator(api: apigw.RestApi) -> apigw.RequestValidator:
    validator = api.node.try_find_child("RequestValidator")
    if not isinstance(validator, apigw.RequestValidator):
        raise TypeError(f"{api.node.path} has no request validator")
    return validator


def add_route(
    api: apigw.RestApi,
    route: ApiRoute,
    integration: apigw.Integration,
    *,
    authorization: Authorization,
    authorizer: apigw.IAuthorizer | None = None,
) -> apigw.Method:
    if (authorization == "CUSTOM") != (authorizer is not None):
        raise ValueError(f"{route}: a CUSTOM route needs its authorizer, an IAM route none")
    parameters = {f"method.request.path.{name}": True for name in path_parameters(route)}
    method = api.root.resource_for_path(route.path).add_method(
        route.method,
        integration,
        authorization_type=_AUTHORIZATION_TYPES[authorization],
        authorizer=authorizer,
        request_validator=request_validator(api),
        request_parameters=parameters or None,
    )
    acknowledge(cfn(method), "AwsSolutions-COG4", _NO_COGNITO_AUTHORIZER[authorization])
    return method


def build_request_authorizer(
    scope: Construct,
    construct_id: str,
    *,
    function: lambda_.IFunction,
    trigger: AuthorizerTrigger,
    authorizer_name: str,
) -> apigw.RequestAuthorizer:
    """The token comes from the `identity_header`; a request without it is refused (401) by API
    Gateway without invoking the function. Results are cached per token for `result_ttl_seconds`
    (topology.AUTHORIZER_RESULT_TTL_SECONDS): the bound on how long a removed user's token is
    still honoured."""
    return apigw.RequestAuthorizer(
        scope,
        construct_id,
        authorizer_name=authorizer_name,
        handler=function,
        identity_sources=[apigw.IdentitySource.header(trigger.identity_header)],
        results_cache_ttl=Duration.seconds(trigger.result_ttl_seconds),
    )


def build_web_acl(scope: Construct, construct_id: str, *, name: str, api: apigw.RestApi) -> wafv2.CfnWebACL:
    """A regional WAF web ACL on the API's stage: a per-IP rate limit (unauthenticated floods would
    otherwise each invoke the authorizer) and the AWS common and known-bad-inputs rule sets."""

    def visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
        return wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
        )

    rules = [
        wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    aggregate_key_type="IP", limit=WAF_RATE_LIMIT_PER_IP
                )
            ),
            visibility_config=visibility(f"{name}-rate-limit-per-ip"),
        )
    ]
    for priority, group in enumerate(WAF_MANAGED_RULE_GROUPS, start=1):
        overrides = [
            wafv2.CfnWebACL.RuleActionOverrideProperty(
                name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
            )
            for rule in WAF_COUNT_ONLY_RULES.get(group, ())
        ]
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group, rule_action_overrides=overrides or None
                    )
                ),
                visibility_config=visibility(f"{name}-{group}"),
            )
        )
    web_acl = wafv2.CfnWebACL(
        scope,
        construct_id,
        name=name,
        description="Tenant-facing API: per-IP rate limit and AWS managed rule groups",
        scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=visibility(name),
        rules=rules,
    )
    wafv2.CfnWebACLAssociation(
        scope,
        f"{construct_id}Association",
        resource_arn=api.deployment_stage.stage_arn,
        web_acl_arn=web_acl.attr_arn,
    )
    return web_acl
