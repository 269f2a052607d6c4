"""The app's entry points: names, context, runtime and build prerequisites."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tenancy_infra import paths
from tenancy_infra.stacks.application import build_app
from tenancy_infra.stacks.functions import lambda_runtime
from tenancy_infra.stacks.naming import stack_name
from tenancy_infra.topology import LAMBDA_PYTHON
from tests.infrastructure.synth import APP_NAME, STACK_NAME, STAGE, Synthesized

ROOT = Path(__file__).resolve().parents[2]


def test_makefile_builds_the_layer_for_the_topology_runtime() -> None:
    makefile = (ROOT / "Makefile").read_text()
    [value] = re.findall(r"^LAMBDA_PYTHON\s*:?=\s*(\S+)\s*$", makefile, flags=re.MULTILINE)
    assert value == LAMBDA_PYTHON


def test_runtime_is_the_topology_python() -> None:
    assert lambda_runtime().name == f"python{LAMBDA_PYTHON}"


def test_one_stack_named_app_dash_stage(synthesized: Synthesized) -> None:
    stacks = [child for child in synthesized.app.node.children if child.node.id == STACK_NAME]
    assert len(stacks) == 1
    assert synthesized.stack.stack_name == STACK_NAME == stack_name(APP_NAME, STAGE)
    assert (synthesized.outdir / f"{STACK_NAME}.template.json").is_file()


def test_cdk_json_runs_the_app_with_the_default_names() -> None:
    cdk_json = json.loads((ROOT / "cdk.json").read_text())
    assert cdk_json["app"] == ".venv/bin/python cdk/app.py"
    assert cdk_json["context"]["app_name"] == "tenancy"
    assert cdk_json["context"]["stage"] == "dev"


@pytest.mark.parametrize(
    ("app_name", "stage"), [("Tenancy", "dev"), ("tenancy", "Dev"), ("t", "dev"), ("tenancy", "dev_1")]
)
def test_rejects_names_that_cannot_name_resources(app_name: str, stage: str) -> None:
    with pytest.raises(ValueError, match="must match"):
        build_app(app_name, stage)


def test_missing_layer_says_to_run_make_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(paths, "LAYER_DIR", tmp_path / "layer")
    monkeypatch.setattr(paths, "LAYER_STAMP", tmp_path / "layer" / ".built")
    with pytest.raises(FileNotFoundError, match="run `make build`"):
        paths.layer_dir()


def test_missing_function_folder_is_a_clear_error() -> None:
    with pytest.raises(FileNotFoundError, match="functions/"):
        paths.function_code_dir("no_such_function")
