"""The tenant-access role: the third layer of tenant isolation (docs/architecture.md, "Isolation, three layers deep").

The app API never touches tenant data with its own execution role. For every request it assumes
this role with the session tag `TenantId=<the tenant of the verified token>` and uses those
credentials for every data call. The role's policy reaches only:

- items whose partition key is exactly `TENANT#${aws:PrincipalTag/TenantId}` (dynamodb:LeadingKeys,
  exact match), on the pooled app table and on the tenant's own silo table, never Scan, never an
  index (explicitly denied);
- objects under `tenants/${aws:PrincipalTag/TenantId}/` in the pooled bucket and in silo buckets;
- the usage table's items in the same `TENANT#${aws:PrincipalTag/TenantId}` partition (the request
  limiter and the metering reads: get, query, put, update, condition check; never delete);
- secrets named `/<app>/<stage>/tenants/${aws:PrincipalTag/TenantId}/*` in Secrets Manager: created
  only tagged `TenantId=${aws:PrincipalTag/TenantId}` (tag keys TenantId, Application, Stage only)
  and encrypted with the stack's secrets key; read, changed and deleted only when so tagged; and the
  key used only through Secrets Manager, for those secrets (encryption context `SecretARN`). No
  ListSecrets: it cannot be limited to one tenant's secrets (the app API lists the metadata it keeps
  in the tenant's partition instead).

`${aws:PrincipalTag/TenantId}` is an IAM policy variable, written literally (it is not a CDK token).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from tenancy.common.keys import TENANT_ENTITY
from tenancy.common.names import TENANT_ACCESS_ROLE_SUFFIX, pool_prefix

from .cfn import default_policy
from .concern import Concern
from .nag import acknowledge_wildcard
from .naming import Naming
from .tables import ITEM_ACTIONS

TENANT_TAG = "TenantId"
PRINCIPAL_TENANT_ID = "${aws:PrincipalTag/" + TENANT_TAG + "}"
TENANT_PARTITION_KEY = f"{TENANT_ENTITY}#{PRINCIPAL_TENANT_ID}"  # tenancy.common.keys.tenant_pk
TENANT_OBJECT_PREFIX = pool_prefix(PRINCIPAL_TENANT_ID) + "*"  # tenants/<tenantId>/*
MAX_SESSION_DURATION = Duration.hours(1)

# Item access of one tenant's partition: key lookups, Query, writes and transactions (authorized
# through Put/Update/Delete/ConditionCheckItem). No Scan (it has no leading key to condition on) and
# no DescribeTable (not an item operation).
TENANT_ITEM_ACTIONS = ITEM_ACTIONS  # no DescribeTable: not an item operation
TENANT_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")

# The trust policy: a trusted role may assume this one only with a TenantId session tag, and with
# no other tag.
SESSION_TAG_CONDITIONS = {
    "StringLike": {f"aws:RequestTag/{TENANT_TAG}": "*"},
    "ForAllValues:StringEquals": {"aws:TagKeys": [TENANT_TAG]},
}
TENANT_ITEMS_CONDITION = {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [TENANT_PARTITION_KEY]}}

# The usage table (tenancy.contracts.usage): the request limiter's conditional update of the day's
# item (UpdateItem, or a transaction with the request's marker: PutItem, ConditionCheckItem), its
# read for the headers (GetItem) and the tenant admins' usage read (Query). Never Delete: the
# metering record is not the tenant's to erase.
TENANT_USAGE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
)

# Secrets (tenancy.application.secrets.vault): creating one tags it (TagResource is authorized on
# create); the rest of its life is reached through its TenantId tag. No ListSecrets, no policy
# actions (Get/PutResourcePolicy), no rotation.
SECRET_TAG_KEYS = [TENANT_TAG, "Application", "Stage"]  # tenancy.application.secrets.vault.TAG_KEYS
TENANT_SECRET_CREATE_ACTIONS = ("secretsmanager:CreateSecret", "secretsmanager:TagResource")
# Exactly what the vault and the accessor call: a replace is UpdateSecret (value and description in
# one call), a read GetSecretValue; no DescribeSecret or PutSecretValue.
TENANT_SECRET_ACTIONS = (
    "secretsmanager:DeleteSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:RestoreSecret",
    "secretsmanager:UpdateSecret",
)
# What Secrets Manager asks KMS for on the caller's behalf: a data key to encrypt a new value, and
# Decrypt to read one (it never calls kms:Encrypt).
TENANT_SECRET_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


class TenantAccess(Concern):
    """The tenant-access role (`role`): the pooled app table and bucket, and the session tenant's own
    silo table and bucket, each only within the tenant's partition or prefix."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        trusted: Sequence[iam.IRole],
        app_table: dynamodb.ITable,
        usage_table: dynamodb.ITable,
        tenant_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        # The key of every tenant secret (rotated yearly by KMS); the account's IAM policies grant its
        # use (the default key policy), and only the tenant-access role is granted it.
        self.secrets_key = kms.Key(
            self.stack,
            "TenantSecretsKey",
            alias=f"alias/{naming.resource('tenant-secrets')}",
            description="Encrypts tenants' secrets in Secrets Manager",
            enable_key_rotation=True,
        )
        silo_tables = naming.tenant_silo_tables_arn(PRINCIPAL_TENANT_ID)
        silo_objects = f"{naming.silo_buckets_arn()}/{TENANT_OBJECT_PREFIX}"
        self.role = build_tenant_access_role(
            self.stack,
            "TenantAccessRole",
            role_name=naming.resource(TENANT_ACCESS_ROLE_SUFFIX),
            trusted=trusted,
            table_arns=[app_table.table_arn, silo_tables],
            object_arns=[tenant_bucket.arn_for_objects(TENANT_OBJECT_PREFIX), silo_objects],
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="TenantUsage",
                actions=list(TENANT_USAGE_ACTIONS),
                resources=[usage_table.table_arn],
                conditions=TENANT_ITEMS_CONDITION,
            )
        )
        tenant_secrets = naming.tenant_secrets_arn(PRINCIPAL_TENANT_ID)
        add_tenant_secrets(self.role, tenant_secrets, self.secrets_key.key_arn)
        policy = default_policy(self.role)
        acknowledge_wildcard(
            policy,
            "Resource",
            tenant_secrets,
            "The session tenant's own secrets /<app>/<stage>/tenants/${aws:PrincipalTag/TenantId}/<name> "
            "(ARNs end in a random suffix Secrets Manager adds); each statement also requires the "
            "secret's or the request's TenantId tag to be the session's.",
        )
        acknowledge_wildcard(
            policy,
            "Resource",
            silo_tables,
            "The session's own silo table: silo tables are named by CloudFormation "
            "<app>-<stage>-tenant-<tenantId>-Table-<suffix>, and ${aws:PrincipalTag/TenantId} pins the "
            "tenant; item access is further limited to the TENANT#<tenantId> partition (LeadingKeys).",
        )
        acknowledge_wildcard(
            policy,
            "Resource",
            tenant_bucket.arn_for_objects(TENANT_OBJECT_PREFIX),
            "Objects under the session tenant's own prefix tenants/${aws:PrincipalTag/TenantId}/ of the "
            "pool bucket: the wildcard covers that one tenant's objects only.",
        )
        acknowledge_wildcard(
            policy,
            "Resource",
            silo_objects,
            "Silo bucket names are generated by CloudFormation (lower-cased, truncated), so only their "
            "<app>-<stage>-tenant- prefix is known; objects are limited to the session tenant's prefix.",
        )


