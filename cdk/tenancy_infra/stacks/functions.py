"""Functions: one Lambda per topology FunctionSpec with the shared layer, its own execution role and
log group, and the DynamoDB stream triggers (with their dead-letter queues).

The other triggers are wired by the concern that owns their source: API routes by ControlApi and
AppApi, EventBridge rules by EventBusAndRules, the schedule by ReconcilerSchedule.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tenancy.common.names import METRICS_NAMESPACE

from .. import paths
from ..topology import FUNCTIONS, LAMBDA_PYTHON, FunctionSpec, StreamTrigger, TableSpec
from .cfn import cfn, default_policy
from .concern import Concern, camel
from .nag import acknowledge, acknowledge_wildcard
from .naming import Naming

LOG_LEVEL = "INFO"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DLQ_RETENTION = Duration.days(14)


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
            layers=[self.layer],
            tracing=lambda_.Tracing.ACTIVE,
            role=role,
            log_group=log_group,
            environment=environment,
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
        star_reason = (
            "xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) do not support "
            "resource-level permissions"
        )
        if isinstance(spec.trigger, StreamTrigger):
            star_reason += ", nor does dynamodb:ListStreams, which the DynamoDB event source needs"
        acknowledge_wildcard(default_policy(role), "Resource", "*", star_reason + ".")
        return function

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
