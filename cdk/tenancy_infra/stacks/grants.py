"""The one place where the topology's access declarations become IAM: every `FunctionSpec.access`
entry is granted to the function's execution role here, with CDK L2 grants where they grant exactly
that (tables, the bus, the pool bucket) and scoped statements elsewhere. Each wildcard a grant needs
is acknowledged (cdk-nag IAM5) next to it, with its reason.

A role also writes its own log group and reads its own trigger; those come with the function
(functions.py) and its trigger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets

from tenancy.common.names import DISCOVERY_PARAMETERS, pool_prefix

from ..topology import FUNCTIONS, Access, InvokeTrigger
from .cfn import default_policy
from .nag import acknowledge_wildcard
from .naming import Naming
from .tables import ITEM_READ_WRITE_ACTIONS

# The function whose role the tenant-access role trusts reads the role's ARN from this variable.
TENANT_ACCESS_ENV = "TENANT_ACCESS_ROLE_ARN"
POOL_TENANT_OBJECTS = pool_prefix("*").removesuffix("/")  # tenants/*: every pooled tenant's prefix
IDEMPOTENCY_RECORD_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
# Any tenant's metering record (GET /tenants/{id}/usage): the table alone (it has no index).
USAGE_TABLE_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query")
TENANT_USERS_MANAGE_ACTIONS = (
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:AdminGetUser",
)
TENANT_USERS_CREATE_DELETE_ACTIONS = (
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminGetUser",
)
# A silo tenant's own table: write the first admin, find and remove users. No Scan, no index.
SILO_TABLE_ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
TENANT_ROUTES_READ_ACTIONS = ("ssm:GetParameter", "ssm:GetParametersByPath")
TENANT_ROUTES_WRITE_ACTIONS = (
    "ssm:PutParameter",
    "ssm:DeleteParameter",
    "ssm:DeleteParameters",
    "ssm:GetParametersByPath",
)

# A tenant's discovery parameters, by name (tenancy.application.discovery): read them and the
# history of `state`, write the newer values, delete a cleared error.
TENANT_DISCOVERY_ACTIONS = (
    "ssm:GetParameters",
    "ssm:GetParameterHistory",
    "ssm:PutParameter",
    "ssm:DeleteParameter",
)


@dataclass(frozen=True)
class Targets:
    """What the grants reach."""

    naming: Naming
    control_table: dynamodb.Table
    app_table: dynamodb.Table
    idempotency_table: dynamodb.Table
    usage_table: dynamodb.Table
    event_bus: events.EventBus
    tenant_bucket: s3.Bucket
    user_pool_arn: str
    tenant_access_role: iam.Role
    silo_stack_role: iam.Role
    silo_template: s3_assets.Asset
    card_executor: lambda_.IFunction


def card_executor_callers() -> list[str]:
    """The functions declaring Access.CARD_EXECUTOR_INVOKE, which must be exactly the callers of the
    card executor's InvokeTrigger (one function, `card_executor`)."""
    declared = sorted(spec.name for spec in FUNCTIONS if Access.CARD_EXECUTOR_INVOKE in spec.access)
    invoked = [spec for spec in FUNCTIONS if isinstance(spec.trigger, InvokeTrigger)]
    if [spec.name for spec in invoked] != ["card_executor"]:
        raise ValueError("the card executor is the one InvokeTrigger function, `card_executor`")
    trigger = invoked[0].trigger
    assert isinstance(trigger, InvokeTrigger)
    if declared != sorted(trigger.callers):
        raise ValueError(
            f"{Access.CARD_EXECUTOR_INVOKE} is declared by {declared}, but card_executor's callers "
            f"are {sorted(trigger.callers)}"
        )
    return declared


def tenant_access_trusted(roles: Mapping[str, iam.Role]) -> list[iam.Role]:
    """The execution roles the tenant-access role trusts: those of the functions that declare
    Access.TENANT_DATA_AS_TENANT, each of which reads the role's ARN (and no other function does)."""
    trusted = []
    for spec in FUNCTIONS:
        declared = Access.TENANT_DATA_AS_TENANT in spec.access
        if declared != (TENANT_ACCESS_ENV in spec.environment):
            raise ValueError(
                f"function {spec.name!r}: {Access.TENANT_DATA_AS_TENANT} and the {TENANT_ACCESS_ENV} "
                "environment variable go together"
            )
        if declared:
            trusted.append(roles[spec.name])
    return trusted


def grant_functions(roles: Mapping[str, iam.Role], to: Targets) -> None:
    """Every function's declared access, in the order declared."""
    card_executor_callers()
    for spec in FUNCTIONS:
        if len(set(spec.access)) != len(spec.access):
            raise ValueError(f"function {spec.name!r} declares an access twice")
        for access in spec.access:
            grant(roles[spec.name], access, to)


