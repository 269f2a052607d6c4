"""Functions: one Lambda per topology FunctionSpec with the shared layer (and the layers its spec
names: Layer.ENGINE), its own execution role and log group, its network (Network.ISOLATED: the
IsolatedNetwork's subnets and no-egress security group), and the DynamoDB stream triggers (with
their dead-letter queues).

The other triggers are wired by the concern that owns their source: API routes by ControlApi and
AppApi, EventBridge rules by EventBusAndRules, the schedule by ReconcilerSchedule.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tenancy.common.names import METRICS_NAMESPACE

from .. import paths
from ..topology import FUNCTIONS, LAMBDA_PYTHON, FunctionSpec, Layer, Network, StreamTrigger, TableSpec
from .cfn import cfn, default_policy
from .concern import Concern, camel
from .nag import acknowledge, acknowledge_wildcard
from .naming import Naming
from .network import IsolatedNetwork

LOG_LEVEL = "INFO"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DLQ_RETENTION = Duration.days(14)
# What Lambda does with the execution role to attach a function to a VPC's subnets (its ENIs): the
# actions of the AWSLambdaVPCAccessExecutionRole managed policy.
VPC_ATTACHMENT_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


def lambda_runtime() -> lambda_.Runtime:
    """topology.LAMBDA_PYTHON as a Runtime constant of the pinned aws-cdk-lib (e.g. PYTHON_3_13)."""
    attribute = "PYTHON_" + LAMBDA_PYTHON.replace(".", "_")
    runtime = getattr(lambda_.Runtime, attribute, None)
    if not isinstance(runtime, lambda_.Runtime):
        raise ValueError(f"aws-cdk-lib has no lambda Runtime.{attribute} (topology.LAMBDA_PYTHON)")
    return runtime


def dead_letter_queue(scope: Construct, construct_id: str, purpose: str) -> sqs.Queue:
    """An SSE-SQS, SSL-only queue keeping failed events or records for 14 days."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,  # EventBridge cannot send to SSE-KMS (aws/sqs)
        enforce_ssl=True,
        retention_period=DLQ_RETENTION,
    )
    acknowledge(
        cfn(queue),
        "AwsSolutions-SQS3",
        f"This queue is itself the dead-letter queue for {purpose}; messages land here only after "
        "every retry failed and are inspected and redriven by an operator.",
    )
    return queue


