"""build_app: the whole CDK app; `cdk/app.py` and the infrastructure tests call it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from tenancy.common.names import DEFAULT_APP_NAME, DEFAULT_STAGE
from tenancy_infra import paths
from tenancy_infra.stacks.naming import stack_name
from tenancy_infra.stacks.silo import synth_silo_template, write_template
from tenancy_infra.stacks.tenancy_stack import TenancyStack

# The same rules as tenancy.config.Settings: the names end up in resource names and ARNs.
APP_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,20}$")
STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,15}$")


def silo_template_path(app_name: str, stage: str) -> Path:
    """Where build_app writes the silo template the stack ships as an asset (.build/, git-ignored)."""
    return paths.SILO_TEMPLATES_DIR / f"{stack_name(app_name, stage)}-tenant.template.json"


def build_app(
    app_name: str | None = None,
    stage: str | None = None,
    outdir: str | None = None,
    *,
    nag: bool = True,
    context: dict[str, Any] | None = None,
) -> cdk.App:
    """The Tenancy app with its one stack `<app>-<stage>`.

    `app_name` / `stage` default to the `app_name` / `stage` context (`-c stage=prod`), then to
    "tenancy" / "dev". With `nag`, cdk-nag's AwsSolutions pack runs on synthesis and any
    unacknowledged finding (error or warning) fails it.
    """
    app = cdk.App(outdir=outdir, context={**paths.cdk_feature_flags(), **(context or {})})
    app_name = app_name or app.node.try_get_context("app_name") or DEFAULT_APP_NAME
    stage = stage or app.node.try_get_context("stage") or DEFAULT_STAGE
    if not APP_NAME_PATTERN.match(app_name):
        raise ValueError(f"app_name {app_name!r} must match {APP_NAME_PATTERN.pattern}")
    if not STAGE_PATTERN.match(stage):
        raise ValueError(f"stage {stage!r} must match {STAGE_PATTERN.pattern}")

    silo_file = write_template(
        synth_silo_template(app_name, stage, nag=nag), silo_template_path(app_name, stage)
    )
    name = stack_name(app_name, stage)
    stack = TenancyStack(
        app, name, stack_name=name, app_name=app_name, stage=stage, silo_template_file=silo_file
    )
    cdk.Tags.of(stack).add("app", app_name)
    cdk.Tags.of(stack).add("stage", stage)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app
