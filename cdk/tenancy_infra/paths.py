"""Where the CDK app finds its inputs and writes its build outputs (no aws_cdk import)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "functions"
LAYER_DIR = ROOT / ".build" / "layer"
LAYER_STAMP = LAYER_DIR / ".built"
ENGINE_LAYER_DIR = ROOT / ".build" / "engine-layer"
ENGINE_LAYER_STAMP = ENGINE_LAYER_DIR / ".built"
SILO_TEMPLATES_DIR = ROOT / ".build" / "silo"
CDK_JSON = ROOT / "cdk.json"


def cdk_feature_flags() -> dict[str, Any]:
    """The `@aws-cdk/...` feature flags of cdk.json, so an app built in-process (tests, the silo
    template) behaves exactly like the one `cdk synth` builds."""
    context = json.loads(CDK_JSON.read_text()).get("context", {})
    return {key: value for key, value in context.items() if key.startswith("@aws-cdk")}


def function_code_dir(name: str) -> Path:
    """functions/<name>: must exist (Code.from_asset packages it as the function's code)."""
    path = FUNCTIONS_DIR / name
    if not path.is_dir():
        raise FileNotFoundError(
            f"{path} does not exist: every function in tenancy_infra.topology.FUNCTIONS needs its folder "
            "under functions/ (with handler.py)"
        )
    return path


def layer_dir() -> Path:
    """The built shared layer; `make build` produces it (manylinux wheels plus the tenancy package)."""
    if not LAYER_STAMP.exists() or not (LAYER_DIR / "python" / "tenancy").is_dir():
        raise FileNotFoundError(
            f"The Lambda layer is not built ({LAYER_DIR} is missing or incomplete): run `make build` first"
        )
    return LAYER_DIR


def engine_layer_dir() -> Path:
    """The built engine layer (topology Layer.ENGINE: DuckDB); `make build` produces it."""
    if not ENGINE_LAYER_STAMP.exists() or not (ENGINE_LAYER_DIR / "python" / "duckdb").is_dir():
        raise FileNotFoundError(
            f"The engine layer is not built ({ENGINE_LAYER_DIR} is missing or incomplete): run `make build` first"
        )
    return ENGINE_LAYER_DIR
