"""The built layer ships bytecode for the runtime's interpreter. Lambda's /opt is read-only, so a
layer without it is compiled again on every cold start (about 300 ms for the API handlers here).

These tests need the runtime's interpreter (python3.13 on PATH or in pyenv), as `make build` does.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bench.cold import runtime_interpreter
from tenancy_infra.topology import FUNCTIONS, LAMBDA_PYTHON

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / ".build" / "layer" / "python"
ENGINE_LAYER = ROOT / ".build" / "engine-layer" / "python"  # Layer.ENGINE: DuckDB
RUNTIME_BOTO3 = ROOT / ".build" / "bench" / "runtime"  # what the Lambda runtime ships: boto3, botocore
TAG = f"cpython-{LAMBDA_PYTHON.replace('.', '')}"
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source never checked


INTERPRETER = runtime_interpreter(LAMBDA_PYTHON)
pytestmark = pytest.mark.skipif(INTERPRETER is None, reason=f"no python{LAMBDA_PYTHON} interpreter here")


@pytest.mark.parametrize(("layer", "at_least"), [(LAYER, 500), (ENGINE_LAYER, 5)], ids=["shared", "engine"])
def test_every_module_in_the_layer_has_bytecode_of_its_own_source_for_the_runtime(
    layer: Path, at_least: int
) -> None:
    """Unchecked-hash bytecode is never revalidated at import, so the test does it: each module's
    bytecode exists, is hash-based and unchecked, and holds the hash of the source beside it (as
    the runtime's interpreter computes it)."""
    script = f"""
import importlib.util, json, pathlib
layer = pathlib.Path({str(layer)!r})
report = {{"sources": 0, "missing": [], "not_unchecked_hash": [], "stale": []}}
for source in sorted(layer.rglob("*.py")):
    report["sources"] += 1
    compiled = source.parent / "__pycache__" / f"{{source.stem}}.{TAG}.pyc"
    name = str(source.relative_to(layer))
    if not compiled.is_file():
        report["missing"].append(name)
        continue
    header = compiled.read_bytes()[:16]
    if int.from_bytes(header[4:8], "little") != {UNCHECKED_HASH}:
        report["not_unchecked_hash"].append(name)
    elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
        report["stale"].append(name)
print(json.dumps(report))
"""
    assert INTERPRETER is not None
    completed = subprocess.run(
        [INTERPRETER, "-S", "-E", "-B", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    assert report["sources"] > at_least  # shared: powertools, pydantic, PyJWT, cryptography, tenancy
    assert report["missing"] == []
    assert report["not_unchecked_hash"] == []
    assert report["stale"] == []
    assert not any(layer.rglob("*.cpython-311.pyc"))  # nothing compiled for the build machine's Python


def test_the_runtime_imports_every_handler_without_compiling_the_layer() -> None:
    """Under the runtime's interpreter, with writing bytecode off (as on Lambda), importing every
    handler compiles nothing of the layers: all of it comes from the shipped bytecode. (The engine
    layer is on the path for every handler here; only two functions have it deployed.)"""
    handlers = {spec.name: str(ROOT / "functions" / spec.name / "handler.py") for spec in FUNCTIONS}
    script = f"""
import importlib._bootstrap_external as external, importlib.util, json, sys
sys.path[:0] = [{str(LAYER)!r}, {str(ENGINE_LAYER)!r}, {str(RUNTIME_BOTO3)!r}]
compiled = []
original = external.SourceLoader.source_to_code
def source_to_code(self, data, path, *args, **kwargs):
    compiled.append(path)
    return original(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = source_to_code
for name, path in {handlers!r}.items():
    spec = importlib.util.spec_from_file_location(name, path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(compiled))
"""
    assert INTERPRETER is not None
    completed = subprocess.run(
        [INTERPRETER, "-S", "-E", "-B", "-c", script],
        env={
            "PATH": "/usr/bin:/bin",
            "POWERTOOLS_SERVICE_NAME": "bytecode-test",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    compiled = json.loads(completed.stdout.strip().splitlines()[-1])
    assert [path for path in compiled if path.startswith((str(LAYER), str(ENGINE_LAYER)))] == []
    # Besides the runtime's own boto3, at most the handlers (unless bytecode of them is lying around).
    ours = {path for path in compiled if not path.startswith(str(RUNTIME_BOTO3))}
    assert ours <= set(handlers.values())
