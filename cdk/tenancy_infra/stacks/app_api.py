"""AppApi: the tenant-facing application-plane REST API: a Lambda REQUEST authorizer on every route
(topology AuthorizerTrigger), behind a WAF web ACL, with the routes of every ApiTrigger on the "app"
API."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ..topology import APP_API, FUNCTIONS, ApiTrigger, AuthorizerTrigger
from . import apis
from .concern import Concern, camel
from .naming import Naming

# `AppApi` is the app_api function's construct id.
APP_API_ID = "AppRestApi"


class AppApi(Concern):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        functions: Mapping[str, lambda_.Function],
        cloud_watch_account: cdk.CfnResource | None,
    ) -> None:
        super().__init__(scope, construct_id)
        # The REQUEST authorizers (API Gateway binds each to the API of the first method using it).
        self.authorizers: dict[str, apigw.RequestAuthorizer] = {
            spec.name: apis.build_request_authorizer(
                self.stack,
                f"{camel(spec.name)}RequestAuthorizer",
                function=functions[spec.name],
                trigger=spec.trigger,
                authorizer_name=naming.function(spec),
            )
            for spec in FUNCTIONS
            if isinstance(spec.trigger, AuthorizerTrigger) and spec.trigger.api == APP_API
        }
        self.api = apis.build_rest_api(
            self.stack,
            APP_API_ID,
            rest_api_name=naming.resource(f"{APP_API}-api"),
            api_name=APP_API,
            stage=naming.stage,
            authorization="CUSTOM",
            cloud_watch_account=cloud_watch_account,
        )
        # Tenant-facing: reachable by anyone on the internet, so it sits behind a WAF web ACL.
        self.web_acl: wafv2.CfnWebACL = apis.build_web_acl(
            self.stack, f"{APP_API_ID}WebAcl", name=naming.resource(f"{APP_API}-api"), api=self.api
        )
        self.request_validator: apigw.RequestValidator = apis.request_validator(self.api)
        used: set[str] = set()
        for spec in FUNCTIONS:
            trigger = spec.trigger
            if not (isinstance(trigger, ApiTrigger) and trigger.api == APP_API):
                continue
            if trigger.authorization != "CUSTOM" or trigger.authorizer is None:
                raise ValueError(f"{spec.name}: the {APP_API} API's routes need a REQUEST authorizer")
            if trigger.authorizer not in self.authorizers:
                raise ValueError(f"{trigger.authorizer!r} is not an authorizer of the {APP_API} API")
            used.add(trigger.authorizer)
            integration = apigw.LambdaIntegration(functions[spec.name], proxy=True, allow_test_invoke=False)
            for route in trigger.routes:
                apis.add_route(
                    self.api,
                    route,
                    integration,
                    authorization="CUSTOM",
                    authorizer=self.authorizers[trigger.authorizer],
                )
        # Every authorizer guards at least one route of its API (CDK rejects a dangling one late).
        for name in self.authorizers.keys() - used:
            raise ValueError(f"authorizer {name!r} guards no route of the {APP_API} API")