class Functions(Concern):
    """Built in two steps: the layer and every execution role first (the tenant-access role trusts
    some of the roles, and the functions read its ARN), then `add_functions` with the environment."""

    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming) -> None:
        super().__init__(scope, construct_id)
        self.naming = naming
        self.runtime = lambda_runtime()
        self.layer = lambda_.LayerVersion(
            self.stack,
            "SharedLayer",
            layer_version_name=naming.resource("shared"),
            description="tenancy shared library and its pinned dependencies (built by `make build`)",
            code=lambda_.Code.from_asset(str(paths.layer_dir()), exclude=[".built"]),
            compatible_runtimes=[self.runtime],
            compatible_architectures=[lambda_.Architecture.X86_64],
        )
        # Heavy dependencies in layers of their own, attached only to the functions naming them.
        self.engine_layer = lambda_.LayerVersion(
            self.stack,
            "EngineLayer",
            layer_version_name=naming.resource("engine"),
            description="DuckDB: CSV import and Parquet reads (built by `make build`)",
            code=lambda_.Code.from_asset(str(paths.engine_layer_dir()), exclude=[".built"]),
            compatible_runtimes=[self.runtime],
            compatible_architectures=[lambda_.Architecture.X86_64],
        )
        self.extra_layers: dict[Layer, lambda_.LayerVersion] = {Layer.ENGINE: self.engine_layer}
        self.network: IsolatedNetwork | None = None
        if any(spec.network is Network.ISOLATED for spec in FUNCTIONS):
            self.network = IsolatedNetwork(self.stack, "IsolatedNetwork", naming=naming)
        self.roles: dict[str, iam.Role] = {spec.name: self._execution_role(spec) for spec in FUNCTIONS}
        self.functions: dict[str, lambda_.Function] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}

    def _execution_role(self, spec: FunctionSpec) -> iam.Role:
        return iam.Role(
            self.stack,
            f"{camel(spec.name)}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {self.naming.function(spec)}",
        )

    def add_functions(self, resources: Mapping[str, str]) -> None:
        """One function per FunctionSpec; `resources`: the value of every environment variable a
        FunctionSpec may name (see tenancy.common.config.Settings)."""
        for spec in FUNCTIONS:
            self.functions[spec.name] = self._function(spec, resources)

    def _function(self, spec: FunctionSpec, resources: Mapping[str, str]) -> lambda_.Function:
        construct_id = camel(spec.name)
        function_name = self.naming.function(spec)
        unknown = [name for name in spec.environment if name not in resources]
        if unknown:
            raise ValueError(f"function {spec.name!r} reads {unknown}, which TenancyStack does not provide")
        environment = {name: resources[name] for name in spec.environment}
        environment.update(
            APP_NAME=self.naming.app_name,
            STAGE=self.naming.stage,
            POWERTOOLS_SERVICE_NAME=spec.name,
            POWERTOOLS_METRICS_NAMESPACE=METRICS_NAMESPACE,
            POWERTOOLS_LOG_LEVEL=LOG_LEVEL,
        )
        role = self.roles[spec.name]
        log_group = logs.LogGroup(
            self.stack,
            f"{construct_id}Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        log_group.grant_write(role)
        isolated = spec.network is Network.ISOLATED
        network: dict[str, object] = {}
        if isolated:
            network = self._isolate(spec, role)
        function = lambda_.Function(
            self.stack,
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
            layers=[self.layer, *(self.extra_layers[layer] for layer in spec.layers)],
            # An isolated function has no route to X-Ray (its daemon sends from the function's own
            # network) and its role holds no X-Ray permission: no tracing.
            tracing=lambda_.Tracing.DISABLED if isolated else lambda_.Tracing.ACTIVE,
            role=role,
            log_group=log_group,
            environment=environment,
            **network,  # type: ignore[arg-type]
        )
        acknowledge(
            cfn(function),
            "AwsSolutions-L1",
            f"python{LAMBDA_PYTHON} rather than the newest runtime: the layer ships bytecode compiled by "
            "the runtime's own interpreter, which the build needs (Lambda cannot write bytecode to /opt, "
            "so without it every cold start compiles the layer again, about 300 ms), and this "
            "toolchain has python3.13. It is a supported runtime; move topology.LAMBDA_PYTHON and the "
            "Makefile together where the newer interpreter is available.",
        )
        if isolated:
            acknowledge_wildcard(
                default_policy(role),
                "Resource",
                "*",
                "The ec2 network-interface actions Lambda performs with the execution role to attach "
                "the function to its isolated subnets (ec2:Describe* support no resource-level "
                "permission); a Deny on lambda:SourceFunctionArn withholds them from the function's own "
                "code, which has no route to the EC2 API anyway.",
            )
            return function
        star_reason = (
            "xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) do not support "
            "resource-level permissions"
        )
        if isinstance(spec.trigger, StreamTrigger):
            star_reason += ", nor does dynamodb:ListStreams, which the DynamoDB event source needs"
        acknowledge_wildcard(default_policy(role), "Resource", "*", star_reason + ".")
        return function

    def _isolate(self, spec: FunctionSpec, role: iam.Role) -> dict[str, object]:
        """Network.ISOLATED: the function's VPC settings, and the one thing its role needs for them.

        The function has no AWS permission of its own and no route anywhere: its subnets have no
        NAT, no internet gateway and no VPC endpoint, and its security group no egress rule. Its
        role holds its log group (written by Lambda) and the ec2 network-interface actions Lambda
        itself performs with the role to place the function's ENIs in the subnets, each denied to
        requests made by the function's code (`lambda:SourceFunctionArn` is set on exactly those):
        nothing the code itself could use, even if it had a route to the EC2 API.
        """
        assert self.network is not None
        function_arn = Stack.of(self).format_arn(
            service="lambda",
            resource="function",
            resource_name=self.naming.function(spec),
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="LambdaAttachesTheFunctionToItsSubnets",
                actions=list(VPC_ATTACHMENT_ACTIONS),
                resources=["*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="NotToTheFunctionsCode",
                effect=iam.Effect.DENY,
                actions=list(VPC_ATTACHMENT_ACTIONS),
                resources=["*"],
                conditions={"ArnEquals": {"lambda:SourceFunctionArn": function_arn}},
            )
        )
        return {
            "vpc": self.network.vpc,
            "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            "security_groups": [self.network.security_group],
            "allow_public_subnet": False,
        }

    def add_stream_sources(self, tables: Mapping[TableSpec, dynamodb.Table]) -> None:
        """Every StreamTrigger: the table's stream as an event source, failed batches to a DLQ."""
        for spec in FUNCTIONS:
            if isinstance(spec.trigger, StreamTrigger):
                self._stream_source(spec, spec.trigger, tables)

    def _stream_source(
        self, spec: FunctionSpec, trigger: StreamTrigger, tables: Mapping[TableSpec, dynamodb.Table]
    ) -> None:
        table = tables.get(trigger.table)
        if table is None or trigger.table.stream is None:
            raise ValueError(f"{spec.name}: the stream trigger's table has no stream")
        dlq = dead_letter_queue(
            self.stack,
            f"{camel(spec.name)}StreamDlq",
            f"the {trigger.table.suffix} table stream records {spec.name} failed",
        )
        self.dead_letter_queues[spec.name] = dlq
        self.functions[spec.name].add_event_source(
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
