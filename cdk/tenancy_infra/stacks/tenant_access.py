"""The tenant-access role: the third layer of tenant isolation (docs/architecture.md, "Isolation, three layers deep").

The app API never touches tenant data with its own execution role. For every request it assumes
this role with the session tag `TenantId=<the tenant of the verified token>` and uses those
credentials for every data call. The role's policy reaches only:

- items whose partition key is exactly `TENANT#${aws:PrincipalTag/TenantId}` (dynamodb:LeadingKeys,
  exact match), on the pooled app table and on the tenant's own silo table, never Scan, never an
  index (explicitly denied);
- objects under `tenants/${aws:PrincipalTag/TenantId}/` in the pooled bucket and in silo buckets.

`${aws:PrincipalTag/TenantId}` is an IAM policy variable, written literally (it is not a CDK token).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from tenancy_infra.stacks.tables import ITEM_ACTIONS

TENANT_TAG = "TenantId"
PRINCIPAL_TENANT_ID = "${aws:PrincipalTag/" + TENANT_TAG + "}"
TENANT_PARTITION_KEY = "TENANT#" + PRINCIPAL_TENANT_ID  # tenancy.common.keys: PK=TENANT#<tenantId>
TENANT_OBJECT_PREFIX = f"tenants/{PRINCIPAL_TENANT_ID}/*"  # tenancy.names.pool_prefix()
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