def grant(role: iam.Role, access: Access, to: Targets) -> None:
    naming = to.naming
    match access:
        case Access.CONTROL_TABLE_READ_WRITE:
            _grant_items(
                role,
                to.control_table,
                "Table.grant always covers the table's GSIs; tenants are listed through GSI1 (all) "
                "and GSI2 (by status)",
            )
        case Access.CONTROL_TABLE_GET_ITEM:
            # Table.grant would add the table's indexes: the statement names the table alone.
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadTenantStatus",
                    actions=["dynamodb:GetItem"],
                    resources=[to.control_table.table_arn],
                )
            )
        case Access.IDEMPOTENCY_RECORDS:
            to.idempotency_table.grant(role, *IDEMPOTENCY_RECORD_ACTIONS)
        case Access.USAGE_TABLE_READ:
            to.usage_table.grant(role, *USAGE_TABLE_READ_ACTIONS)
        case Access.APP_TABLE_READ_WRITE:
            _grant_items(role, to.app_table, "Table.grant always covers the table's GSIs")
        case Access.EVENTS_PUT:
            to.event_bus.grant_put_events_to(role)
        case Access.TENANT_DATA_AS_TENANT:
            _statement(
                role,
                "AssumeTenantAccessRole",
                ["sts:AssumeRole", "sts:TagSession"],
                to.tenant_access_role.role_arn,
            )
            _statement(role, "ReadTenantRoutes", TENANT_ROUTES_READ_ACTIONS, naming.routes_arn())
            acknowledge_wildcard(
                default_policy(role),
                "Resource",
                naming.routes_arn(),
                "Tenant routes live under /<app>/<stage>/tenants/<tenantId>/; the function reads the "
                "route of the tenant of each request, whichever tenant that is (read-only: "
                "GetParameter and GetParametersByPath).",
            )
        case Access.TENANT_USERS_MANAGE:
            _statement(role, "ManageTenantUsers", TENANT_USERS_MANAGE_ACTIONS, to.user_pool_arn)
        case Access.TENANT_USERS_CREATE_DELETE:
            _statement(role, "ManageTenantUsers", TENANT_USERS_CREATE_DELETE_ACTIONS, to.user_pool_arn)
        case Access.POOL_BUCKET_TENANT_OBJECTS:
            _grant_pool_tenant_objects(role, to.tenant_bucket)
        case Access.SILO_TABLE_ITEMS:
            _statement(role, "SiloTableItems", SILO_TABLE_ITEM_ACTIONS, naming.silo_tables_arn())
            acknowledge_wildcard(
                default_policy(role),
                "Resource",
                naming.silo_tables_arn(),
                "Silo tables are named by CloudFormation from the tenant's stack name (<app>-<stage>-"
                "tenant-<tenantId>-Table-<suffix>); the provisioner writes a new silo tenant's first "
                "admin and reads an offboarded tenant's users, for any silo tenant. Item actions only, "
                "no Scan.",
            )
        case Access.TENANT_ROUTES_WRITE:
            _statement(role, "TenantRoutes", TENANT_ROUTES_WRITE_ACTIONS, naming.routes_arn())
            acknowledge_wildcard(
                default_policy(role),
                "Resource",
                naming.routes_arn(),
                "Tenant routes live under /<app>/<stage>/tenants/<tenantId>/; the provisioner writes and "
                "deletes the route of whichever tenant it provisions.",
            )
        case Access.TENANT_SECRETS_DELETE:
            # ListSecrets has no resource-level permission (Resource must be "*"); the provisioner
            # lists by name prefix and checks each name before deleting it.
            _statement(role, "ListTenantSecrets", ["secretsmanager:ListSecrets"], "*")
            _statement(
                role, "DeleteTenantSecrets", ["secretsmanager:DeleteSecret"], naming.tenant_secrets_arn("*")
            )
            acknowledge_wildcard(
                default_policy(role),
                "Resource",
                "*",
                "secretsmanager:ListSecrets supports no resource-level permission; the provisioner lists "
                "an offboarded tenant's secrets by their name prefix /<app>/<stage>/tenants/<tenantId>/.",
            )
            acknowledge_wildcard(
                default_policy(role),
                "Resource",
                naming.tenant_secrets_arn("*"),
                "Tenants' secrets live under /<app>/<stage>/tenants/<tenantId>/; the provisioner deletes "
                "the secrets of whichever tenant it offboards (DeleteSecret only: it never reads a value).",
            )
        case Access.TENANT_DISCOVERY_WRITE:
            arns = naming.tenant_parameter_arns(DISCOVERY_PARAMETERS)
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="TenantDiscovery", actions=list(TENANT_DISCOVERY_ACTIONS), resources=arns
                )
            )
            for arn in arns:
                acknowledge_wildcard(
                    default_policy(role),
                    "Resource",
                    arn,
                    "One discovery parameter of every tenant (/<app>/<stage>/tenants/<tenantId>/<name>): the "
                    "consumer of TenantUpdated keeps it in step for whichever tenant changed; the "
                    "routes beside it are not named.",
                )
        case Access.SILO_STACKS:
            _grant_silo_stacks(role, naming, to.silo_stack_role)
        case Access.SILO_BUCKETS_EMPTY:
            _grant_silo_buckets(role, naming)
        case Access.SILO_TEMPLATE_READ:
            # This one object only.
            _statement(
                role,
                "ReadSiloTemplate",
                ["s3:GetObject"],
                to.silo_template.bucket.arn_for_objects(to.silo_template.s3_object_key),
            )
        case Access.CARD_EXECUTOR_INVOKE:
            # The function itself (no `:*` for versions or aliases: it is invoked unqualified).
            _statement(role, "InvokeCardExecutor", ["lambda:InvokeFunction"], to.card_executor.function_arn)
        case _:
            assert_never(access)


