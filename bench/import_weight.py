"""7. Import weight: what importing each function's handler costs, by `python -X importtime`.

For every function a fresh interpreter imports `handler` and nothing else. `-X importtime` says how
many modules that import loaded (the handler and every module nested under it) and how long it took
(its cumulative microseconds, children included); the process also reports the CPU time the import
took (`time.process_time` around it). The figures are compared with the same
measurement of the commit before the layer's restructure (bench/baselines/import_weight_before.json,
recorded with `python -m bench.import_weight record`), so a restructure cannot make imports heavier
unnoticed. A function added since (tenant_updates) has no before of its own: it is held to the
before of its stand-in in STAND_INS, the existing function with the same stack floor and work.

How one measurement runs, identical for the baseline and the live run (`measure_once`):

- the cold-start environment (`bench.cold.cold_environment`): the runtime's interpreter with the
  built layer (its bytecode included), or this interpreter with the layer's sources and dependencies;
- `-X importtime -S -E -B`: no site-packages, no PYTHON* variables, no bytecode written;
- the handler copied alone into an empty folder, so it is compiled from source as on Lambda (the
  function's code ships without bytecode) and no stale `__pycache__` is read;
- sys.path: that folder where Lambda puts the task root, the layer and the runtime's boto3 after
  the standard library, as `bench/cold.py` sets it;
- the environment of an execution environment with tracing and metrics off (`IMPORT_ENVIRONMENT`).

Which modules count. The restructure split 25 flat modules into packages, so a handler now loads
more of Tenancy's own small modules (package `__init__`s, one module per concern) for the same code;
that is layout, not weight, and its cost shows in the time below. What the module budget guards is
what a change could drag in: the modules outside Tenancy's own package (`foreign_modules`:
Powertools, pydantic, botocore, the standard library). The total is reported beside it.

Noise. The module count is deterministic and is compared exactly (`MODULE_TOLERANCE` = 0). Times
are not. -X importtime's microseconds are wall clock: on this shared 2-core machine at a load of 6
the same import took from 0.44 to 2.5 s, and even at a load of 1 two batches of medians of the same
commit differed by up to 29%. They are reported (median over runs) but not budgeted. The time budget
is on CPU time instead (`time.process_time` around the import), normalized by a reference import run
the same way beside it (`import aws_lambda_powertools.event_handler`: pinned third-party code from
the same layer folder, which no commit of Tenancy changes), taking the fastest run of each, the one
least disturbed by other processes: `normalized` = fastest handler CPU / fastest reference CPU.
Measuring a46471f twice that way (21 and 9 runs, load 1) gave the same module counts and normalized
times within -3.7%..+5% per function. A median of per-run ratios moved by up to 12%, and `import
boto3` as the reference shifted by 1.7x when other work loaded the machine, so neither is used. The
normalized time may exceed the baseline's by `TIME_TOLERANCE` (10%, twice the spread seen); it is
the weaker of the two checks, the module count the firm one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.budgets import import_verdict
from bench.common import ROOT, Counts, median, use_source_paths

BASELINE_FILE = ROOT / "bench" / "baselines" / "import_weight_before.json"
FUNCTIONS = (
    "tenant_api",
    "provisioning",
    "tenant_provisioner",
    "provisioning_completion",
    "authorizer",
    "app_api",
    "reconciler",
    "tenant_updates",
)
# Functions added since the recorded "before", budgeted against the before of the existing function
# nearest to them: the same stack floor (bench/cold_start.py's FLOORS) and the same kind of work.
# tenant_updates (TenantUpdated -> SSM discovery) is, like provisioning_completion, an EventBridge
# rule consumer validating its event with a parser model and making a few calls of one client: its
# import may load no more modules from outside Tenancy, nor take longer normalized, than that one did.
STAND_INS = {"tenant_updates": "provisioning_completion"}
# The reference import: third-party only (Powertools, pinned), from the same layer folder as the
# handlers' dependencies, so that the machine's state weighs on it as on them.
REFERENCE = "aws_lambda_powertools.event_handler"
# Allowed excess of the normalized import CPU time over the baseline's (see the module's docstring).
TIME_TOLERANCE = 0.10
# Modules: none more than before (the count does not vary between runs of the same code).
MODULE_TOLERANCE = 0
IMPORT_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",  # as in bench/cold_start.py: tenancy.coldstart reads it
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Tenancy",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}
# argv: module, task root, then the layer's folders and the runtime's boto3 (after the stdlib). `sys`
# and `time` are built in: importing them first takes nothing from the handler's report.
SCRIPT = (
    "import sys, time; sys.path[1:1] = sys.argv[2:3]; sys.path += sys.argv[3:]; "
    "began = time.process_time_ns(); __import__(sys.argv[1]); "
    "sys.stderr.write('import cpu ns: %d\\n' % (time.process_time_ns() - began))"
)
METHOD = (
    '<interpreter> -X importtime -S -E -B -c "' + SCRIPT + '" handler <folder holding a copy of '
    "functions/<f>/handler.py alone> <layer folders> <runtime boto3>, in the environment "
    "IMPORT_ENVIRONMENT of bench/import_weight.py; modules: the top-level `handler` line of the "
    "-X importtime report and the lines nested under it; import_us: that line's cumulative us "
    "(wall clock); import_cpu_us: the process time around the import. Each run pairs the handler with "
    "the reference `import aws_lambda_powertools.event_handler` run the same way (alternating order, "
    "one unmeasured round first); figures are medians over runs except `normalized`: the fastest "
    "handler import CPU time / the fastest reference import CPU time"
)


@dataclass(frozen=True)
class Weight:
    """One import: -X importtime's cumulative microseconds (wall clock) and module count, and the
    CPU microseconds the process spent in it."""

    cumulative_us: int
    modules: int
    cpu_us: int = 0
    foreign_modules: int = 0  # distinct modules outside Tenancy's own package (and the handler)


def parse_importtime(stderr: str, module: str) -> Weight:
    """The top-level import of `module` in -X importtime's report: its cumulative microseconds and
    the modules it loaded (itself and the lines nested under it, which precede it)."""
    rows: list[tuple[int, int, str]] = []  # (nesting level, cumulative us, name)
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        _, cumulative_field, name_field = line[len("import time:") :].split("|", 2)
        if not cumulative_field.strip().isdigit():
            continue  # the header
        label = name_field[1:]  # one space after the bar, then two per nesting level
        rows.append(((len(label) - len(label.lstrip(" "))) // 2, int(cumulative_field), label.strip()))
    for index in range(len(rows) - 1, -1, -1):
        level, cumulative, name = rows[index]
        if level == 0 and name == module:
            nested = 0
            while index - nested - 1 >= 0 and rows[index - nested - 1][0] > 0:
                nested += 1
            # Distinct names: -X importtime lists a package twice when a nested import re-enters it
            # while it initializes (aws_lambda_powertools.logging), which loads nothing more.
            names = {rows[i][2] for i in range(index - nested, index)}
            foreign = sum(1 for n in names if n != "tenancy" and not n.startswith("tenancy."))
            return Weight(cumulative, nested + 1, foreign_modules=foreign)
    raise ValueError(f"no top-level import of {module!r} in the -X importtime report")


def parse_report(stderr: str, module: str) -> Weight:
    """`parse_importtime` plus the CPU time the measuring script writes after the import."""
    weight = parse_importtime(stderr, module)
    for line in stderr.splitlines():
        if line.startswith("import cpu ns:"):
            return Weight(
                weight.cumulative_us, weight.modules, int(line.split(":")[1]) // 1000, weight.foreign_modules
            )
    raise ValueError("no `import cpu ns:` line in the measuring script's report")


@dataclass(frozen=True)
class Environment:
    interpreter: str
    layer: list[str]
    runtime: str

    def version(self) -> str:
        completed = subprocess.run(  # noqa: S603 (an interpreter of this machine)
            [self.interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
        )
        return f"python{completed.stdout.strip()}"


def live_environment() -> Environment:
    from bench.cold import RUNTIME, cold_environment

    interpreter, layer, _ = cold_environment()
    return Environment(interpreter, layer.split(":"), str(RUNTIME))


def measure_once(environment: Environment, module: str, task_root: Path, function: str) -> Weight:
    completed = subprocess.run(  # noqa: S603 (the runtime's interpreter, our script)
        [
            environment.interpreter,
            "-X",
            "importtime",
            "-S",
            "-E",
            "-B",
            "-c",
            SCRIPT,
            module,
            str(task_root),
            *environment.layer,
            environment.runtime,
        ],
        cwd=task_root,
        env={"PATH": os.environ.get("PATH", ""), "POWERTOOLS_SERVICE_NAME": function, **IMPORT_ENVIRONMENT},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {module} for {function} failed:\n{completed.stderr[-2000:]}")
    return parse_report(completed.stderr, module)


def measure(environment: Environment, functions_dir: Path, runs: int) -> dict[str, dict[str, Any]]:
    """Per function, its handler's import summarized over `runs` rounds (`summarize`), each round
    pairing it with the reference import in alternating order; one unmeasured round first (page
    cache)."""
    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for function in FUNCTIONS:
            if not (functions_dir / function / "handler.py").exists():
                continue  # a function the measured checkout does not have yet (STAND_INS)
            task_root = Path(scratch) / function
            task_root.mkdir()
            shutil.copy(functions_dir / function / "handler.py", task_root / "handler.py")
            empty = Path(scratch) / f"{function}-reference"
            empty.mkdir()
            handler: list[Weight] = []
            reference: list[Weight] = []
            for run in range(runs + 1):
                pair = [("handler", task_root, handler), (REFERENCE, empty, reference)]
                for module, root, into in pair if run % 2 == 0 else pair[::-1]:
                    weight = measure_once(environment, module, root, function)
                    if run:
                        into.append(weight)
            figures[function] = summarize(handler, reference)
    return figures


def summarize(handler: list[Weight], reference: list[Weight]) -> dict[str, Any]:
    """A function's runs: medians of its module count, importtime microseconds and import CPU time;
    `normalized` is the handler's fastest import CPU time divided by the reference's fastest, the
    runs least disturbed by other processes (see the module's docstring)."""
    fastest, fastest_reference = min(w.cpu_us for w in handler), min(w.cpu_us for w in reference)
    return {
        "modules": round(median([float(w.modules) for w in handler])),
        "modules_seen": sorted({w.modules for w in handler}),
        "foreign_modules": round(median([float(w.foreign_modules) for w in handler])),
        "cumulative_us": round(median([float(w.cumulative_us) for w in handler])),
        "cpu_us": round(median([float(w.cpu_us) for w in handler])),
        "cpu_us_fastest": fastest,
        "reference_cpu_us_fastest": fastest_reference,
        "normalized": round(fastest / fastest_reference, 4),
    }


def before_of(function: str, recorded: dict[str, Any]) -> str:
    """The function whose recorded before `function` is budgeted against: itself, or its stand-in
    (STAND_INS) when the before did not have it. Neither is an error: a new function needs one."""
    if function in recorded:
        return function
    stand_in = STAND_INS.get(function)
    if stand_in is None or stand_in not in recorded:
        raise KeyError(f"{function} is not in the recorded before and has no stand-in in STAND_INS")
    return stand_in


def layer_packages(layer: Sequence[str]) -> list[str]:
    """The third-party distributions in the layer's folders (what the import weight also depends on)."""
    return sorted(
        p.name.removesuffix(".dist-info") for folder in layer for p in Path(folder).glob("*.dist-info")
    )


def load_baseline(path: Path = BASELINE_FILE) -> dict[str, Any]:
    baseline: dict[str, Any] = json.loads(path.read_text())
    return baseline


def import_weight(counts: Counts, baseline_path: Path = BASELINE_FILE) -> dict[str, Any]:
    """The section of the results: every function's import now, before, and the verdict."""
    environment = live_environment()
    baseline = load_baseline(baseline_path)
    version = environment.version()
    packages = layer_packages(environment.layer)
    figures = measure(environment, ROOT / "functions", counts.cold_runs)
    comparable = version == baseline["interpreter"]
    rows = []
    for function, after in figures.items():
        before_function = before_of(function, baseline["functions"])
        row: dict[str, Any] = {"function": function, "before_function": before_function}
        if comparable:
            row.update(
                import_verdict(
                    after, baseline["functions"][before_function], TIME_TOLERANCE, MODULE_TOLERANCE
                )
            )
        else:  # another interpreter imports other modules: no verdict
            row.update(
                modules=after["modules"],
                import_us=after["cumulative_us"],
                import_cpu_us=after["cpu_us"],
                normalized=after["normalized"],
                within_budget=None,
            )
        rows.append(row)
    return {
        "method": METHOD,
        "reference": REFERENCE,
        "interpreter": version,
        "runs": counts.cold_runs,
        "before": {
            "commit": baseline["commit"],
            "file": str(baseline_path.relative_to(ROOT)),
            "interpreter": baseline["interpreter"],
            "runs": baseline["runs"],
        },
        "budget": {
            "modules": f"outside Tenancy's own package ≤ before + {MODULE_TOLERANCE}",
            "time": f"normalized import CPU time ≤ {1 + TIME_TOLERANCE:g}x before's",
            "time_tolerance": TIME_TOLERANCE,
            "module_tolerance": MODULE_TOLERANCE,
        },
        "comparable": comparable,
        "stand_ins": {f: STAND_INS[f] for f in FUNCTIONS if f not in baseline["functions"]},
        "layer_packages_as_before": packages == baseline["layer_packages"],
        "functions": rows,
    }


# --- recording the baseline -------------------------------------------------------------------


def record(argv: Sequence[str]) -> int:
    """Measure a checkout (say a worktree of the commit before a restructure) and write the baseline.

    python -m bench.import_weight record --checkout /tmp/before --commit <sha> [--runs 21]

    The checkout's layer is built as `make build` builds it, from the built layer's third-party
    packages and the checkout's `tenancy` package, compiled by the runtime's interpreter."""
    parser = argparse.ArgumentParser(prog="python -m bench.import_weight record")
    parser.add_argument("--checkout", type=Path, required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--out", type=Path, default=BASELINE_FILE)
    args = parser.parse_args(argv)
    use_source_paths()
    live = live_environment()
    with tempfile.TemporaryDirectory() as scratch:
        layer = _checkout_layer(args.checkout, live, Path(scratch))
        environment = Environment(live.interpreter, layer, live.runtime)
        figures = measure(environment, args.checkout / "functions", args.runs)
        packages = layer_packages(layer)
    baseline = {
        "commit": args.commit,
        "measured": "python -m bench.import_weight record " + " ".join(argv),
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average_1min_at_end": round(os.getloadavg()[0], 1),
        "method": METHOD,
        "layer": "the built layer's third-party packages with the commit's layers/shared/python/tenancy, "
        "compiled by the runtime's interpreter as `make build` compiles it (or, without that interpreter, "
        "the commit's layers/shared/python with the bench env's dependencies)",
        "interpreter": environment.version(),
        "environment": IMPORT_ENVIRONMENT,
        "runs": args.runs,
        "layer_packages": packages,
        "functions": figures,
    }
    args.out.write_text(json.dumps(baseline, indent=2) + "\n")
    print(json.dumps(baseline, indent=2))
    return 0


def _checkout_layer(checkout: Path, live: Environment, scratch: Path) -> list[str]:
    """The checkout's layer folders, in the live environment's form."""
    from bench.cold import BUILT_LAYER

    source = checkout / "layers" / "shared" / "python"
    if live.layer[0] != str(BUILT_LAYER):  # no runtime interpreter: the sources, as the bench uses them
        return [str(source), *live.layer[1:]]
    built = scratch / "python"
    shutil.copytree(BUILT_LAYER, built, ignore=shutil.ignore_patterns("tenancy", "__pycache__", ".built"))
    shutil.copytree(source / "tenancy", built / "tenancy", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(  # noqa: S603 (the runtime's interpreter), as the Makefile compiles the layer
        [
            live.interpreter,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(built),
            "-p",
            "/opt/python",
            str(built),
        ],
        check=True,
    )
    return [str(built)]


if __name__ == "__main__":
    if sys.argv[1:2] != ["record"]:
        sys.exit("usage: python -m bench.import_weight record --checkout DIR --commit SHA")
    sys.exit(record(sys.argv[2:]))
