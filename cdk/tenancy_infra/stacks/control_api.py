"""ControlApi: the IAM-authorized control-plane REST API (operators and internal services, SigV4),
with the routes of every topology ApiTrigger on the "control" API."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from ..topology import CONTROL_API, FUNCTIONS, ApiTrigger
from . import apis
from .concern import Concern
from .naming import Naming


class ControlApi(Concern):
    """Built first: it creates API Gateway's account-level CloudWatch Logs role (`cloud_watch_account`),
    which the app API then reuses."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        functions: Mapping[str, lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apis.build_rest_api(
            self.stack,
            "ControlApi",
            rest_api_name=naming.resource(f"{CONTROL_API}-api"),
            api_name=CONTROL_API,
            stage=naming.stage,
            authorization="IAM",
            cloud_watch_account=None,
        )
        self.request_validator: apigw.RequestValidator = apis.request_validator(self.api)
        for spec in FUNCTIONS:
            trigger = spec.trigger
            if isinstance(trigger, ApiTrigger) and trigger.api == CONTROL_API:
                if trigger.authorization != "IAM" or trigger.authorizer is not None:
                    raise ValueError(f"{spec.name}: the {CONTROL_API} API is IAM-authorized only")
                integration = apigw.LambdaIntegration(
                    functions[spec.name], proxy=True, allow_test_invoke=False
                )
                for route in trigger.routes:
                    apis.add_route(self.api, route, integration, authorization="IAM")

    @property
    def cloud_watch_account(self) -> cdk.CfnResource | None:
        return apis.cloud_watch_account(self.api)
