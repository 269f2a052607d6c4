"""`make bench`: Tenancy's numbers beside a bare-boto3 baseline doing the same AWS calls.

Every figure is a median (or percentile) over repeated runs, and every comparison is measured side
by side in the same run: these machines are noisy, so read the ratios, not the absolute times.

    python -m bench.run [--smoke] [--out bench/results.json]

One module per benchmark: bench/cold_start.py, import_weight.py, warm.py, scale.py, onboarding.py,
size.py, bytecode.py, plans.py, workspace.py, datasets.py; the seeded world they share is bench/world.py; the budgets and their verdicts
are bench/budgets.py (results["budgets"] sums them up).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, use_source_paths

use_source_paths()

from bench.budgets import FLOOR_BUDGET, summary  # noqa: E402
from bench.bytecode import layer_bytecode  # noqa: E402
from bench.calls import CallCounter  # noqa: E402
from bench.cold_start import cold_start  # noqa: E402
from bench.common import Counts  # noqa: E402
from bench.datasets import datasets, datasets_table  # noqa: E402
from bench.import_weight import import_weight  # noqa: E402
from bench.onboarding import onboarding  # noqa: E402
from bench.plans import plans, plans_tables  # noqa: E402
from bench.report import table  # noqa: E402
from bench.scale import scale  # noqa: E402
from bench.size import package_sizes  # noqa: E402
from bench.warm import warm_latency  # noqa: E402
from bench.workspace import workspace, workspace_table  # noqa: E402
from bench.world import start_world  # noqa: E402

# --only's names, and the results' keys each one writes.
SECTIONS = {
    "cold": ("cold_start_python", "cold_start_floors", "cold_start"),
    "imports": ("import_weight",),
    "warm": ("warm_latency",),
    "onboarding": ("onboarding",),
    "scale": ("scale",),
    "size": ("package_size",),
    "bytecode": ("layer_bytecode",),
    "plans": ("plans",),
    "workspace": ("workspace",),
    "datasets": ("datasets",),
}

IMPORT_COLUMNS = (
    "function",
    "before_function",
    "modules",
    "modules_before",
    "import_us",
    "import_us_before",
    "import_cpu_us",
    "import_cpu_us_before",
    "weight_vs_before",
    "weight_budget",
    "modules_ok",
    "weight_ok",
    "within_budget",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny counts: checks the benchmark runs, measures nothing"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument(
        "--only",
        nargs="*",
        default=list(SECTIONS),
        help="run these sections only; the others' figures in --out are kept (a re-run is recorded in 'reruns')",
    )
    args = parser.parse_args(argv)
    counts = Counts.smoke() if args.smoke else Counts()

    counter = CallCounter()
    counter.install()
    world, server = start_world()
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        },
        "counts": vars(counts),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        if "size" in args.only:
            results["package_size"] = package_sizes()
            print(table("Package size (Lambda limit 250 MB unzipped)", results["package_size"]), flush=True)
        if "bytecode" in args.only:
            results["layer_bytecode"] = layer_bytecode(counts)
            print(
                table(
                    "Layer bytecode: the handler's import on the runtime's Python",
                    [results["layer_bytecode"]],
                ),
                flush=True,
            )
        if "cold" in args.only:
            from bench.cold import cold_environment
            from bench.cold_start import FLOOR_FEATURES

            results["cold_start_python"] = cold_environment()[2]
            results["cold_start_floors"] = FLOOR_FEATURES
            results["cold_start"] = cold_start(world, counts)
            print(
                table(
                    f"Cold start: import + first event, median ms (budget ≤ {FLOOR_BUDGET}x the function's "
                    "stack floor; the ratio to bare boto3 has no budget)",
                    results["cold_start"],
                ),
                flush=True,
            )
        if "imports" in args.only:
            results["import_weight"] = import_weight(counts)
            section = results["import_weight"]
            print(
                table(
                    f"Handler import by -X importtime, median of {section['runs']} runs, against "
                    f"{section['before']['commit'][:7]} (budget: modules {section['budget']['modules']}, "
                    f"time {section['budget']['time']})",
                    [{k: r.get(k) for k in IMPORT_COLUMNS} for r in section["functions"]],
                ),
                flush=True,
            )
        if "warm" in args.only:
            results["warm_latency"] = warm_latency(world, counts, counter)
            print(
                table(
                    "Warm latency per route, ms (budget p50 ≤ 1.5x baseline) and AWS calls per request",
                    results["warm_latency"],
                ),
                flush=True,
            )
        if "scale" in args.only:
            results["scale"] = scale(world, counts)
            print(
                table(
                    "One tenant's list/get with few vs many tenants in the pool table (budget ≤ 1.2)",
                    [results["scale"]],
                ),
                flush=True,
            )
        if "plans" in args.only:
            results["plans"] = plans(world, counts, counter)
            for title, rows in plans_tables(results["plans"]):
                print(table(title, rows), flush=True)
        if "workspace" in args.only:
            results["workspace"] = workspace(world, counts, counter)
            print(table(*workspace_table(results["workspace"])), flush=True)
        if "datasets" in args.only:
            results["datasets"] = datasets(world, counts)
            for title, rows in datasets_table(results["datasets"]):
                print(table(title, rows), flush=True)
        if "onboarding" in args.only:
            results["onboarding"] = onboarding(counts)
            print(
                table(
                    "Onboarding through the local cloud over HTTP: 201 → PROVISIONED", [results["onboarding"]]
                ),
                flush=True,
            )
    finally:
        server.stop()
    results = merged(args.out, results, [name for name in SECTIONS if name in args.only])
    results["budgets"] = summary(results)
    print(
        table(
            "Budgets",
            [
                {"budget": s["budget"], "within": len(s["within"]), "over": ", ".join(s["over"]) or None}
                for s in results["budgets"].values()
                if isinstance(s, dict)
            ],
        ),
        flush=True,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {args.out}")
    return 0


def merged(out: Path, results: dict[str, Any], ran: list[str]) -> dict[str, Any]:
    """A run of some sections only keeps the other sections' figures already in `out`: the file's
    machine, counts and time stay those of the run that wrote them, and `reruns` lists the sections
    measured again since, with their own time and counts."""
    if set(ran) == set(SECTIONS) or not out.exists():
        return results
    previous: dict[str, Any] = json.loads(out.read_text())
    fresh = {key for name in ran for key in SECTIONS[name]}
    kept = {key: value for key, value in previous.items() if key not in fresh and key != "budgets"}
    rerun = {key: results[key] for key in ("machine", "counts", "generated_at")}
    kept["reruns"] = [
        *[r for r in previous.get("reruns", []) if set(r["sections"]) - set(ran)],
        {"sections": ran, **rerun},
    ]
    print(f"kept from {out}: {', '.join(k for k in kept if k in {*sum(SECTIONS.values(), ())}) or 'nothing'}")
    return {**kept, **{key: results[key] for key in fresh if key in results}}


if __name__ == "__main__":
    sys.exit(main())
