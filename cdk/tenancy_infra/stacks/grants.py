"""What each function's execution role may do, beyond its log group and its trigger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets

from tenancy_infra.stacks.cfn import default_policy as _default_policy
from tenancy_infra.stacks.nag import acknowledge_wildcard
from tenancy_infra.stacks.naming import Naming
from tenancy_infra.stacks.tables import ITEM_READ_WRITE_ACTIONS
from tenancy_infra.topology import FUNCTIONS

POOL_PREFIX_PATTERN = "tenants/*"  # tenancy.names.pool_prefix(): tenants/<tenantId>/
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


@dataclass(frozen=True)
class Targets:
    """What the grants reach."""

    naming: Naming
    control_table: dynamodb.Table
    app_table: dynamodb.Table
    idempotency_table: dynamodb.Table
    event_bus: events.EventBus
    tenant_bucket: s3.Bucket
    user_pool_arn: str
    tenant_access_role: iam.Role
    silo_stack_role: iam.Role
    silo_template: s3_assets.Asset


def grant_functions(roles: dict[str, iam.Role], to: Targets) -> None:
    grants: dict[str, Callable[[iam.Role, Targets], None]] = {
        "tenant_api": _grant_tenant_api,
        "provisioning": _grant_provisioning,
        "tenant_provisioner": _grant_tenant_provisioner,
        "provisioning_completion": _grant_provisioning_completion,
        "authorizer": _grant_authorizer,
        "app_api": _grant_app_api,
        "reconciler": _grant_reconciler,
    }
    for spec in FUNCTIONS:
        if spec.name not in grants:
            raise ValueError(f"function {spec.name!r} has no permissions declared in TenancyStack")
        grants[spec.name](roles[spec.name], to)


def _grant_items(table: dynamodb.Table, role: iam.Role, why: str) -> None:
    """Item read/write on the table and its GSIs, without Scan."""
    table.grant(role, *ITEM_READ_WRITE_ACTIONS)
    acknowledge_wildcard(
        _default_policy(role),
        "Resource",
        f"{table.table_arn}/index/*",
        f"Item access to the GSIs of this one table only (`index/*` of its ARN): {why}.",
    )


def _grant_tenant_api(role: iam.Role, to: Targets) -> None:
    _grant_items(to.control_table, role, "tenants are listed through GSI1 and GSI2")
    # Powertools idempotency: read, claim (conditional put), complete and release one record.
    to.idempotency_table.grant(
        role, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
    )


def _grant_provisioning(role: iam.Role, to: Targets) -> None:
    # PENDING -> PROVISIONING; reading the stream comes with the event source.
    _grant_items(to.control_table, role, "Table.grant always covers the table's GSIs")
    to.event_bus.grant_put_events_to(role)


def _grant_provisioning_completion(role: iam.Role, to: Targets) -> None:
    _grant_items(to.control_table, role, "Table.grant always covers the table's GSIs")


def _grant_authorizer(role: iam.Role, to: Targets) -> None:
    """The tenant's status and tier (TENANT#<id>/METADATA in the control table), then the user's
    own item in the tenant's partition through the tenant-access role; no other data."""
    role.add_to_policy(
        iam.PolicyStatement(
            sid="ReadTenantStatus", actions=["dynamodb:GetItem"], resources=[to.control_table.table_arn]
        )
    )
    _grant_tenant_data_access(role, to, "the authorizer reads the user item of each token's tenant")


def _grant_app_api(role: iam.Role, to: Targets) -> None:
    """No data permission of its own: every item and object call goes through the tenant-access
    role, assumed per request with the TenantId session tag of the verified token."""
    _grant_tenant_data_access(role, to, "the app API reads the route of the tenant of each request")
    role.add_to_policy(
        iam.PolicyStatement(
            sid="ManageTenantUsers",
            actions=list(APP_API_USER_ACTIONS),
            resources=[to.user_pool_arn],
        )
    )


def _grant_tenant_data_access(role: iam.Role, to: Targets, why: str) -> None:
    """Tenant data only as the tenant: assume the tenant-access role (with its TenantId session
    tag; the role trusts the functions whose topology environment names its ARN) and read the
    tenant's route to find its table."""
    role.add_to_policy(
        iam.PolicyStatement(
            sid="AssumeTenantAccessRole",
            actions=["sts:AssumeRole", "sts:TagSession"],
            resources=[to.tenant_access_role.role_arn],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="ReadTenantRoutes",
            actions=["ssm:GetParameter", "ssm:GetParametersByPath"],
            resources=[to.naming.routes_arn()],
        )
    )
    acknowledge_wildcard(
        _default_policy(role),
        "Resource",
        to.naming.routes_arn(),
        f"Tenant routes live under /<app>/<stage>/tenants/<tenantId>/; {why} "
        "(read-only: GetParameter and GetParametersByPath).",
    )


