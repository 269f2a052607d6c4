"""The one description of Tenancy's runtime wiring, read by the CDK stacks and by `localcloud`.

Plain Python data only (no aws_cdk import), so the local cloud builds exactly what deploys:
tables and their keys, the functions, their triggers, the EventBridge rule patterns, the routes, and
what each function may do (`FunctionSpec.access`, turned into IAM grants by
tenancy_infra.stacks.grants).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from tenancy.common.names import (
    APP_TABLE_SUFFIX,
    APPLICATION_PLANE,
    CONTROL_PLANE,
    CONTROL_TABLE_SUFFIX,
    DEPROVISIONED,
    IDEMPOTENCY_TABLE_SUFFIX,
    OFFBOARDING,
    ONBOARDING,
    PROVISIONED,
    UPDATED,
    USAGE_TABLE_SUFFIX,
    event_source,
)

# The Lambda runtime. The layer is built for the same version (Makefile LAMBDA_PYTHON; a test keeps
# the two equal) and shipped as bytecode compiled by that version's interpreter, because Lambda
# cannot write bytecode next to a layer and would compile it on every cold start. 3.13 is the newest
# runtime whose interpreter this toolchain has (pyenv); move both to 3.14 where python3.14 exists.
LAMBDA_PYTHON = "3.13"

# --- tables -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table: string keys, on-demand billing."""

    suffix: str
    partition_key: str = "PK"
    sort_key: str | None = "SK"
    indexes: tuple[Index, ...] = ()
    stream: Literal["NEW_AND_OLD_IMAGES"] | None = None
    ttl_attribute: str | None = None

    def attribute_names(self) -> list[str]:
        names = [self.partition_key, *([self.sort_key] if self.sort_key else [])]
        for index in self.indexes:
            names += [index.partition_key, index.sort_key]
        return list(dict.fromkeys(names))

    def key_schema(self) -> list[dict[str, str]]:
        schema = [{"AttributeName": self.partition_key, "KeyType": "HASH"}]
        if self.sort_key:
            schema.append({"AttributeName": self.sort_key, "KeyType": "RANGE"})
        return schema


CONTROL_TABLE = TableSpec(
    suffix=CONTROL_TABLE_SUFFIX,
    indexes=(
        # every tenant, newest last: GSI1PK="TENANT", GSI1SK="<createdAt>#<tenantId>"
        Index("GSI1", "GSI1PK", "GSI1SK"),
        # tenants by provisioning status: GSI2PK="STATUS#<status>", GSI2SK="<createdAt>#<tenantId>"
        Index("GSI2", "GSI2PK", "GSI2SK"),
    ),
    stream="NEW_AND_OLD_IMAGES",
)

APP_TABLE = TableSpec(
    suffix=APP_TABLE_SUFFIX,
    indexes=(
        Index("GSI1", "GSI1PK", "GSI1SK"),  # by type (admin only)
        Index("GSI2", "GSI2PK", "GSI2SK"),  # user -> tenants
    ),
    ttl_attribute="expiresAt",
)

# Idempotency records of the control-plane API (Powertools idempotency's schema: `id`, TTL
# `expiration`): the first answer to each `Idempotency-Key`, replayed to a client that retries.
IDEMPOTENCY_TABLE = TableSpec(
    suffix=IDEMPOTENCY_TABLE_SUFFIX, partition_key="id", sort_key=None, ttl_attribute="expiration"
)

# Metering (tenancy.contracts.usage): per tenant (`PK=TENANT#<id>`) one item per UTC day (counters and
# the request limiter's bucket) and the counted requests' Idempotency-Key markers; TTL `expiresAt`.
# The app API writes it as the tenant (LeadingKeys); the control API reads it.
USAGE_TABLE = TableSpec(suffix=USAGE_TABLE_SUFFIX, ttl_attribute="expiresAt")

# --- functions and their triggers ------------------------------------------------------------


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str


# The two REST APIs (`<app>-<stage>-<api>-api`).
CONTROL_API = "control"  # IAM-authorized: operators and internal services
APP_API = "app"  # tenant users, through a Lambda REQUEST authorizer


@dataclass(frozen=True)
class ApiTrigger:
    api: str  # CONTROL_API (IAM-authorized) or APP_API (Lambda REQUEST authorizer)
    routes: tuple[ApiRoute, ...]
    authorization: Literal["IAM", "CUSTOM"] = "IAM"
    authorizer: str | None = None  # the function name of the REQUEST authorizer (CUSTOM)


