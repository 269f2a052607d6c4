"""TenancyStack: everything one `<app>-<stage>` deployment needs, driven by `tenancy_infra.topology`.

One construct per concern, composed here:

- `Tables` (tables.py): the control, app, idempotency and usage tables from CONTROL_TABLE /
  APP_TABLE / IDEMPOTENCY_TABLE / USAGE_TABLE
- `Storage` (storage.py): the shared tenant bucket and its access logs bucket
- `EventBusAndRules` (event_bus.py): the custom bus and the rules delivering lifecycle events
- `SiloProvisioning` (silo_provisioning.py): the silo template as an S3 asset and the CloudFormation
  service role silo tenants' stacks are created with
- `Identity` (identity.py): the tenant users' Cognito user pool and app client
- `Functions` (functions.py): one Lambda per FunctionSpec (shared layer and the engine layer where
  named, explicit role and log group, the isolated network of `Network.ISOLATED`: network.py) and
  the control-table stream trigger
- `TenantAccess` (tenant_access.py): the role every app API data call goes through
- `ControlApi` (control_api.py) and `AppApi` (app_api.py, with its REQUEST authorizer and WAF)
- `ReconcilerSchedule` (reconciler.py): the reconciler's schedule
- `PlatformParameters` (platform_parameters.py): `/<app>/<stage>/platform/...` in SSM
- `Monitoring` (monitoring.py): the operations dashboard, the alarms and their SNS topic

and grants.py, which grants each function's role the access its FunctionSpec declares.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from tenancy.contracts.plans import StagePlans

from ..topology import APP_API, CONTROL_API, FUNCTIONS, USER_POOL, ApiTrigger, AuthorizerTrigger, function
from .app_api import AppApi
from .concern import camel
from .control_api import ControlApi
from .event_bus import EventBusAndRules
from .functions import Functions
from .grants import TENANT_ACCESS_ENV, Targets, grant_functions, tenant_access_trusted
from .identity import Identity
from .monitoring import Monitoring
from .naming import Naming
from .platform_parameters import PlatformParameters
from .reconciler import ReconcilerSchedule
from .silo_provisioning import SiloProvisioning
from .storage import Storage
from .tables import Tables
from .tenant_access import TenantAccess


def stage_plans_setting(context: Any) -> str:
    """The context `plans` (this stage's changes to the shipped plans: a JSON object, or a string of
    one, e.g. `-c 'plans={"FREE":{"limits":{"users":10}}}'`), checked at synthesis and handed to the
    functions as the `PLANS` setting. Unknown tiers, limits or flags fail the synthesis."""
    if context is None or context == "":
        return ""
    raw = json.loads(context) if isinstance(context, str) else context
    return StagePlans.model_validate(raw).model_dump_json(exclude_defaults=True)


class TenancyStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        app_name: str,
        stage: str,
        silo_template_file: Path,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"Tenancy ({app_name}, stage {stage}): control plane and application plane",
            **kwargs,
        )
        self.app_name = app_name
        self.stage = stage
        naming = Naming(self, app_name, stage)
        _check_api_names()

        # --- data, events, silo tenants, tenant users ------------------------------------------
        tables = Tables(self, "Tables", naming=naming)
        storage = Storage(self, "Storage")
        bus = EventBusAndRules(self, "Events", naming=naming)
        silo = SiloProvisioning(self, "SiloProvisioning", naming=naming, template_file=silo_template_file)
        identity = Identity(self, "Identity", spec=USER_POOL, pool_name=naming.resource(USER_POOL.suffix))

        # --- functions ------------------------------------------------------------------------
        # Roles first: the tenant-access role trusts the execution roles of the functions declaring
        # Access.TENANT_DATA_AS_TENANT, and those functions get its ARN in their environment.
        functions = Functions(self, "Functions", naming=naming)
        tenant_access = TenantAccess(
            self,
            "TenantAccess",
            naming=naming,
            trusted=tenant_access_trusted(functions.roles),
            app_table=tables.app_table,
            usage_table=tables.usage_table,
            tenant_bucket=storage.tenant_bucket,
        )
        functions.add_functions(
            {
                "CONTROL_TABLE_NAME": tables.control_table.table_name,
                "APP_TABLE_NAME": tables.app_table.table_name,
                "IDEMPOTENCY_TABLE_NAME": tables.idempotency_table.table_name,
                "USAGE_TABLE_NAME": tables.usage_table.table_name,
                "EVENT_BUS_NAME": bus.event_bus.event_bus_name,
                "TENANT_BUCKET_NAME": storage.tenant_bucket.bucket_name,
                "SILO_TEMPLATE_URL": silo.template.http_url,
                "SILO_STACK_ROLE_ARN": silo.stack_role.role_arn,
                "USER_POOL_ID": identity.user_pool.user_pool_id,
                "USER_POOL_CLIENT_ID": identity.client.user_pool_client_id,
                TENANT_ACCESS_ENV: tenant_access.role.role_arn,
                "SECRETS_KMS_KEY_ID": tenant_access.secrets_key.key_arn,
                "PLANS": stage_plans_setting(self.node.try_get_context("plans")),
                "CARD_EXECUTOR_FUNCTION_NAME": naming.function(function("card_executor")),
            }
        )
        grant_functions(
            functions.roles,
            Targets(
                naming=naming,
                control_table=tables.control_table,
                app_table=tables.app_table,
                idempotency_table=tables.idempotency_table,
                usage_table=tables.usage_table,
                event_bus=bus.event_bus,
                tenant_bucket=storage.tenant_bucket,
                user_pool_arn=identity.user_pool.user_pool_arn,
                tenant_access_role=tenant_access.role,
                silo_stack_role=silo.stack_role,
                silo_template=silo.template,
                card_executor=functions.functions["card_executor"],
            ),
        )

        # --- triggers -------------------------------------------------------------------------
        control_api = ControlApi(self, "ControlPlaneApi", naming=naming, functions=functions.functions)
        functions.add_stream_sources(tables.by_spec)
        bus.add_rules(functions.functions, pool_bucket=storage.tenant_bucket)
        app_api = AppApi(
            self,
            "ApplicationPlaneApi",
            naming=naming,
            functions=functions.functions,
            cloud_watch_account=control_api.cloud_watch_account,
        )
        schedule = ReconcilerSchedule(
            self, "ReconcilerSchedule", naming=naming, functions=functions.functions
        )

        # --- service discovery: where the shared resources are ---------------------------------
        platform = PlatformParameters(
            self,
            "PlatformParameters",
            naming=naming,
            values={
                "app-table/name": tables.app_table.table_name,
                "app-table/arn": tables.app_table.table_arn,
                "control-table/name": tables.control_table.table_name,
                "usage-table/name": tables.usage_table.table_name,
                "pool-bucket/name": storage.tenant_bucket.bucket_name,
                "event-bus/name": bus.event_bus.event_bus_name,
                "event-bus/arn": bus.event_bus.event_bus_arn,
                "silo-template/url": silo.template.http_url,
                "user-pool/id": identity.user_pool.user_pool_id,
            },
        )

        # --- what the tests and the outputs read ----------------------------------------------
        self.control_table = tables.control_table
        self.app_table = tables.app_table
        self.idempotency_table = tables.idempotency_table
        self.usage_table = tables.usage_table
        self.tables = tables.by_spec
        self.access_logs_bucket = storage.access_logs_bucket
        self.tenant_bucket = storage.tenant_bucket
        self.event_bus = bus.event_bus
        self.silo_template = silo.template
        self.silo_stack_role = silo.stack_role
        self.user_pool = identity.user_pool
        self.user_pool_client = identity.client
        self.user_pool_risk_configuration = identity.risk_configuration
        self.runtime = functions.runtime
        self.layer = functions.layer
        self.engine_layer = functions.engine_layer
        self.isolated_network = functions.network
        self.functions = functions.functions
        self.roles = functions.roles
        self.tenant_access_role = tenant_access.role
        self.secrets_key = tenant_access.secrets_key
        self.apis: dict[str, apigw.RestApi] = {CONTROL_API: control_api.api, APP_API: app_api.api}
        self.request_validators: dict[str, apigw.RequestValidator] = {
            CONTROL_API: control_api.request_validator,
            APP_API: app_api.request_validator,
        }
        self.authorizers: dict[str, apigw.RequestAuthorizer] = app_api.authorizers
        self.web_acls: dict[str, wafv2.CfnWebACL] = {APP_API: app_api.web_acl}
        self.rules = {**bus.rules, **schedule.rules}
        self.dead_letter_queues: dict[str, sqs.Queue] = {
            **functions.dead_letter_queues,
            **bus.dead_letter_queues,
            **schedule.dead_letter_queues,
        }
        self.platform_parameters = platform.parameters

        # --- monitoring: the dashboard, and alarms on every function and dead-letter queue -------
        monitoring = Monitoring(
            self,
            "Monitoring",
            naming=naming,
            functions=self.functions,
            apis=self.apis,
            dead_letter_queues={
                **{f"{name}-stream": q for name, q in functions.dead_letter_queues.items()},
                **{f"{name}-failures": q for name, q in bus.dead_letter_queues.items()},
                **{f"{name}-delivery": q for name, q in bus.delivery_dead_letter_queues.items()},
                **{f"{name}-schedule": q for name, q in schedule.dead_letter_queues.items()},
            },
        )
        self.dashboard = monitoring.dashboard
        self.alarms = monitoring.alarms
        self.alarm_topic = monitoring.alarm_topic

        # --- outputs --------------------------------------------------------------------------
        for api_name, api in self.apis.items():
            cdk.CfnOutput(self, f"{camel(api_name)}ApiUrl", value=api.url, description="REST API base URL")
        cdk.CfnOutput(self, "ControlTableName", value=self.control_table.table_name)
        cdk.CfnOutput(self, "AppTableName", value=self.app_table.table_name)
        cdk.CfnOutput(self, "EventBusName", value=self.event_bus.event_bus_name)
        cdk.CfnOutput(self, "TenantBucketName", value=self.tenant_bucket.bucket_name)
        cdk.CfnOutput(self, "SiloTemplateUrl", value=self.silo_template.http_url)
        cdk.CfnOutput(self, "SiloStackRoleArn", value=self.silo_stack_role.role_arn)
        cdk.CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=self.user_pool_client.user_pool_client_id)
        cdk.CfnOutput(self, "TenantAccessRoleArn", value=self.tenant_access_role.role_arn)


def _check_api_names() -> None:
    """Every API trigger and authorizer names one of the two APIs the stack builds."""
    for spec in FUNCTIONS:
        if isinstance(spec.trigger, ApiTrigger | AuthorizerTrigger) and spec.trigger.api not in (
            CONTROL_API,
            APP_API,
        ):
            raise ValueError(f"{spec.name}: no API {spec.trigger.api!r} (only {CONTROL_API!r}, {APP_API!r})")