def _grant_reconciler(role: iam.Role, to: Targets) -> None:
    # Lists stuck tenants through the status index, moves them, re-publishes lifecycle requests.
    _grant_items(to.control_table, role, "Table.grant always covers the table's GSIs")
    to.event_bus.grant_put_events_to(role)


def _grant_tenant_provisioner(role: iam.Role, to: Targets) -> None:
    naming = to.naming
    policy = _default_policy(role)  # exists: the function's log group grant created it
    to.event_bus.grant_put_events_to(role)
    # Pool tenants: purge the partition (Query + BatchWriteItem) in the shared app table, and the
    # tenants/<tenantId>/ prefix in the shared bucket.
    _grant_items(to.app_table, role, "Table.grant always covers the table's GSIs")
    to.tenant_bucket.grant_read_write(role, POOL_PREFIX_PATTERN)
    prefix_reason = (
        "Bucket.grant_read_write scoped to the pool prefix tenants/*: the provisioner creates and "
        "purges tenants/<tenantId>/ for any pooled tenant"
    )
    acknowledge_wildcard(
        policy, "Resource", to.tenant_bucket.arn_for_objects(POOL_PREFIX_PATTERN), prefix_reason + "."
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
            resources=[naming.silo_tables_arn()],
        )
    )
    # Tenant users: the first admin at onboarding; disable and delete the users at offboarding.
    role.add_to_policy(
        iam.PolicyStatement(
            sid="ManageTenantUsers",
            actions=list(PROVISIONER_USER_ACTIONS),
            resources=[to.user_pool_arn],
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
            resources=[naming.routes_arn()],
        )
    )
    # Silo tenants: one stack each, created only with the silo service role, from the silo template.
    role.add_to_policy(
        iam.PolicyStatement(
            sid="CreateSiloStacks",
            actions=["cloudformation:CreateStack"],
            resources=[naming.silo_stacks_arn()],
            conditions={"StringEquals": {"cloudformation:RoleArn": to.silo_stack_role.role_arn}},
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
            resources=[naming.silo_stacks_arn()],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="PassSiloStackRole",
            actions=["iam:PassRole"],
            resources=[to.silo_stack_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
        )
    )
    # The provisioner writes the prefix marker into a silo bucket and empties it (objects and
    # versions) before deleting the stack: CloudFormation cannot delete a non-empty bucket.
    role.add_to_policy(
        iam.PolicyStatement(
            sid="SiloBucketListing",
            actions=["s3:ListBucket", "s3:ListBucketVersions"],
            resources=[naming.silo_buckets_arn()],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="SiloBucketObjects",
            actions=["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            resources=[f"{naming.silo_buckets_arn()}/*"],
        )
    )
    # CloudFormation reads TemplateURL with the caller's credentials: this one object only.
    role.add_to_policy(
        iam.PolicyStatement(
            sid="ReadSiloTemplate",
            actions=["s3:GetObject"],
            resources=[to.silo_template.bucket.arn_for_objects(to.silo_template.s3_object_key)],
        )
    )
    acknowledge_wildcard(
        policy,
        "Resource",
        naming.routes_arn(),
        "Tenant routes live under /<app>/<stage>/tenants/<tenantId>/; the provisioner writes and "
        "deletes the route of whichever tenant it provisions.",
    )
    acknowledge_wildcard(
        policy,
        "Resource",
        naming.silo_tables_arn(),
        "Silo tables are named by CloudFormation from the tenant's stack name (<app>-<stage>-tenant-"
        "<tenantId>-Table-<suffix>); the provisioner writes a new silo tenant's first admin and reads "
        "an offboarded tenant's users, for any silo tenant. Item actions only, no Scan.",
    )
    acknowledge_wildcard(
        policy,
        "Resource",
        naming.silo_stacks_arn(),
        "One silo stack per tenant, named <app>-<stage>-tenant-<tenantId>; the stack id suffix is "
        "assigned by CloudFormation. CreateStack additionally requires the silo service role.",
    )
    acknowledge_wildcard(
        policy,
        "Resource",
        naming.silo_buckets_arn(),
        "Silo bucket names are generated by CloudFormation from the tenant's stack name; listing "
        "is needed to empty a silo bucket before its stack is deleted.",
    )
    acknowledge_wildcard(
        policy,
        "Resource",
        f"{naming.silo_buckets_arn()}/*",
        "Objects of silo buckets (named by CloudFormation from the tenant's stack name): the "
        "provisioner writes the tenant marker and empties the bucket before deleting the stack.",
    )