# How long API Gateway caches a REQUEST authorizer's answer per token (the CDK authorizer's results
# cache TTL, and the local cloud's emulation of it). It is the bound on how long a removed user's
# token, or a changed role, can still be honoured: the authorizer reads the user item on every call
# and caches nothing about the user itself.
AUTHORIZER_RESULT_TTL_SECONDS = 60


@dataclass(frozen=True)
class AuthorizerTrigger:
    """A Lambda REQUEST authorizer in front of an API: the token comes from `identity_header`."""

    api: str
    identity_header: str = "Authorization"
    result_ttl_seconds: int = AUTHORIZER_RESULT_TTL_SECONDS


@dataclass(frozen=True)
class StreamTrigger:
    table: TableSpec
    batch_size: int = 10
    retry_attempts: int = 5
    max_batching_window_seconds: int = 1
    bisect_batch_on_error: bool = True
    report_batch_item_failures: bool = True


@dataclass(frozen=True)
class RuleTrigger:
    rule: str  # rule id, unique within the app
    plane: str  # the source plane whose events match
    detail_types: tuple[str, ...]
    retry_attempts: int = 4  # EventBridge -> target retries
    max_event_age_seconds: int = 3600
    async_retry_attempts: int = 2  # Lambda async invoke retries on function error

    def pattern(self, app_name: str) -> dict[str, Any]:
        return {"source": [event_source(app_name, self.plane)], "detail-type": list(self.detail_types)}


@dataclass(frozen=True)
class ScheduleTrigger:
    """Invoked on a fixed rate by an EventBridge schedule (default bus)."""

    rule: str
    rate_minutes: int
    retry_attempts: int = 2


@dataclass(frozen=True)
class ObjectCreatedTrigger:
    """An object created under `key_prefix` ending in `key_suffix` in the pooled bucket or a silo
    bucket: S3 sends the event to EventBridge (the buckets' EventBridge notifications), and a rule on
    the account's default bus (`rule`) invokes the function asynchronously, retried as a RuleTrigger."""

    rule: str
    key_prefix: str = "tenants/"
    key_suffix: str = ".csv"
    retry_attempts: int = 4
    max_event_age_seconds: int = 3600
    async_retry_attempts: int = 2

    def pattern(self, bucket_names: list[Any], bucket_name_prefixes: list[str]) -> dict[str, Any]:
        """S3's `Object Created` events of these buckets (names, or name prefixes: silo buckets are
        named by CloudFormation) whose key starts with `key_prefix` and ends with `key_suffix`
        (one `wildcard` matcher: the matchers of a field's list are alternatives, never both)."""
        return {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {
                "bucket": {"name": [*bucket_names, *({"prefix": p} for p in bucket_name_prefixes)]},
                "object": {"key": [{"wildcard": f"{self.key_prefix}*{self.key_suffix}"}]},
            },
        }


@dataclass(frozen=True)
class InvokeTrigger:
    """Invoked synchronously (RequestResponse) by the functions named in `callers`, and by nothing else."""

    callers: tuple[str, ...]


Trigger = (
    ApiTrigger
    | StreamTrigger
    | RuleTrigger
    | ScheduleTrigger
    | AuthorizerTrigger
    | ObjectCreatedTrigger
    | InvokeTrigger
)


@dataclass(frozen=True)
class UserPoolSpec:
    """The one Cognito user pool for tenant users: `custom:tenantId` (immutable) and `custom:role`."""

    suffix: str = "users"
    custom_attributes: tuple[tuple[str, bool], ...] = (("tenantId", False), ("role", True))  # (name, mutable)
    roles: tuple[str, ...] = ("admin", "member")


USER_POOL = UserPoolSpec()

# The platform's parameters in SSM, `/<app>/<stage>/platform/<name>` (tenancy.common.names
# .platform_parameter): where the shared resources are, for tools and services outside the stack.
# The CDK app publishes each (stacks/platform_parameters.py); the local cloud creates the same names
# with its own values (localcloud/resources.py).
PLATFORM_PARAMETERS: tuple[str, ...] = (
    "app-table/name",
    "app-table/arn",
    "control-table/name",
    "usage-table/name",
    "pool-bucket/name",
    "event-bus/name",
    "event-bus/arn",
    "silo-template/url",
    "user-pool/id",
)


# --- what each function may do ------------------------------------------------------------------


