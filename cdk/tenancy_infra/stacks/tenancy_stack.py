"""TenancyStack: everything one `<app>-<stage>` deployment needs, driven by `tenancy_infra.topology`.

Tables from CONTROL_TABLE / APP_TABLE, one Lambda per FunctionSpec (shared layer, explicit role and
log group), each function's trigger (REST API routes, the Lambda REQUEST authorizer, the
control-table stream, EventBridge rules on the custom bus, schedules), the shared tenant bucket, what
the tenant provisioner needs for silo tenants (the silo template as an S3 asset and the
CloudFormation service role that creates those stacks), the tenant users' Cognito user pool
(identity.py) and the tenant-access role every app API data call goes through (tenant_access.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tenancy.common.names import resource_name
from tenancy_infra import paths
from tenancy_infra.stacks import apis
from tenancy_infra.stacks.cfn import cfn as _cfn
from tenancy_infra.stacks.cfn import default_policy as _default_policy
from tenancy_infra.stacks.identity import build_identity
from tenancy_infra.stacks.nag import acknowledge, acknowledge_wildcard
from tenancy_infra.stacks.tables import ITEM_READ_WRITE_ACTIONS, build_table
from tenancy_infra.stacks.tenant_access import (
    PRINCIPAL_TENANT_ID,
    TENANT_OBJECT_PREFIX,
    build_tenant_access_role,
)
from tenancy_infra.topology import (
    APP_TABLE,
    CONTROL_TABLE,
    FUNCTIONS,
    IDEMPOTENCY_TABLE,
    LAMBDA_PYTHON,
    USER_POOL,
    ApiTrigger,
    AuthorizerTrigger,
    FunctionSpec,
    RuleTrigger,
    ScheduleTrigger,
    StreamTrigger,
    TableSpec,
)
from tenancy_infra.topology import function as function_spec

METRICS_NAMESPACE = "Tenancy"
LOG_LEVEL = "INFO"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DLQ_RETENTION = Duration.days(14)
POOL_PREFIX_PATTERN = "tenants/*"  # tenancy.names.pool_prefix(): tenants/<tenantId>/
# The function whose execution role may assume the tenant-access role: those that read its ARN.
TENANT_ACCESS_ENV = "TENANT_ACCESS_ROLE_ARN"
# Cognito admin actions on the tenant users' pool.
APP_API_USER_ACTIONS = (
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:AdminGetUser",
)
# The tenant provisioner in a silo tenant's own table: write the first admin, find and remove users.
PROVISIONER_SILO_ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
PROVISIONER_USER_ACTIONS = (
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminGetUser",
)


def stack_name(app_name: str, stage: str) -> str:
    """`<app>-<stage>`: the one stack of a deployment."""
    return f"{app_name}-{stage}"


def lambda_runtime() -> lambda_.Runtime:
    """topology.LAMBDA_PYTHON as a Runtime constant of the pinned aws-cdk-lib (e.g. PYTHON_3_13)."""
    attribute = "PYTHON_" + LAMBDA_PYTHON.replace(".", "_")
    runtime = getattr(lambda_.Runtime, attribute, None)
    if not isinstance(runtime, lambda_.Runtime):
        raise ValueError(f"aws-cdk-lib has no lambda Runtime.{attribute} (topology.LAMBDA_PYTHON)")
    return runtime


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[_\-]", name) if part)


def event_pattern(pattern: dict[str, Any]) -> events.EventPattern:
    """A topology pattern (`{"source": [...], "detail-type": [...]}`) as an EventPattern, key for key."""
    fields = {"source", "detail_type", "account", "region", "detail", "id", "resources", "time", "version"}
    kwargs: dict[str, Any] = {}
    for key, value in pattern.items():
        attribute = key.replace("-", "_")
        if attribute not in fields:
            raise ValueError(f"unsupported EventBridge pattern field {key!r}")
        kwargs[attribute] = value
    return events.EventPattern(**kwargs)


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
        self.runtime = lambda_runtime()

        # --- data -----------------------------------------------------------------------------
        self.control_table = build_table(
            self,
            "ControlTable",
            CONTROL_TABLE,
            table_name=self.name(CONTROL_TABLE.suffix),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.app_table = build_table(
            self,
            "AppTable",
            APP_TABLE,
            table_name=self.name(APP_TABLE.suffix),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.idempotency_table = build_table(
            self,
            "IdempotencyTable",
            IDEMPOTENCY_TABLE,
            table_name=self.name(IDEMPOTENCY_TABLE.suffix),
            removal_policy=RemovalPolicy.DESTROY,  # replayable answers that expire within a day
        )
        self.tables: dict[TableSpec, dynamodb.Table] = {
            CONTROL_TABLE: self.control_table,
            APP_TABLE: self.app_table,
            IDEMPOTENCY_TABLE: self.idempotency_table,
        }

        self.access_logs_bucket = s3.Bucket(
            self,
            "AccessLogsBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,  # server access log targets cannot use SSE-KMS
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Pooled tenants share this bucket under tenants/<tenantId>/ (no explicit name: global namespace).
        self.tenant_bucket = s3.Bucket(
            self,
            "PoolBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="tenant-bucket/",
            removal_policy=RemovalPolicy.RETAIN,
        )

        self.event_bus = events.EventBus(self, "EventBus", event_bus_name=self.name("bus"))

        # --- silo tenants: the template (an S3 asset) and the role CloudFormation creates them with
        self.silo_template = s3_assets.Asset(self, "SiloTemplate", path=str(silo_template_file))
        self.silo_stack_role = self._silo_stack_role()

        # --- tenant users -----------------------------------------------------------------------
        identity = build_identity(self, USER_POOL, pool_name=self.name(USER_POOL.suffix))
        self.user_pool: cognito.UserPool = identity.user_pool
        self.user_pool_client: cognito.UserPoolClient = identity.client
        self.user_pool_risk_configuration = identity.risk_configuration

        # --- functions ------------------------------------------------------------------------
        self.layer = lambda_.LayerVersion(
            self,
            "SharedLayer",
            layer_version_name=self.name("shared"),
            description="tenancy shared library and its pinned dependencies (built by `make build`)",
            code=lambda_.Code.from_asset(str(paths.layer_dir()), exclude=[".built"]),
            compatible_runtimes=[self.runtime],
            compatible_architectures=[lambda_.Architecture.X86_64],
        )
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        self.apis: dict[str, apigw.RestApi] = {}
        self.request_validators: dict[str, apigw.RequestValidator] = {}
        self.authorizers: dict[str, apigw.RequestAuthorizer] = {}
        self.web_acls: dict[str, Any] = {}
        self.rules: dict[str, events.Rule] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        grants: dict[str, Callable[[iam.Role], None]] = {
            "tenant_api": self._grant_tenant_api,
            "provisioning": self._grant_provisioning,
            "tenant_provisioner": self._grant_tenant_provisioner,
            "provisioning_completion": self._grant_provisioning_completion,
            "authorizer": self._grant_authorizer,
            "app_api": self._grant_app_api,
            "reconciler": self._grant_reconciler,
        }
        for spec in FUNCTIONS:
            if spec.name not in grants:
                raise ValueError(f"function {spec.name!r} has no permissions declared in TenancyStack")
            self.roles[spec.name] = self._execution_role(spec)
        # Roles first: the tenant-access role trusts the execution roles of the functions that read
        # its ARN, and those functions get the ARN in their environment.
        self.tenant_access_role = self._tenant_access_role()
        for spec in FUNCTIONS:
            self._function(spec)
            grants[spec.name](self.roles[spec.name])
        for spec in FUNCTIONS:
            self._connect(spec, self.functions[spec.name])
        self._check_authorizers()

        # --- outputs --------------------------------------------------------------------------
        for api_name, api in self.apis.items():
            cdk.CfnOutput(self, f"{_camel(api_name)}ApiUrl", value=api.url, description="REST API base URL")
        cdk.CfnOutput(self, "ControlTableName", value=self.control_table.table_name)
        cdk.CfnOutput(self, "AppTableName", value=self.app_table.table_name)
        cdk.CfnOutput(self, "EventBusName", value=self.event_bus.event_bus_name)
        cdk.CfnOutput(self, "TenantBucketName", value=self.tenant_bucket.bucket_name)
        cdk.CfnOutput(self, "SiloTemplateUrl", value=self.silo_template.http_url)
        cdk.CfnOutput(self, "SiloStackRoleArn", value=self.silo_stack_role.role_arn)
        cdk.CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=self.user_pool_client.user_pool_client_id)
        cdk.CfnOutput(self, "TenantAccessRoleArn", value=self.tenant_access_role.role_arn)

    # --- naming -----------------------------------------------------------------------------

    def name(self, suffix: str) -> str:
        return resource_name(self.app_name, self.stage, suffix)

    @property
    def silo_name_prefix(self) -> str:
        """Silo stacks are `<app>-<stage>-tenant-<tenantId>` (tenancy.names.silo_stack_name); their
        bucket and table names are generated by CloudFormation from the stack name."""
        return self.name("tenant-")

    def _resource_env(self) -> dict[str, str]:
        return {
            "CONTROL_TABLE_NAME": self.control_table.table_name,
            "APP_TABLE_NAME": self.app_table.table_name,
            "IDEMPOTENCY_TABLE_NAME": self.idempotency_table.table_name,
            "EVENT_BUS_NAME": self.event_bus.event_bus_name,
            "TENANT_BUCKET_NAME": self.tenant_bucket.bucket_name,
            "SILO_TEMPLATE_URL": self.silo_template.http_url,
            "SILO_STACK_ROLE_ARN": self.silo_stack_role.role_arn,
            "USER_POOL_ID": self.user_pool.user_pool_id,
            "USER_POOL_CLIENT_ID": self.user_pool_client.user_pool_client_id,
            TENANT_ACCESS_ENV: self.tenant_access_role.role_arn,
        }

    # --- functions --------------------------------------------------------------------------

    def _function_name(self, spec: FunctionSpec) -> str:
        return self.name(spec.name.replace("_", "-"))

    def _execution_role(self, spec: FunctionSpec) -> iam.Role:
        return iam.Role(
            self,
            f"{_camel(spec.name)}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {self._function_name(spec)}",
        )

    def _function(self, spec: FunctionSpec) -> lambda_.Function:
        construct_id = _camel(spec.name)
        function_name = self._function_name(spec)
        resources = self._resource_env()
        unknown = [name for name in spec.environment if name not in resources]
        if unknown:
            raise ValueError(f"function {spec.name!r} reads {unknown}, which TenancyStack does not provide")
        environment = {name: resources[name] for name in spec.environment}
        environment.update(
            APP_NAME=self.app_name,
            STAGE=self.stage,
            POWERTOOLS_SERVICE_NAME=spec.name,
            POWERTOOLS_METRICS_NAMESPACE=METRICS_NAMESPACE,
            POWERTOOLS_LOG_LEVEL=LOG_LEVEL,
        )
        role = self.roles[spec.name]
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            construct_id,
            function_name=function_name,
            description=spec.description,
            runtime=self.runtime,
            architecture=lambda_.Architecture.X86_64,
            code=lambda_.Code.from_asset(
                str(paths.function_code_dir(spec.name)), exclude=["__pycache__", "*.pyc"]
            ),
            handler=spec.handler,
            timeout=Duration.seconds(spec.timeout_seconds),
            memory_size=spec.memory_mb,
            layers=[self.layer],
            tracing=lambda_.Tracing.ACTIVE,
            role=role,
            log_group=log_group,
            environment=environment,
        )
        self.functions[spec.name] = function
        acknowledge(
            _cfn(function),
            "AwsSolutions-L1",
            f"python{LAMBDA_PYTHON} rather than the newest runtime: the layer ships bytecode compiled by "
            "the runtime's own interpreter, which the build needs (Lambda cannot write bytecode to /opt, "
            "so without it every cold start compiles the layer again, about 300 ms), and this "
            "toolchain has python3.13. It is a supported runtime; move topology.LAMBDA_PYTHON and the "
            "Makefile together where the newer interpreter is available.",
        )
        star_reason = (
            "xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) do not support "
            "resource-level permissions"
        )
        if isinstance(spec.trigger, StreamTrigger):
            star_reason += ", nor does dynamodb:ListStreams, which the DynamoDB event source needs"
        acknowledge_wildcard(_default_policy(role), "Resource", "*", star_reason + ".")
        return function

    def _connect(self, spec: FunctionSpec, function: lambda_.Function) -> None:
        trigger = spec.trigger
        if isinstance(trigger, ApiTrigger):
            self._api_routes(trigger, function)
        elif isinstance(trigger, AuthorizerTrigger):
            self._authorizer(spec.name)
        elif isinstance(trigger, StreamTrigger):
            self._stream_source(spec, trigger, function)
        elif isinstance(trigger, RuleTrigger):
            self._rule_target(spec, trigger, function)
        elif isinstance(trigger, ScheduleTrigger):
            self._schedule(spec, trigger, function)
        else:  # pragma: no cover - the Trigger union is closed
            raise TypeError(f"unsupported trigger {trigger!r}")

    def _dead_letter_queue(self, construct_id: str, purpose: str) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,  # EventBridge cannot send to SSE-KMS (aws/sqs)
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        acknowledge(
            _cfn(queue),
            "AwsSolutions-SQS3",
            f"This queue is itself the dead-letter queue for {purpose}; messages land here only after "
            "every retry failed and are inspected and redriven by an operator.",
        )
        return queue

    def _stream_source(self, spec: FunctionSpec, trigger: StreamTrigger, function: lambda_.Function) -> None:
        table = self.tables.get(trigger.table)
        if table is None or trigger.table.stream is None:
            raise ValueError(f"{spec.name}: the stream trigger's table has no stream")
        dlq = self._dead_letter_queue(
            f"{_camel(spec.name)}StreamDlq",
            f"the {trigger.table.suffix} table stream records {spec.name} failed",
        )
        self.dead_letter_queues[spec.name] = dlq
        function.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=trigger.batch_size,
                max_batching_window=Duration.seconds(trigger.max_batching_window_seconds),
                bisect_batch_on_error=trigger.bisect_batch_on_error,
                retry_attempts=trigger.retry_attempts,
                report_batch_item_failures=trigger.report_batch_item_failures,
                on_failure=sources.SqsDlq(dlq),
            )
        )

    def _rule_target(self, spec: FunctionSpec, trigger: RuleTrigger, function: lambda_.Function) -> None:
        construct_id = _camel(spec.name)
        delivery_dlq = self._dead_letter_queue(
            f"{construct_id}DeliveryDlq", f"events the {trigger.rule} rule could not deliver to {spec.name}"
        )
        failure_dlq = self._dead_letter_queue(
            f"{construct_id}FailureDlq", f"events {spec.name} still failed after its async retries"
        )
        self.dead_letter_queues[spec.name] = failure_dlq
        max_event_age = Duration.seconds(trigger.max_event_age_seconds)
        rule = events.Rule(
            self,
            f"{trigger.rule}Rule",
            rule_name=self.name(trigger.rule),
            description=f"{', '.join(trigger.detail_types)} -> {spec.name}",
            event_bus=self.event_bus,
            event_pattern=event_pattern(trigger.pattern(self.app_name)),
        )
        # EventBridge retries only failed deliveries (throttling, missing permission); the function's
        # own errors are retried by Lambda's asynchronous invocation, configured below.
        rule.add_target(
            targets.LambdaFunction(
                function,
                retry_attempts=trigger.retry_attempts,
                max_event_age=max_event_age,
                dead_letter_queue=delivery_dlq,
            )
        )
        function.configure_async_invoke(
            retry_attempts=trigger.async_retry_attempts,
            max_event_age=max_event_age,
            on_failure=destinations.SqsDestination(failure_dlq),
        )
        self.rules[spec.name] = rule

    def _schedule(self, spec: FunctionSpec, trigger: ScheduleTrigger, function: lambda_.Function) -> None:
        dlq = self._dead_letter_queue(
            f"{_camel(spec.name)}ScheduleDlq",
            f"scheduled invocations of {spec.name} that could not be delivered",
        )
        self.dead_letter_queues[spec.name] = dlq
        rule = events.Rule(
            self,
            f"{trigger.rule}Rule",
            rule_name=self.name(trigger.rule),
            description=f"every {trigger.rate_minutes} minutes -> {spec.name}",
            schedule=events.Schedule.rate(Duration.minutes(trigger.rate_minutes)),
        )
        rule.add_target(
            targets.LambdaFunction(function, retry_attempts=trigger.retry_attempts, dead_letter_queue=dlq)
        )
        # A missed run is covered by the next one: no async retries of a failed reconciliation.
        function.configure_async_invoke(retry_attempts=0)
        self.rules[spec.name] = rule

    def _api(self, api_name: str, authorization: apis.Authorization) -> apigw.RestApi:
        if api_name in self.apis:
            return self.apis[api_name]
        # The account-level CloudWatch Logs role comes with the first API; later APIs deploy after it.
        first = next(iter(self.apis.values()), None)
        # `<Name>Api`, or `<Name>RestApi` where a function already owns that id (app -> app_api).
        construct_id = f"{_camel(api_name)}Api"
        if self.node.try_find_child(construct_id) is not None:
            construct_id = f"{_camel(api_name)}RestApi"
        api = apis.build_rest_api(
            self,
            construct_id,
            rest_api_name=self.name(f"{api_name}-api"),
            api_name=api_name,
            stage=self.stage,
            authorization=authorization,
            cloud_watch_account=apis.cloud_watch_account(first) if first is not None else None,
        )
        if authorization == "CUSTOM":
            # Tenant-facing: reachable by anyone on the internet, so it sits behind a WAF web ACL.
            self.web_acls[api_name] = apis.build_web_acl(
                self, f"{construct_id}WebAcl", name=self.name(f"{api_name}-api"), api=api
            )
        self.request_validators[api_name] = apis.request_validator(api)
        self.apis[api_name] = api
        return api

    def _api_routes(self, trigger: ApiTrigger, function: lambda_.Function) -> None:
        authorizer: apigw.RequestAuthorizer | None = None
        if trigger.authorization == "CUSTOM":
            if trigger.authorizer is None:
                raise ValueError(f"the {trigger.api} API's CUSTOM routes name no authorizer")
            authorizer_trigger = function_spec(trigger.authorizer).trigger
            if not isinstance(authorizer_trigger, AuthorizerTrigger) or authorizer_trigger.api != trigger.api:
                raise ValueError(f"{trigger.authorizer!r} is not an authorizer of the {trigger.api} API")
            authorizer = self._authorizer(trigger.authorizer)
        elif trigger.authorization != "IAM" or trigger.authorizer is not None:
            raise ValueError(f"unsupported API authorization {trigger.authorization!r}")
        api = self._api(trigger.api, trigger.authorization)
        integration = apigw.LambdaIntegration(function, proxy=True, allow_test_invoke=False)
        for route in trigger.routes:
            apis.add_route(
                api, route, integration, authorization=trigger.authorization, authorizer=authorizer
            )

    def _authorizer(self, name: str) -> apigw.RequestAuthorizer:
        """The REQUEST authorizer backed by function `name` (built once; API Gateway binds it to the
        API of the first method that uses it)."""
        if name not in self.authorizers:
            trigger = function_spec(name).trigger
            if not isinstance(trigger, AuthorizerTrigger):
                raise ValueError(f"function {name!r} is not an authorizer")
            self.authorizers[name] = apis.build_request_authorizer(
                self,
                f"{_camel(name)}RequestAuthorizer",
                function=self.functions[name],
                trigger=trigger,
                authorizer_name=self.name(name.replace("_", "-")),
            )
        return self.authorizers[name]

    def _check_authorizers(self) -> None:
        """Every authorizer guards at least one route of its API (CDK rejects a dangling one late)."""
        used = {
            (spec.trigger.authorizer, spec.trigger.api)
            for spec in FUNCTIONS
            if isinstance(spec.trigger, ApiTrigger) and spec.trigger.authorization == "CUSTOM"
        }
        for spec in FUNCTIONS:
            if isinstance(spec.trigger, AuthorizerTrigger) and (spec.name, spec.trigger.api) not in used:
                raise ValueError(f"authorizer {spec.name!r} guards no route of the {spec.trigger.api} API")

    # --- permissions ------------------------------------------------------------------------

    def _grant_items(self, table: dynamodb.Table, role: iam.Role, why: str) -> None:
        """Item read/write on the table and its GSIs, without Scan."""
        table.grant(role, *ITEM_READ_WRITE_ACTIONS)
        acknowledge_wildcard(
            _default_policy(role),
            "Resource",
            f"{table.table_arn}/index/*",
            f"Item access to the GSIs of this one table only (`index/*` of its ARN): {why}.",
        )

    def _grant_tenant_api(self, role: iam.Role) -> None:
        self._grant_items(self.control_table, role, "tenants are listed through GSI1 and GSI2")
        # Powertools idempotency: read, claim (conditional put), complete and release one record.
        self.idempotency_table.grant(
            role, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
        )

    def _grant_provisioning(self, role: iam.Role) -> None:
        # PENDING -> PROVISIONING; reading the stream comes with the event source.
        self._grant_items(self.control_table, role, "Table.grant always covers the table's GSIs")
        self.event_bus.grant_put_events_to(role)

    def _grant_provisioning_completion(self, role: iam.Role) -> None:
        self._grant_items(self.control_table, role, "Table.grant always covers the table's GSIs")

    def _grant_authorizer(self, role: iam.Role) -> None:
        """The tenant's status and tier (TENANT#<id>/METADATA in the control table), then the user's
        own item in the tenant's partition through the tenant-access role; no other data."""
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadTenantStatus", actions=["dynamodb:GetItem"], resources=[self.control_table.table_arn]
            )
        )
        self._grant_tenant_data_access(role, "the authorizer reads the user item of each token's tenant")

    def _grant_app_api(self, role: iam.Role) -> None:
        """No data permission of its own: every item and object call goes through the tenant-access
        role, assumed per request with the TenantId session tag of the verified token."""
        self._grant_tenant_data_access(role, "the app API reads the route of the tenant of each request")
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ManageTenantUsers",
                actions=list(APP_API_USER_ACTIONS),
                resources=[self.user_pool.user_pool_arn],
            )
        )

    def _grant_tenant_data_access(self, role: iam.Role, why: str) -> None:
        """Tenant data only as the tenant: assume the tenant-access role (with its TenantId session
        tag; the role trusts the functions whose topology environment names its ARN) and read the
        tenant's route to find its table."""
        role.add_to_policy(
            iam.PolicyStatement(
                sid="AssumeTenantAccessRole",
                actions=["sts:AssumeRole", "sts:TagSession"],
                resources=[self.tenant_access_role.role_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadTenantRoutes",
                actions=["ssm:GetParameter", "ssm:GetParametersByPath"],
                resources=[self._routes_arn()],
            )
        )
        acknowledge_wildcard(
            _default_policy(role),
            "Resource",
            self._routes_arn(),
            f"Tenant routes live under /<app>/<stage>/tenants/<tenantId>/; {why} "
            "(read-only: GetParameter and GetParametersByPath).",
        )

    def _tenant_access_role(self) -> iam.Role:
        trusted = [self.roles[spec.name] for spec in FUNCTIONS if TENANT_ACCESS_ENV in spec.environment]
        role = build_tenant_access_role(
            self,
            "TenantAccessRole",
            role_name=self.name("tenant-access"),
            trusted=trusted,
            table_arns=[self.app_table.table_arn, self._tenant_silo_tables_arn()],
            object_arns=[
                self.tenant_bucket.arn_for_objects(TENANT_OBJECT_PREFIX),
                f"{self._silo_buckets_arn()}/{TENANT_OBJECT_PREFIX}",
            ],
        )
        policy = _default_policy(role)
        acknowledge_wildcard(
            policy,
            "Resource",
            self._tenant_silo_tables_arn(),
            "The session's own silo table: silo tables are named by CloudFormation "
            "<app>-<stage>-tenant-<tenantId>-Table-<suffix>, and ${aws:PrincipalTag/TenantId} pins the "
            "tenant; item access is further limited to the TENANT#<tenantId> partition (LeadingKeys).",
        )
        acknowledge_wildcard(
            policy,
            "Resource",
            self.tenant_bucket.arn_for_objects(TENANT_OBJECT_PREFIX),
            "Objects under the session tenant's own prefix tenants/${aws:PrincipalTag/TenantId}/ of the "
            "pool bucket: the wildcard covers that one tenant's objects only.",
        )
        acknowledge_wildcard(
            policy,
            "Resource",
            f"{self._silo_buckets_arn()}/{TENANT_OBJECT_PREFIX}",
            "Silo bucket names are generated by CloudFormation (lower-cased, truncated), so only their "
            "<app>-<stage>-tenant- prefix is known; objects are limited to the session tenant's prefix.",
        )
        return role

    def _grant_reconciler(self, role: iam.Role) -> None:
        # Lists stuck tenants through the status index, moves them, re-publishes lifecycle requests.
        self._grant_items(self.control_table, role, "Table.grant always covers the table's GSIs")
        self.event_bus.grant_put_events_to(role)

    def _grant_tenant_provisioner(self, role: iam.Role) -> None:
        policy = _default_policy(role)  # exists: the function's log group grant created it
        self.event_bus.grant_put_events_to(role)
        # Pool tenants: purge the partition (Query + BatchWriteItem) in the shared app table, and the
        # tenants/<tenantId>/ prefix in the shared bucket.
        self._grant_items(self.app_table, role, "Table.grant always covers the table's GSIs")
        self.tenant_bucket.grant_read_write(role, POOL_PREFIX_PATTERN)
        prefix_reason = (
            "Bucket.grant_read_write scoped to the pool prefix tenants/*: the provisioner creates and "
            "purges tenants/<tenantId>/ for any pooled tenant"
        )
        acknowledge_wildcard(
            policy, "Resource", self.tenant_bucket.arn_for_objects(POOL_PREFIX_PATTERN), prefix_reason + "."
        )
        for action, meaning in (
            ("s3:GetObject*", "object reads"),
            ("s3:GetBucket*", "bucket metadata reads"),
            ("s3:List*", "listing a prefix before purging it"),
            ("s3:DeleteObject*", "purging an offboarded tenant's objects"),
            ("s3:Abort*", "aborting its own multipart uploads"),
        ):
            acknowledge_wildcard(
                policy, "Action", action, f"{prefix_reason}; this CDK action group stands for {meaning}."
            )
        # Silo tenants' own tables: the first admin's USER#/EMAIL# items at onboarding, the tenant's
        # users (Query on USER#) at offboarding. Items only, no Scan, no index.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="SiloTableItems",
                actions=list(PROVISIONER_SILO_ITEM_ACTIONS),
                resources=[self._silo_tables_arn()],
            )
        )
        # Tenant users: the first admin at onboarding; disable and delete the users at offboarding.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ManageTenantUsers",
                actions=list(PROVISIONER_USER_ACTIONS),
                resources=[self.user_pool.user_pool_arn],
            )
        )
        # Tenant routes in SSM Parameter Store: /<app>/<stage>/tenants/<tenantId>/...
        role.add_to_policy(
            iam.PolicyStatement(
                sid="TenantRoutes",
                actions=[
                    "ssm:PutParameter",
                    "ssm:DeleteParameter",
                    "ssm:DeleteParameters",
                    "ssm:GetParametersByPath",
                ],
                resources=[self._routes_arn()],
            )
        )
        # Silo tenants: one stack each, created only with the silo service role, from the silo template.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="CreateSiloStacks",
                actions=["cloudformation:CreateStack"],
                resources=[self._silo_stacks_arn()],
                conditions={"StringEquals": {"cloudformation:RoleArn": self.silo_stack_role.role_arn}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ManageSiloStacks",
                actions=[
                    "cloudformation:DescribeStacks",
                    "cloudformation:DescribeStackEvents",
                    "cloudformation:DeleteStack",
                    # CreateStack is called with stack Tags (tag-on-create authorization).
                    "cloudformation:TagResource",
                ],
                resources=[self._silo_stacks_arn()],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PassSiloStackRole",
                actions=["iam:PassRole"],
                resources=[self.silo_stack_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
            )
        )
        # The provisioner writes the prefix marker into a silo bucket and empties it (objects and
        # versions) before deleting the stack: CloudFormation cannot delete a non-empty bucket.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="SiloBucketListing",
                actions=["s3:ListBucket", "s3:ListBucketVersions"],
                resources=[self._silo_buckets_arn()],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="SiloBucketObjects",
                actions=["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[f"{self._silo_buckets_arn()}/*"],
            )
        )
        # CloudFormation reads TemplateURL with the caller's credentials: this one object only.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadSiloTemplate",
                actions=["s3:GetObject"],
                resources=[self.silo_template.bucket.arn_for_objects(self.silo_template.s3_object_key)],
            )
        )
        acknowledge_wildcard(
            policy,
            "Resource",
            self._routes_arn(),
            "Tenant routes live under /<app>/<stage>/tenants/<tenantId>/; the provisioner writes and "
            "deletes the route of whichever tenant it provisions.",
        )
        acknowledge_wildcard(
            policy,
            "Resource",
            self._silo_tables_arn(),
            "Silo tables are named by CloudFormation from the tenant's stack name (<app>-<stage>-tenant-"
            "<tenantId>-Table-<suffix>); the provisioner writes a new silo tenant's first admin and reads "
            "an offboarded tenant's users, for any silo tenant. Item actions only, no Scan.",
        )
        acknowledge_wildcard(
            policy,
            "Resource",
            self._silo_stacks_arn(),
            "One silo stack per tenant, named <app>-<stage>-tenant-<tenantId>; the stack id suffix is "
            "assigned by CloudFormation. CreateStack additionally requires the silo service role.",
        )
        acknowledge_wildcard(
            policy,
            "Resource",
            self._silo_buckets_arn(),
            "Silo bucket names are generated by CloudFormation from the tenant's stack name; listing "
            "is needed to empty a silo bucket before its stack is deleted.",
        )
        acknowledge_wildcard(
            policy,
            "Resource",
            f"{self._silo_buckets_arn()}/*",
            "Objects of silo buckets (named by CloudFormation from the tenant's stack name): the "
            "provisioner writes the tenant marker and empties the bucket before deleting the stack.",
        )

    def _routes_arn(self) -> str:
        return self.format_arn(
            service="ssm", resource="parameter", resource_name=f"{self.app_name}/{self.stage}/tenants/*"
        )

    def _silo_stacks_arn(self) -> str:
        return self.format_arn(
            service="cloudformation", resource="stack", resource_name=f"{self.silo_name_prefix}*/*"
        )

    def _silo_buckets_arn(self) -> str:
        return f"arn:{cdk.Aws.PARTITION}:s3:::{self.silo_name_prefix}*"

    def _silo_tables_arn(self) -> str:
        return self.format_arn(
            service="dynamodb", resource="table", resource_name=f"{self.silo_name_prefix}*"
        )

    def _tenant_silo_tables_arn(self) -> str:
        """The silo table of the tenant whose TenantId tag the session carries (CloudFormation names it
        `<stack>-Table-<suffix>`, the stack being `<app>-<stage>-tenant-<tenantId>`)."""
        return self.format_arn(
            service="dynamodb",
            resource="table",
            resource_name=f"{self.silo_name_prefix}{PRINCIPAL_TENANT_ID}-*",
        )

    def _silo_stack_role(self) -> iam.Role:
        """The service role CloudFormation uses for silo stacks: create, configure and delete the silo
        bucket (and its SSL-only policy) and table, nothing else, and only under the silo name prefix.
        Table SSE uses the AWS managed key aws/dynamodb, whose key policy already lets DynamoDB use it
        for callers in this account, so no KMS permission is needed."""
        role = iam.Role(
            self,
            "SiloStackRole",
            assumed_by=iam.ServicePrincipal("cloudformation.amazonaws.com"),
            description=f"CloudFormation service role for {self.silo_name_prefix}<tenantId> stacks",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="SiloBuckets",
                actions=[
                    "s3:CreateBucket",
                    "s3:DeleteBucket",
                    "s3:ListBucket",
                    "s3:GetBucketAcl",
                    "s3:GetBucketTagging",
                    "s3:PutBucketTagging",
                    "s3:GetEncryptionConfiguration",
                    "s3:PutEncryptionConfiguration",
                    "s3:GetBucketPublicAccessBlock",
                    "s3:PutBucketPublicAccessBlock",
                    "s3:GetBucketOwnershipControls",
                    "s3:PutBucketOwnershipControls",
                    "s3:GetBucketPolicy",
                    "s3:PutBucketPolicy",
                    "s3:DeleteBucketPolicy",
                ],
                resources=[self._silo_buckets_arn()],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="SiloTables",
                actions=[
                    "dynamodb:CreateTable",
                    "dynamodb:DeleteTable",
                    "dynamodb:DescribeTable",
                    "dynamodb:UpdateTable",
                    "dynamodb:DescribeTimeToLive",
                    "dynamodb:UpdateTimeToLive",
                    "dynamodb:DescribeContinuousBackups",
                    "dynamodb:UpdateContinuousBackups",
                    "dynamodb:DescribeContributorInsights",
                    "dynamodb:DescribeKinesisStreamingDestination",
                    "dynamodb:GetResourcePolicy",
                    "dynamodb:ListTagsOfResource",
                    "dynamodb:TagResource",
                    "dynamodb:UntagResource",
                ],
                resources=[self._silo_tables_arn()],
            )
        )
        policy = _default_policy(role)
        acknowledge_wildcard(
            policy,
            "Resource",
            self._silo_buckets_arn(),
            "Silo bucket names are generated by CloudFormation from the stack name, so they are only "
            "known by their `<app>-<stage>-tenant-` prefix; actions are limited to bucket lifecycle.",
        )
        acknowledge_wildcard(
            policy,
            "Resource",
            self._silo_tables_arn(),
            "Silo table names are generated by CloudFormation from the stack name, so they are only "
            "known by their `<app>-<stage>-tenant-` prefix; actions are limited to table lifecycle.",
        )
        return role
