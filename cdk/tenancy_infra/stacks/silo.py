"""One silo tenant's dedicated resources: a bucket and an app table with the pooled schema.

The tenant provisioner creates one CloudFormation stack per ENTERPRISE tenant from this template
(`<app>-<stage>-tenant-<tenantId>`, parameter `TenantId`, service role SILO_STACK_ROLE_ARN). The template
is synthesized standalone (no assets, no bootstrap version parameter or rule) and shipped by the main
stack as an S3 asset.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from tenancy.common.names import resource_name

from .. import paths
from ..topology import APP_TABLE
from .nag import acknowledge
from .naming import silo_stack_id
from .storage import send_events_to_event_bridge
from .tables import build_table

# Stack names are `<app>-<stage>-tenant-<tenantId>`: CloudFormation allows letters, digits and hyphens.
TENANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"


class SiloTenantStack(cdk.Stack):
    """Parameters: TenantId. Outputs: BucketName, TableName (read by the tenant provisioner)."""

    def __init__(self, scope: Construct, construct_id: str, *, app_name: str, stage: str) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"{resource_name(app_name, stage, 'tenant')}: one silo tenant's bucket and app table",
            synthesizer=cdk.BootstraplessSynthesizer(),
            analytics_reporting=False,
        )
        tenant_id = cdk.CfnParameter(
            self,
            "TenantId",
            type="String",
            description="The silo tenant this stack belongs to",
            allowed_pattern=TENANT_ID_PATTERN,
            constraint_description="letters, digits and hyphens, at most 64 characters",
        )

        bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # Short logical ids keep CloudFormation's generated names (`<stack>-<logicalid>-<suffix>`)
        # readable and keep the `<app>-<stage>-tenant-` prefix the IAM policies are scoped to.
        _cfn(bucket).override_logical_id("Bucket")
        # Its uploads reach the main stack's ObjectCreatedTrigger rules (default bus) as the pool's do.
        send_events_to_event_bridge(bucket)
        acknowledge(
            _cfn(bucket),
            "AwsSolutions-S1",
            "A silo bucket lives in a per-tenant stack created at runtime; server access logging would "
            "need the shared logs bucket passed in as a parameter by the provisioner (not wired yet).",
        )

        table = build_table(
            self, "Table", APP_TABLE, table_name=None, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        _cfn(table).override_logical_id("Table")

        cdk.Tags.of(self).add("tenant-id", tenant_id.value_as_string)
        cdk.Tags.of(self).add("app", app_name)
        cdk.Tags.of(self).add("stage", stage)

        cdk.CfnOutput(
            self, "BucketName", value=bucket.bucket_name, description="The tenant's dedicated bucket"
        )
        cdk.CfnOutput(
            self, "TableName", value=table.table_name, description="The tenant's dedicated app table"
        )
        self.bucket = bucket
        self.table = table


def _cfn(construct: Construct) -> cdk.CfnResource:
    child = construct.node.default_child
    assert isinstance(child, cdk.CfnResource)
    return child


def build_silo_app(
    app_name: str,
    stage: str,
    *,
    outdir: str | None = None,
    nag: bool = True,
    context: dict[str, Any] | None = None,
) -> tuple[cdk.App, SiloTenantStack]:
    """A standalone app holding only the silo stack (cdk-nag AwsSolutions applied when `nag`)."""
    app = cdk.App(
        outdir=outdir, analytics_reporting=False, context={**paths.cdk_feature_flags(), **(context or {})}
    )
    stack = SiloTenantStack(app, silo_stack_id(app_name, stage), app_name=app_name, stage=stage)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def synth_silo_template(app_name: str, stage: str, *, nag: bool = True) -> dict[str, Any]:
    """The silo CloudFormation template as a dict (synthesized in a throwaway cloud assembly)."""
    with tempfile.TemporaryDirectory(prefix="silo-cdk-") as outdir:
        app, stack = build_silo_app(app_name, stage, outdir=outdir, nag=nag)
        template = app.synth().get_stack_by_name(stack.stack_name).template
    if not isinstance(template, dict):
        raise TypeError(f"unexpected silo template type {type(template).__name__}")
    return template


def write_template(template: dict[str, Any], path: Path) -> Path:
    """Write atomically (parallel test workers may synthesize the same app at the same time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps(template, indent=1, sort_keys=True) + "\n"
    if path.exists() and path.read_text() == body:
        return path
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(body)
    os.chmod(tmp, 0o644)  # mkstemp creates 0600; the file is a build output, not a secret
    os.replace(tmp, path)
    return path