class Access(Enum):
    """What a function's execution role may do besides writing its own log group and reading its own
    trigger (a StreamTrigger's stream). The CDK turns each into IAM grants in one place
    (tenancy_infra.stacks.grants); a function gets nothing its FunctionSpec.access does not list."""

    # Items of the control table and its GSIs: key lookups, Query, writes, batches; never Scan.
    CONTROL_TABLE_READ_WRITE = "control-table-read-write"
    # One control-table item by its key (GetItem on the table, no index): a tenant's status and tier.
    CONTROL_TABLE_GET_ITEM = "control-table-get-item"
    # Powertools idempotency records: read, claim (conditional put), complete and release one record.
    IDEMPOTENCY_RECORDS = "idempotency-records"
    # Items of the usage table by key or Query (GetItem, Query): any tenant's metering record.
    USAGE_TABLE_READ = "usage-table-read"
    # Items of the pooled app table and its GSIs; never Scan.
    APP_TABLE_READ_WRITE = "app-table-read-write"
    # PutEvents on the app's event bus.
    EVENTS_PUT = "events-put"
    # Tenant data only as the tenant: assume the tenant-access role with a TenantId session tag (the
    # role trusts exactly the functions declaring this, which read TENANT_ACCESS_ROLE_ARN) and read
    # the tenants' routes (SSM, read-only) to find each tenant's table and bucket.
    TENANT_DATA_AS_TENANT = "tenant-data-as-tenant"
    # Tenant users in the user pool: create, read, change attributes, disable, delete.
    TENANT_USERS_MANAGE = "tenant-users-manage"
    # Tenant users in the user pool: create (the first admin), read, disable, delete (offboarding).
    TENANT_USERS_CREATE_DELETE = "tenant-users-create-delete"
    # Objects under tenants/ in the shared bucket (every pooled tenant's prefix): read, write, delete.
    POOL_BUCKET_TENANT_OBJECTS = "pool-bucket-tenant-objects"
    # Items of silo tenants' own tables (key lookups, Query, writes; no Scan, no index).
    SILO_TABLE_ITEMS = "silo-table-items"
    # The tenants' routes in SSM (/<app>/<stage>/tenants/<tenantId>/): write, delete, read by path.
    TENANT_ROUTES_WRITE = "tenant-routes-write"
    # Tenants' secrets in Secrets Manager (/<app>/<stage>/tenants/<tenantId>/<name>): list (account
    # wide: ListSecrets has no resource-level permission) and delete without recovery (offboarding).
    TENANT_SECRETS_DELETE = "tenant-secrets-delete"
    # Silo tenants' stacks: create (only with the silo stack role, which it may pass), describe, delete.
    SILO_STACKS = "silo-stacks"
    # Silo buckets: list, write the tenant marker, empty them (objects and versions) before deletion.
    SILO_BUCKETS_EMPTY = "silo-buckets-empty"
    # The silo template object (CloudFormation reads TemplateURL with the caller's credentials).
    SILO_TEMPLATE_READ = "silo-template-read"
    # The tenants' discovery parameters in SSM, by name (/<app>/<stage>/tenants/<tenantId>/ followed
    # by provisioning-status, provisioning-error, tier, config, version): read, write, delete. Never
    # the routes beside them.
    TENANT_DISCOVERY_WRITE = "tenant-discovery-write"
    # lambda:InvokeFunction on the card executor, and on nothing else.
    CARD_EXECUTOR_INVOKE = "card-executor-invoke"


class Layer(Enum):
    """Lambda layers besides the shared one (every function has that): heavy dependencies go in a
    layer of their own, attached only to the functions that import them."""

    # DuckDB (CSV parsing and type inference, Parquet read and write): the dataset import and the
    # card-execution routes, never another function (docs/architecture.md, "Datasets").
    ENGINE = "engine"


class Network(Enum):
    DEFAULT = "default"  # Lambda's own network: the AWS APIs and the internet
    # A VPC with isolated subnets only (no NAT, no internet gateway, no endpoints) and a security
    # group without egress: the function reaches nothing at all (the card executor).
    ISOLATED = "isolated"


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # folder under functions/, also the Powertools service name
    description: str
    trigger: Trigger
    timeout_seconds: int = 30
    memory_mb: int = 512
    # environment the function reads (see tenancy.config.Settings); values are filled by the deployer
    environment: tuple[str, ...] = field(default_factory=tuple)
    # what its execution role may do (granted in this order)
    access: tuple[Access, ...] = field(default_factory=tuple)
    layers: tuple[Layer, ...] = ()  # besides the shared layer
    network: Network = Network.DEFAULT

    @property
    def handler(self) -> str:
        return "handler.lambda_handler"

    @property
    def resource_suffix(self) -> str:
        """The deployed function is `<app>-<stage>-<resource_suffix>` (tenancy.common.names.resource_name)."""
        return self.name.replace("_", "-")


