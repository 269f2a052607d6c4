"""DynamoDB tables from a topology TableSpec: the same code builds the pooled and the silo app table,
so a silo tenant's table has exactly the pooled schema. `Tables`: the main stack's four tables."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from ..topology import APP_TABLE, CONTROL_TABLE, IDEMPOTENCY_TABLE, USAGE_TABLE, TableSpec
from .concern import Concern
from .naming import Naming

# Item-level read/write without Scan: every access path is a key lookup or a Query on the table or a
# GSI (TransactWriteItems is authorized through PutItem/UpdateItem/DeleteItem/ConditionCheckItem).
ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
ITEM_READ_WRITE_ACTIONS = (*ITEM_ACTIONS, "dynamodb:DescribeTable")


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def build_table(
    scope: Construct,
    construct_id: str,
    spec: TableSpec,
    *,
    table_name: str | None,
    removal_policy: RemovalPolicy,
) -> dynamodb.Table:
    """On-demand, PITR on, SSE with the AWS managed KMS key (aws/dynamodb), keys and GSIs from `spec`."""
    table = dynamodb.Table(
        scope,
        construct_id,
        table_name=table_name,
        partition_key=_string(spec.partition_key),
        sort_key=_string(spec.sort_key) if spec.sort_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        stream=dynamodb.StreamViewType[spec.stream] if spec.stream else None,
        time_to_live_attribute=spec.ttl_attribute,
        removal_policy=removal_policy,
    )
    for index in spec.indexes:
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=_string(index.partition_key),
            sort_key=_string(index.sort_key),
            projection_type=dynamodb.ProjectionType.ALL,
        )
    return table


class Tables(Concern):
    """The control table (tenants, with the stream the provisioning function reads), the pooled app
    table, the control API's idempotency records and the usage table (metering, and the request
    limiter's per-tenant state)."""

    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming) -> None:
        super().__init__(scope, construct_id)
        self.control_table = build_table(
            self.stack,
            "ControlTable",
            CONTROL_TABLE,
            table_name=naming.resource(CONTROL_TABLE.suffix),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.app_table = build_table(
            self.stack,
            "AppTable",
            APP_TABLE,
            table_name=naming.resource(APP_TABLE.suffix),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.idempotency_table = build_table(
            self.stack,
            "IdempotencyTable",
            IDEMPOTENCY_TABLE,
            table_name=naming.resource(IDEMPOTENCY_TABLE.suffix),
            removal_policy=RemovalPolicy.DESTROY,  # replayable answers that expire within a day
        )
        self.usage_table = build_table(
            self.stack,
            "UsageTable",
            USAGE_TABLE,
            table_name=naming.resource(USAGE_TABLE.suffix),
            removal_policy=RemovalPolicy.RETAIN,  # the metering record (invoices are computed from it)
        )
        self.by_spec: dict[TableSpec, dynamodb.Table] = {
            CONTROL_TABLE: self.control_table,
            APP_TABLE: self.app_table,
            IDEMPOTENCY_TABLE: self.idempotency_table,
            USAGE_TABLE: self.usage_table,
        }
