"""build_app: the whole CDK app; `cdk/app.py` and the infrastructure tests call it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from tenancy.common.names import APP_NAME_PATTERN, DEFAULT_APP_NAME, DEFAULT_STAGE, STAGE_PATTERN

from .. import paths
from .naming import stack_name
from .silo import synth_silo_template, write_template
from .tenancy_stack import TenancyStack

# The same rules as tenancy.common.config.Settings: the names end up in resource names and ARNs.
_APP_NAME = re.compile(APP_NAME_PATTERN)
_STAGE = re.compile(STAGE_PATTERN)


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
    if not _APP_NAME.match(app_name):
        raise ValueError(f"app_name {app_name!r} must match {APP_NAME_PATTERN}")
    if not _STAGE.match(stage):
        raise ValueError(f"stage {stage!r} must match {STAGE_PATTERN}")

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