TENANT_API_ROUTES = (
    ApiRoute("POST", "/tenants"),
    ApiRoute("GET", "/tenants"),
    ApiRoute("GET", "/tenants/{tenantId}"),
    ApiRoute("PATCH", "/tenants/{tenantId}"),
    ApiRoute("DELETE", "/tenants/{tenantId}"),
    ApiRoute("POST", "/tenants/{tenantId}/retry"),
    ApiRoute("GET", "/tenants/{tenantId}/config"),
    ApiRoute("PUT", "/tenants/{tenantId}/config"),
    ApiRoute("PATCH", "/tenants/{tenantId}/config"),
    ApiRoute("GET", "/tenants/{tenantId}/usage"),
)

APP_API_ROUTES = (
    ApiRoute("GET", "/me"),
    ApiRoute("GET", "/users"),
    ApiRoute("POST", "/users"),
    ApiRoute("GET", "/users/{userId}"),
    ApiRoute("PATCH", "/users/{userId}"),
    ApiRoute("DELETE", "/users/{userId}"),
    ApiRoute("GET", "/agents"),
    ApiRoute("POST", "/agents"),
    ApiRoute("GET", "/agents/{agentId}"),
    ApiRoute("PATCH", "/agents/{agentId}"),
    ApiRoute("DELETE", "/agents/{agentId}"),
    ApiRoute("POST", "/agents/{agentId}/executions"),
    ApiRoute("GET", "/agents/{agentId}/executions"),
    ApiRoute("GET", "/executions/{executionId}"),
    ApiRoute("PATCH", "/executions/{executionId}"),
    ApiRoute("GET", "/audit"),
    ApiRoute("GET", "/secrets"),
    ApiRoute("PUT", "/secrets/{name}"),
    ApiRoute("GET", "/secrets/{name}"),
    ApiRoute("DELETE", "/secrets/{name}"),
    ApiRoute("GET", "/config"),
    ApiRoute("GET", "/usage"),
    # groups (application/groups)
    ApiRoute("GET", "/groups"),
    ApiRoute("POST", "/groups"),
    ApiRoute("GET", "/groups/{groupId}"),
    ApiRoute("PATCH", "/groups/{groupId}"),
    ApiRoute("DELETE", "/groups/{groupId}"),
    ApiRoute("GET", "/groups/{groupId}/members"),
    ApiRoute("POST", "/groups/{groupId}/members"),
    ApiRoute("DELETE", "/groups/{groupId}/members/{userId}"),
    # dashboards (application/dashboards)
    ApiRoute("GET", "/dashboards"),
    ApiRoute("POST", "/dashboards"),
    ApiRoute("GET", "/dashboards/{dashboardId}"),
    ApiRoute("PATCH", "/dashboards/{dashboardId}"),
    ApiRoute("DELETE", "/dashboards/{dashboardId}"),
    ApiRoute("POST", "/dashboards/{dashboardId}/clone"),
    ApiRoute("GET", "/dashboards/{dashboardId}/filter-views"),
    ApiRoute("POST", "/dashboards/{dashboardId}/filter-views"),
    ApiRoute("GET", "/dashboards/{dashboardId}/filter-views/{viewId}"),
    ApiRoute("PATCH", "/dashboards/{dashboardId}/filter-views/{viewId}"),
    ApiRoute("DELETE", "/dashboards/{dashboardId}/filter-views/{viewId}"),
    # shares (application/sharing)
    ApiRoute("GET", "/dashboards/{dashboardId}/shares"),
    ApiRoute("POST", "/dashboards/{dashboardId}/shares"),
    ApiRoute("GET", "/dashboards/{dashboardId}/shares/{shareId}"),
    ApiRoute("PATCH", "/dashboards/{dashboardId}/shares/{shareId}"),
    ApiRoute("DELETE", "/dashboards/{dashboardId}/shares/{shareId}"),
    ApiRoute("GET", "/shared-with-me"),
    # cards (application/cards)
    ApiRoute("GET", "/cards"),
    ApiRoute("POST", "/cards"),
    ApiRoute("GET", "/cards/{cardId}"),
    ApiRoute("PATCH", "/cards/{cardId}"),
    ApiRoute("DELETE", "/cards/{cardId}"),
    # datasets (application/datasets): metadata, presigned uploads, the import's preview
    ApiRoute("GET", "/datasets"),
    ApiRoute("POST", "/datasets"),
    ApiRoute("GET", "/datasets/{datasetId}"),
    ApiRoute("PATCH", "/datasets/{datasetId}"),
    ApiRoute("DELETE", "/datasets/{datasetId}"),
    ApiRoute("POST", "/datasets/{datasetId}/uploads"),
    ApiRoute("GET", "/datasets/{datasetId}/preview"),
)