def _statement(role: iam.Role, sid: str, actions: Sequence[str], resource: str) -> None:
    role.add_to_policy(iam.PolicyStatement(sid=sid, actions=list(actions), resources=[resource]))


def _grant_items(role: iam.Role, table: dynamodb.Table, why: str) -> None:
    """Item read/write on the table and its GSIs, without Scan."""
    table.grant(role, *ITEM_READ_WRITE_ACTIONS)
    acknowledge_wildcard(
        default_policy(role),
        "Resource",
        f"{table.table_arn}/index/*",
        f"Item access to the GSIs of this one table only (`index/*` of its ARN): {why}.",
    )


def _grant_pool_tenant_objects(role: iam.Role, bucket: s3.Bucket) -> None:
    bucket.grant_read_write(role, POOL_TENANT_OBJECTS)
    policy = default_policy(role)
    reason = (
        "Bucket.grant_read_write scoped to the pool prefix tenants/*: the provisioner creates and "
        "purges tenants/<tenantId>/ for any pooled tenant"
    )
    acknowledge_wildcard(policy, "Resource", bucket.arn_for_objects(POOL_TENANT_OBJECTS), reason + ".")
    for action, meaning in (
        ("s3:GetObject*", "object reads"),
        ("s3:GetBucket*", "bucket metadata reads"),
        ("s3:List*", "listing a prefix before purging it"),
        ("s3:DeleteObject*", "purging an offboarded tenant's objects"),
        ("s3:Abort*", "aborting its own multipart uploads"),
    ):
        acknowledge_wildcard(
            policy, "Action", action, f"{reason}; this CDK action group stands for {meaning}."
        )


def _grant_silo_stacks(role: iam.Role, naming: Naming, silo_stack_role: iam.Role) -> None:
    """One stack per silo tenant, created only with the silo service role."""
    role.add_to_policy(
        iam.PolicyStatement(
            sid="CreateSiloStacks",
            actions=["cloudformation:CreateStack"],
            resources=[naming.silo_stacks_arn()],
            conditions={"StringEquals": {"cloudformation:RoleArn": silo_stack_role.role_arn}},
        )
    )
    _statement(
        role,
        "ManageSiloStacks",
        [
            "cloudformation:DescribeStacks",
            "cloudformation:DescribeStackEvents",
            "cloudformation:DeleteStack",
            # CreateStack is called with stack Tags (tag-on-create authorization).
            "cloudformation:TagResource",
        ],
        naming.silo_stacks_arn(),
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="PassSiloStackRole",
            actions=["iam:PassRole"],
            resources=[silo_stack_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
        )
    )
    acknowledge_wildcard(
        default_policy(role),
        "Resource",
        naming.silo_stacks_arn(),
        "One silo stack per tenant, named <app>-<stage>-tenant-<tenantId>; the stack id suffix is "
        "assigned by CloudFormation. CreateStack additionally requires the silo service role.",
    )


def _grant_silo_buckets(role: iam.Role, naming: Naming) -> None:
    """The tenant marker goes into a silo bucket, and the bucket is emptied (objects and versions)
    before its stack is deleted: CloudFormation cannot delete a non-empty bucket."""
    buckets = naming.silo_buckets_arn()
    _statement(role, "SiloBucketListing", ["s3:ListBucket", "s3:ListBucketVersions"], buckets)
    _statement(
        role,
        "SiloBucketObjects",
        ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
        f"{buckets}/*",
    )
    policy = default_policy(role)
    acknowledge_wildcard(
        policy,
        "Resource",
        buckets,
        "Silo bucket names are generated by CloudFormation from the tenant's stack name; listing "
        "is needed to empty a silo bucket before its stack is deleted.",
    )
    acknowledge_wildcard(
        policy,
        "Resource",
        f"{buckets}/*",
        "Objects of silo buckets (named by CloudFormation from the tenant's stack name): the "
        "provisioner writes the tenant marker and empties the bucket before deleting the stack.",
    )
