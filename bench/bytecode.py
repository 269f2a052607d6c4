"""6. Layer bytecode: the handler's import on the runtime's Python, with and without the layer's bytecode."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.common import ROOT, Counts, median


def layer_bytecode(counts: Counts) -> dict[str, Any]:
    """The built layer imported by the runtime's interpreter as on Lambda (bytecode never written):
    tenant_api's handler with the layer's shipped bytecode, and with a copy stripped of it."""
    from bench.cold import RUNTIME, runtime_interpreter
    from tenancy_infra.topology import LAMBDA_PYTHON

    interpreter = runtime_interpreter(LAMBDA_PYTHON)
    if interpreter is None:
        return {"interpreter": f"python{LAMBDA_PYTHON} not found", "runs": 0}
    layer = ROOT / ".build" / "layer" / "python"
    handler = ROOT / "functions" / "tenant_api" / "handler.py"
    script = (
        "import importlib.util, sys, time; began = time.perf_counter(); "
        "sys.path[:0] = [sys.argv[1], sys.argv[2]]; "
        "spec = importlib.util.spec_from_file_location('handler', sys.argv[3]); "
        "spec.loader.exec_module(importlib.util.module_from_spec(spec)); "
        "print((time.perf_counter() - began) * 1000)"
    )
    times: dict[str, list[float]] = {"bytecode": [], "source": []}
    with tempfile.TemporaryDirectory() as scratch:
        source_only = Path(scratch) / "python"
        shutil.copytree(layer, source_only, ignore=shutil.ignore_patterns("__pycache__"))
        folders = {"bytecode": layer, "source": source_only}
        for run in range(counts.cold_runs + 1):
            for kind in ("bytecode", "source") if run % 2 == 0 else ("source", "bytecode"):
                completed = subprocess.run(  # noqa: S603 (the runtime's interpreter, our script)
                    [
                        interpreter,
                        "-S",
                        "-E",
                        "-B",
                        "-c",
                        script,
                        str(folders[kind]),
                        str(RUNTIME),
                        str(handler),
                    ],
                    env={"PATH": os.environ.get("PATH", ""), "POWERTOOLS_SERVICE_NAME": "tenant_api"},
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=True,
                )
                if run:  # the first round only warms the page cache
                    times[kind].append(float(completed.stdout.strip().splitlines()[-1]))
    with_bytecode, source = median(times["bytecode"]), median(times["source"])
    return {
        "interpreter": f"python{LAMBDA_PYTHON}",
        "handler": "tenant_api",
        "import_with_bytecode_ms": round(with_bytecode, 1),
        "import_source_only_ms": round(source, 1),
        "saved_ms": round(source - with_bytecode, 1),
        "runs": counts.cold_runs,
    }