# The routes that read Parquet and run cards: a function of their own with the engine layer, so the
# app API's cold start does not carry DuckDB.
ANALYTICS_API_ROUTES = (
    ApiRoute("POST", "/cards/{cardId}/execute"),
    ApiRoute("POST", "/cards/preview"),
    ApiRoute("POST", "/dashboards/{dashboardId}/render"),
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="tenant_api",
        description="Control-plane REST API: register, read, update and offboard tenants",
        trigger=ApiTrigger(api=CONTROL_API, routes=TENANT_API_ROUTES),
        timeout_seconds=29,
        environment=("CONTROL_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "PLANS", "USAGE_TABLE_NAME"),
        # Tenants, listed through GSI1 (all) and GSI2 (by status); the first answer to each key; the
        # tenants' usage (GET /tenants/{id}/usage).
        access=(Access.CONTROL_TABLE_READ_WRITE, Access.IDEMPOTENCY_RECORDS, Access.USAGE_TABLE_READ),
    ),
    FunctionSpec(
        name="provisioning",
        description="Control-table stream: lifecycle changes to TenantOnboarding/TenantOffboarding",
        trigger=StreamTrigger(table=CONTROL_TABLE),
        timeout_seconds=60,
        environment=("CONTROL_TABLE_NAME", "EVENT_BUS_NAME"),
        # PENDING -> PROVISIONING, then the lifecycle request (the stream comes with the trigger).
        access=(Access.CONTROL_TABLE_READ_WRITE, Access.EVENTS_PUT),
    ),
    FunctionSpec(
        name="tenant_provisioner",
        description="Provisions and deprovisions a tenant's pool or silo resources",
        trigger=RuleTrigger(
            rule="TenantLifecycleRequests", plane=CONTROL_PLANE, detail_types=(ONBOARDING, OFFBOARDING)
        ),
        timeout_seconds=900,
        environment=(
            "EVENT_BUS_NAME",
            "APP_TABLE_NAME",
            "TENANT_BUCKET_NAME",
            "SILO_TEMPLATE_URL",
            "SILO_STACK_ROLE_ARN",
            "USER_POOL_ID",
        ),
        access=(
            Access.EVENTS_PUT,  # the lifecycle results
            # Pool tenants: purge the partition (Query + BatchWriteItem) in the shared app table, and
            # the tenants/<tenantId>/ prefix in the shared bucket.
            Access.APP_TABLE_READ_WRITE,
            Access.POOL_BUCKET_TENANT_OBJECTS,
            # Silo tenants' own tables: the first admin's USER#/EMAIL# items at onboarding, the
            # tenant's users (Query on USER#) at offboarding.
            Access.SILO_TABLE_ITEMS,
            # Tenant users: the first admin at onboarding; disable and delete them at offboarding.
            Access.TENANT_USERS_CREATE_DELETE,
            Access.TENANT_ROUTES_WRITE,
            # Offboarding deletes every secret under the tenant's path.
            Access.TENANT_SECRETS_DELETE,
            # Silo tenants: one stack each, from the silo template, with the silo service role; its
            # bucket gets the prefix marker and is emptied before the stack is deleted.
            Access.SILO_STACKS,
            Access.SILO_BUCKETS_EMPTY,
            Access.SILO_TEMPLATE_READ,
        ),
    ),
    FunctionSpec(
        name="provisioning_completion",
        description="Provisioning results to tenant status",
        trigger=RuleTrigger(
            rule="TenantLifecycleResults", plane=APPLICATION_PLANE, detail_types=(PROVISIONED, DEPROVISIONED)
        ),
        timeout_seconds=30,
        environment=("CONTROL_TABLE_NAME",),
        access=(Access.CONTROL_TABLE_READ_WRITE,),
    ),
    FunctionSpec(
        name="authorizer",
        description=(
            "Verifies tenant users' Cognito JWTs, refuses removed users, and hands tenant, user, "
            "stored role and tier to the app API"
        ),
        trigger=AuthorizerTrigger(api=APP_API),
        timeout_seconds=10,
        # The tenant's status (control table), then its user item with tenant-scoped credentials.
        environment=(
            "USER_POOL_ID",
            "USER_POOL_CLIENT_ID",
            "CONTROL_TABLE_NAME",
            "TENANT_ACCESS_ROLE_ARN",
            "PLANS",
        ),
        # TENANT#<id>/METADATA, then the user's own item in the tenant's partition; no other data.
        access=(Access.CONTROL_TABLE_GET_ITEM, Access.TENANT_DATA_AS_TENANT),
    ),
    FunctionSpec(
        name="app_api",
        description="Tenant-scoped application API: users, agents, executions, audit trail, secrets",
        trigger=ApiTrigger(
            api=APP_API, routes=APP_API_ROUTES, authorization="CUSTOM", authorizer="authorizer"
        ),
        timeout_seconds=29,
        # USAGE_TABLE_NAME: every request is counted there (the request limiter), as the tenant.
        environment=("TENANT_ACCESS_ROLE_ARN", "USER_POOL_ID", "SECRETS_KMS_KEY_ID", "USAGE_TABLE_NAME"),
        # No data access of its own: every item, object and secret call goes through the tenant-access
        # role, assumed per request with the TenantId session tag of the verified token.
        access=(Access.TENANT_DATA_AS_TENANT, Access.TENANT_USERS_MANAGE),
    ),
    FunctionSpec(
        name="analytics_api",
        description="Tenant-scoped card execution: reads datasets' Parquet as the tenant, runs cards in the executor",
        trigger=ApiTrigger(
            api=APP_API, routes=ANALYTICS_API_ROUTES, authorization="CUSTOM", authorizer="authorizer"
        ),
        timeout_seconds=29,
        memory_mb=1024,
        environment=("TENANT_ACCESS_ROLE_ARN", "USAGE_TABLE_NAME", "CARD_EXECUTOR_FUNCTION_NAME"),
        # Tenant data only as the tenant (cards, datasets, result cache, Parquet objects); the
        # executor is the one function it may invoke.
        access=(Access.TENANT_DATA_AS_TENANT, Access.CARD_EXECUTOR_INVOKE),
        layers=(Layer.ENGINE,),
    ),
    FunctionSpec(
        name="card_executor",
        description="Runs one card's code in a child process with limits; no AWS permissions, no network",
        trigger=InvokeTrigger(callers=("analytics_api",)),
        timeout_seconds=15,
        memory_mb=1024,
        environment=(),
        access=(),
        network=Network.ISOLATED,
    ),
    FunctionSpec(
        name="dataset_import",
        description="A dataset's uploaded CSV to Parquet in the tenant's storage, as the tenant",
        trigger=ObjectCreatedTrigger(rule="DatasetUploads"),
        timeout_seconds=900,
        memory_mb=2048,
        environment=("TENANT_ACCESS_ROLE_ARN",),
        # The upload, the Parquet files and the dataset item, only as the tenant the key names.
        access=(Access.TENANT_DATA_AS_TENANT,),
        layers=(Layer.ENGINE,),
    ),
    FunctionSpec(
        name="reconciler",
        description="Re-drives tenants whose lifecycle request was lost; fails those whose result never came",
        trigger=ScheduleTrigger(rule="TenantReconciliation", rate_minutes=5),
        timeout_seconds=120,
        environment=("CONTROL_TABLE_NAME", "EVENT_BUS_NAME"),
        # Finds stuck tenants through the status index, moves them, re-publishes lifecycle requests.
        access=(Access.CONTROL_TABLE_READ_WRITE, Access.EVENTS_PUT),
    ),
    FunctionSpec(
        name="tenant_updates",
        description="TenantUpdated to the tenant's SSM discovery parameters (status, error, tier, config)",
        trigger=RuleTrigger(rule="TenantUpdates", plane=CONTROL_PLANE, detail_types=(UPDATED,)),
        timeout_seconds=30,
        memory_mb=256,
        # Reads the stored version, writes the newer values (tenancy.application.discovery).
        access=(Access.TENANT_DISCOVERY_WRITE,),
    ),
)


def function(name: str) -> FunctionSpec:
    for spec in FUNCTIONS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def create_table_request(spec: TableSpec, table_name: str) -> dict[str, Any]:
    """The DynamoDB CreateTable request for `spec` (used by the local cloud and the tests; the CDK
    stacks build the same keys from the same spec)."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in spec.attribute_names()
        ],
        "KeySchema": spec.key_schema(),
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in spec.indexes
        ]
    if spec.stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream}
    return request
