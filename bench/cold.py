"""One cold start, in a fresh process: import the handler, serve its first event, print the time.

python -S -E -m bench.cold tenancy|baseline <function> <event.json> <layer path>
python -S -E -m bench.cold floor <features>:<function> <event.json> <layer path>

A floor is the function's baseline wrapped by bench/baselines/floors/<features>.py: the stack's
own cost for the Powertools features the function uses.

Run with -S -E, the process sees what a Lambda execution environment sees and nothing of the dev
venv: the function's code, the layer and the runtime's boto3. `cold_environment()` picks them: the
runtime's own Python with the layer `make build` ships (bytecode included) where that interpreter
exists, else this interpreter with the layer's dependencies built for it by `make bench-env`.
The baselines see the same path (the authorizer's verifies tokens with PyJWT; the others import
only boto3 and the standard library).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import importlib.util  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH_ENV = ROOT / ".build" / "bench"
RUNTIME = BENCH_ENV / "runtime"  # what the Lambda Python runtime ships: boto3 and botocore
LAYER = BENCH_ENV / "layer"  # the shared layer's third-party dependencies, for this interpreter
BUILT_LAYER = ROOT / ".build" / "layer" / "python"  # what `make build` ships, for the runtime's Python


def cold_environment() -> tuple[str, str, str]:
    """(interpreter, layer path, description) for the cold starts."""
    from tenancy_infra.topology import LAMBDA_PYTHON  # the runner has cdk/ on its path

    interpreter = runtime_interpreter(LAMBDA_PYTHON)
    if interpreter is not None and BUILT_LAYER.is_dir():
        return interpreter, str(BUILT_LAYER), f"python{LAMBDA_PYTHON} (the runtime's) with the built layer"
    if not (LAYER.is_dir() and RUNTIME.is_dir()):
        raise RuntimeError(f"{LAYER} and {RUNTIME} are missing: run `make bench-env` first")
    source = ROOT / "layers" / "shared" / "python"
    return (
        sys.executable,
        f"{source}:{LAYER}",
        f"python{sys.version_info.major}.{sys.version_info.minor} with the layer's dependencies",
    )


def runtime_interpreter(version: str) -> str | None:
    """The Lambda runtime's Python on this machine (PATH, then pyenv), as the Makefile finds it."""
    import glob
    import os
    import shutil
    import subprocess

    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", ""], capture_output=True, check=False).returncode == 0:  # noqa: S603
            return candidate
    return None


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 900_000


def main() -> None:
    kind, function, event_path, layer = sys.argv[1:5]
    event = json.loads(Path(event_path).read_text())
    began = time.perf_counter()
    features = None
    if kind == "floor":
        features, function = function.split(":")
    if kind == "tenancy":
        path = ROOT / "functions" / function / "handler.py"
        sys.path.insert(1, str(path.parent))
    else:
        path = ROOT / "bench" / "baselines" / f"{function}.py"
    sys.path += [*layer.split(":"), str(RUNTIME)]
    lambda_handler = _load("handler", path).lambda_handler
    if features is not None:
        lambda_handler = _load("floor", ROOT / "bench" / "baselines" / "floors" / f"{features}.py").floor(
            lambda_handler
        )
    imported = time.perf_counter()
    result = lambda_handler(event, Context())
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "init_ms": (imported - began) * 1000,
                "first_ms": (done - imported) * 1000,
                "total_ms": (done - began) * 1000,
                "ok": _ok(result),
            }
        )
    )


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    # Compiled from source every time, as on Lambda: the function's own code ships without bytecode.
    # dont_inherit: the file compiles as its own source says, not with this module's __future__ flags
    # (S102: exec of our own handler and baseline files).
    exec(compile(path.read_bytes(), str(path), "exec", dont_inherit=True), module.__dict__)  # noqa: S102
    return module


def _ok(result: object) -> bool:
    if isinstance(result, dict) and "statusCode" in result:
        return int(result["statusCode"]) < 400
    if isinstance(result, dict) and "batchItemFailures" in result:
        return not result["batchItemFailures"]
    if isinstance(result, dict) and "policyDocument" in result:  # an authorizer: the event's user is in
        return all(s.get("Effect") == "Allow" for s in result["policyDocument"].get("Statement", []))
    if isinstance(result, dict) and "executionTimeMs" in result:  # the card executor's ExecutionResult
        return result.get("ok") is True
    if isinstance(result, dict) and "outcome" in result:  # a dataset import: the dataset is READY
        return bool(result["outcome"] == "ready")
    return result is not None


if __name__ == "__main__":
    main()
