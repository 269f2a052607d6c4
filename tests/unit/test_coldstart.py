"""tenancy.common.coldstart: the garbage collector pauses from the handler's first import to the end of its
first invocation, in an execution environment only. Each case runs in a fresh interpreter, since
the collector is process-wide."""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tenancy_infra.topology import FUNCTIONS

LAYER = Path(__file__).resolve().parents[2] / "layers" / "shared" / "python"

SCRIPT = """
import gc, json, sys
sys.path.insert(0, sys.argv[1])
from tenancy.common.coldstart import collector_resumes_after_first_event
states = {"after_import": gc.isenabled()}

@collector_resumes_after_first_event
def handler(event, context):
    states.setdefault("during_first", gc.isenabled())
    if event == "raise":
        raise RuntimeError("the first event failed")
    return {"echo": event}

try:
    states["first_result"] = handler(sys.argv[2], None)
except RuntimeError as error:
    states["first_error"] = str(error)
states["after_first"] = gc.isenabled()
states["frozen"] = gc.get_freeze_count()
cycle = []
cycle.append(cycle)  # garbage made after the first event stays collectable: nothing freezes again
del cycle
states["second_result"] = handler("again", None)
states["after_second"] = gc.isenabled()
states["frozen_after_second"] = gc.get_freeze_count()
print(json.dumps(states))
"""


def run(first_event: str, *, in_lambda: bool) -> dict[str, object]:
    env = {"PATH": "/usr/bin:/bin"}
    if in_lambda:
        env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001"
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(LAYER), first_event],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(completed.stdout)  # type: ignore[no-any-return]


def test_in_an_execution_environment_the_collector_pauses_until_the_first_event_is_handled() -> None:
    states = run("hello", in_lambda=True)
    assert states["after_import"] is False
    assert states["during_first"] is False
    assert states["first_result"] == {"echo": "hello"}
    assert states["after_first"] is True
    assert states["frozen"] > 1000  # what the init built is out of the collector's sight
    assert states["second_result"] == {"echo": "again"}
    assert states["after_second"] is True
    assert states["frozen_after_second"] == states["frozen"]


def test_a_failing_first_event_still_resumes_the_collector() -> None:
    states = run("raise", in_lambda=True)
    assert states["first_error"] == "the first event failed"
    assert states["after_first"] is True


@pytest.mark.parametrize("first_event", ["hello", "raise"])
def test_outside_an_execution_environment_the_collector_is_never_touched(first_event: str) -> None:
    states = run(first_event, in_lambda=False)
    assert states["after_import"] is True
    assert states["during_first"] is True
    assert states["after_first"] is True
    assert states["frozen"] == 0


def test_every_handler_is_wrapped_outermost() -> None:
    """Each function's lambda_handler is the coldstart wrapper, so its first event resumes the
    collector that importing the handler paused."""
    wrapper_code = collector_resumes_after_first_event(lambda event, context: None).__code__
    root = LAYER.parents[2]
    for spec in FUNCTIONS:
        path = root / "functions" / spec.name / "handler.py"
        module_spec = importlib.util.spec_from_file_location(f"coldstart_check_{spec.name}", path)
        assert module_spec is not None
        assert module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        assert module.lambda_handler.__code__ is wrapper_code, spec.name


IMPORTS_ENGINE = """
import importlib.util, json, sys
sys.path.insert(0, sys.argv[1])
path = sys.argv[2]
spec = importlib.util.spec_from_file_location("handler_under_test", path)
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted(name for name in sys.modules if name == "duckdb" or name.startswith("duckdb."))))
"""


@pytest.mark.parametrize(
    ("function", "carries_the_engine"),
    # dataset_import: the control that the check sees an import (analytics_api may load it lazily)
    [("app_api", False), ("authorizer", False), ("dataset_import", True)],
)
def test_only_the_engine_layers_functions_import_duckdb(function: str, carries_the_engine: bool) -> None:
    """The engine (DuckDB, its own layer) is imported by the import and the analytics routes only:
    the app API's and the authorizer's cold starts never load it (the import-linter contract
    `engine-in-two-modules` keeps its direct imports in two modules; this checks what importing each
    handler really loads)."""
    handler = LAYER.parents[2] / "functions" / function / "handler.py"
    completed = subprocess.run(
        [sys.executable, "-c", IMPORTS_ENGINE, str(LAYER), str(handler)],
        env={"PATH": "/usr/bin:/bin", "POWERTOOLS_SERVICE_NAME": function, "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    loaded = json.loads(completed.stdout.strip().splitlines()[-1])
    assert bool(loaded) is carries_the_engine, loaded
