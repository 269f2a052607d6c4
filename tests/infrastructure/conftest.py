"""Infrastructure fixtures: the CDK app is synthesized once per test session (per xdist worker).

A non-default app name and stage make hard-coded "tenancy"/"dev" names show up as failures.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(ROOT / ".jsii-cache"))

from aws_cdk.assertions import Template  # noqa: E402

from tenancy_infra.stacks.application import build_app  # noqa: E402
from tenancy_infra.stacks.tenancy_stack import TenancyStack  # noqa: E402
from tests.infrastructure.synth import (  # noqa: E402
    APP_NAME,
    STACK_NAME,
    STAGE,
    Synthesized,
    shipped_silo_template,
    validation_failure,
)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk.out")
    # nag=True: what `cdk synth` runs, so an unacknowledged cdk-nag finding fails synthesis here.
    app = build_app(APP_NAME, STAGE, str(outdir), nag=True)
    try:
        assembly = app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        pytest.fail(validation_failure(outdir, error))
    stack = app.node.find_child(STACK_NAME)
    assert isinstance(stack, TenancyStack)
    template = assembly.get_stack_by_name(STACK_NAME).template
    silo_text = shipped_silo_template(outdir, stack)
    return Synthesized(
        app=app,
        stack=stack,
        outdir=outdir,
        template=template,
        assertions=Template.from_json(template),
        silo_template=json.loads(silo_text),
        silo_template_text=silo_text,
    )