def add_tenant_secrets(role: iam.Role, secret_arns: str, key_arn: str) -> None:
    """The session tenant's secrets (`secret_arns`: the ARN pattern of its path), and the secrets key
    (`key_arn`) only through Secrets Manager and only for those secrets."""
    role.add_to_policy(
        iam.PolicyStatement(
            sid="CreateTenantSecrets",
            actions=list(TENANT_SECRET_CREATE_ACTIONS),
            resources=[secret_arns],
            conditions={
                "StringEquals": {f"aws:RequestTag/{TENANT_TAG}": PRINCIPAL_TENANT_ID},
                "ForAllValues:StringEquals": {"aws:TagKeys": SECRET_TAG_KEYS},
            },
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="TenantSecrets",
            actions=list(TENANT_SECRET_ACTIONS),
            resources=[secret_arns],
            conditions={"StringEquals": {f"secretsmanager:ResourceTag/{TENANT_TAG}": PRINCIPAL_TENANT_ID}},
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="TenantSecretsKey",
            actions=list(TENANT_SECRET_KEY_ACTIONS),
            resources=[key_arn],
            conditions={
                "StringEquals": {"kms:ViaService": f"secretsmanager.{Stack.of(role).region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:SecretARN": secret_arns},
            },
        )
    )


def build_tenant_access_role(
    scope: Construct,
    construct_id: str,
    *,
    role_name: str,
    trusted: Sequence[iam.IRole],
    table_arns: Sequence[str],
    object_arns: Sequence[str],
) -> iam.Role:
    """`trusted`: the execution roles allowed to assume it (sts:AssumeRole + sts:TagSession);
    `table_arns`: tables (never `/index/*`); `object_arns`: object ARN patterns, already ending in
    TENANT_OBJECT_PREFIX."""
    if not trusted:
        raise ValueError("the tenant-access role needs at least one trusted execution role")
    principals = [iam.ArnPrincipal(role.role_arn) for role in trusted]
    principal = principals[0] if len(principals) == 1 else iam.CompositePrincipal(*principals)
    role = iam.Role(
        scope,
        construct_id,
        role_name=role_name,
        description="Tenant-scoped data access: assumed per request with a TenantId session tag",
        assumed_by=iam.SessionTagsPrincipal(principal.with_conditions(SESSION_TAG_CONDITIONS)),
        max_session_duration=MAX_SESSION_DURATION,
    )
    if any(arn.endswith("/*") or "/index/" in arn for arn in table_arns):
        raise ValueError("tenant-scoped credentials reach tables only, never their indexes")
    if not all(arn.endswith(TENANT_OBJECT_PREFIX) for arn in object_arns):
        raise ValueError(f"tenant-scoped object access must end in {TENANT_OBJECT_PREFIX}")
    role.add_to_policy(
        iam.PolicyStatement(
            sid="TenantItems",
            actions=list(TENANT_ITEM_ACTIONS),
            resources=list(table_arns),
            conditions=TENANT_ITEMS_CONDITION,
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="TenantObjects", actions=list(TENANT_OBJECT_ACTIONS), resources=list(object_arns)
        )
    )
    # IAM's `*` also matches `/`, so a table pattern ending in `*` would match that table's
    # `/index/<name>` ARNs too: deny every index explicitly (a GSI's leading key is not TENANT#<id>
    # anyway, but the isolation should not rest on that).
    role.add_to_policy(
        iam.PolicyStatement(
            sid="NoIndexes",
            effect=iam.Effect.DENY,
            actions=list(TENANT_ITEM_ACTIONS),
            resources=[
                Stack.of(scope).format_arn(service="dynamodb", resource="table", resource_name="*/index/*")
            ],
        )
    )
    return role
