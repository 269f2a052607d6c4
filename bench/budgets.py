"""The budgets the benchmark checks, as pure functions of its figures (unit-tested in
tests/unit/test_bench_budgets.py).

- Cold start: each function ≤ FLOOR_BUDGET x its stack floor (bench/baselines/floors/: its bare-boto3
  baseline plus the Powertools features it uses), measured beside it. The ratio to bare boto3 is
  reported too, without a budget: the stack's own floor is above any bare-boto3 budget worth having.
- Import weight (bench/import_weight.py): each handler's import loads no more modules from outside
  Tenancy's own package than before the layer's restructure, and takes no longer, normalized, than before within a stated tolerance.

A verdict is taken on the figures as reported (ratios rounded to 2 or 3 decimals), so the output
never shows a ratio equal to its budget marked over it.
"""

from __future__ import annotations

from typing import Any

FLOOR_BUDGET = 1.05


def cold_start_verdict(
    tenancy_ms: float, baseline_ms: float, floor_ms: float, budget: float = FLOOR_BUDGET
) -> dict[str, Any]:
    """Tenancy's cold start against bare boto3 (reported) and against the matching floor (budgeted)."""
    ratio_to_floor = round(tenancy_ms / floor_ms, 2)
    return {
        "tenancy_ms": round(tenancy_ms, 1),
        "baseline_ms": round(baseline_ms, 1),
        "ratio": round(tenancy_ms / baseline_ms, 2),
        "floor_ms": round(floor_ms, 1),
        "floor_over_baseline": round(floor_ms / baseline_ms, 2),
        "ratio_to_floor": ratio_to_floor,
        "budget_to_floor": budget,
        "within_budget": ratio_to_floor <= budget,
    }


def import_verdict(
    after: dict[str, Any], before: dict[str, Any], time_tolerance: float, module_tolerance: int
) -> dict[str, Any]:
    """One function's handler import now against before (both as `import_weight.summarize` gives
    them): modules ≤ before + module_tolerance, and the normalized import time (the handler's
    fastest import CPU time / the reference import's fastest) ≤ (1 + time_tolerance) x before's."""
    weight = round(after["normalized"] / before["normalized"], 3)
    weight_budget = round(1 + time_tolerance, 3)
    # Modules outside Tenancy's own package (bench/import_weight.py says why); a baseline recorded
    # without that split is held to the total.
    counted = "foreign_modules" if "foreign_modules" in before else "modules"
    modules_budget = before[counted] + module_tolerance
    modules_ok = after[counted] <= modules_budget
    weight_ok = weight <= weight_budget
    return {
        "modules": after["modules"],
        "modules_before": before["modules"],
        "foreign_modules": after.get("foreign_modules"),
        "foreign_modules_before": before.get("foreign_modules"),
        "modules_budget": modules_budget,
        "modules_ok": modules_ok,
        "import_us": after["cumulative_us"],
        "import_us_before": before["cumulative_us"],
        "import_cpu_us": after["cpu_us"],
        "import_cpu_us_before": before["cpu_us"],
        "normalized": after["normalized"],
        "normalized_before": before["normalized"],
        "weight_vs_before": weight,
        "weight_budget": weight_budget,
        "weight_ok": weight_ok,
        "within_budget": modules_ok and weight_ok,
    }


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """Per budget, which functions are within it, over it, or not evaluated (None: the section did
    not run, or its figures are not comparable with the baseline's)."""
    found: dict[str, Any] = {}
    sections = {
        "cold_start": (
            results.get("cold_start"),
            f"cold start ≤ {FLOOR_BUDGET}x the function's stack floor",
        ),
        "import_weight": (
            (results.get("import_weight") or {}).get("functions"),
            "handler import: modules outside Tenancy ≤ before, normalized CPU time ≤ before x (1 + tolerance)",
        ),
    }
    for name, (rows, budget) in sections.items():
        if rows is None:
            continue
        found[name] = {
            "budget": budget,
            "within": [r["function"] for r in rows if r.get("within_budget") is True],
            "over": [r["function"] for r in rows if r.get("within_budget") is False],
            "not_evaluated": [r["function"] for r in rows if r.get("within_budget") is None],
        }
    found["all_within"] = bool(found) and all(
        not s["over"] and not s["not_evaluated"] for s in found.values() if isinstance(s, dict)
    )
    return found
