"""The budgets the benchmark checks, as pure functions of its figures (unit-tested in
tests/unit/test_bench_budgets.py).

- Cold start: each function ≤ FLOOR_BUDGET x its stack floor (bench/baselines/floors/: its bare-boto3
  baseline plus the Powertools features it uses), measured beside it. The ratio to bare boto3 is
  reported too, without a budget: the stack's own floor is above any bare-boto3 budget worth having.
- Import weight (bench/import_weight.py): each handler's import loads no more modules from outside
  Tenancy's own package than before the layer's restructure, and takes no longer, normalized, than before within a stated tolerance.
- Quota check (bench/plans.py): the request limiter adds ≤ QUOTA_BUDGET_MS at p50 and at p99, with
  exactly QUOTA_BUDGET_CALLS DynamoDB call per request in the steady state.
- Noisy neighbour (bench/plans.py): a tenant's p50 while another hammers its limit ≤
  NEIGHBOUR_BUDGET x its p50 without.
- Datasets (bench/datasets.py): a card's cached execution p50 ≤ CACHED_CARD_BUDGET x its uncached
  warm p50; no function without the engine layer imports duckdb (its handler's import, with the
  engine layer on the path).

A verdict is taken on the figures as reported (ratios rounded to 2 or 3 decimals), so the output
never shows a ratio equal to its budget marked over it.
"""

from __future__ import annotations

from typing import Any

FLOOR_BUDGET = 1.05
QUOTA_BUDGET_MS = 3.0
QUOTA_BUDGET_CALLS = 1
NEIGHBOUR_BUDGET = 1.2
CACHED_CARD_BUDGET = 0.2


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


def quota_verdict(p50_ms: float, p99_ms: float, dynamodb_calls_per_request: float) -> dict[str, Any]:
    """The limiter's added latency (p50, p99) and its DynamoDB calls per request, each against its
    budget, judged as reported (2 decimals)."""
    p50, p99 = round(p50_ms, 2), round(p99_ms, 2)
    calls = round(dynamodb_calls_per_request, 3)
    verdict = {
        "p50_ok": p50 <= QUOTA_BUDGET_MS,
        "p99_ok": p99 <= QUOTA_BUDGET_MS,
        "calls_ok": calls == QUOTA_BUDGET_CALLS,
    }
    return {
        "limiter_p50_ms": p50,
        "limiter_p99_ms": p99,
        "dynamodb_calls_per_request": calls,
        "budget_ms": QUOTA_BUDGET_MS,
        "budget_calls": QUOTA_BUDGET_CALLS,
        **verdict,
        "within_budget": all(verdict.values()),
    }


def neighbour_verdict(unloaded_p50_ms: float, loaded_p50_ms: float) -> dict[str, Any]:
    """A tenant's p50 while another hammers its limit against its p50 without."""
    ratio = round(loaded_p50_ms / unloaded_p50_ms, 2)
    return {
        "other_p50_ms": [round(unloaded_p50_ms, 2), round(loaded_p50_ms, 2)],
        "other_ratio_p50": ratio,
        "budget": NEIGHBOUR_BUDGET,
        "within_budget": ratio <= NEIGHBOUR_BUDGET,
    }


def cached_card_verdict(cached_p50_ms: float, warm_p50_ms: float) -> dict[str, Any]:
    """A card's cached execution against its uncached warm one (p50s as reported, 2 decimals)."""
    ratio = round(round(cached_p50_ms, 2) / round(warm_p50_ms, 2), 3)
    return {
        "cached_over_warm_p50": ratio,
        "budget": CACHED_CARD_BUDGET,
        "within_budget": ratio <= CACHED_CARD_BUDGET,
    }


def engine_isolation_verdict(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per function (`function`, `engine_layer`, `imports_duckdb`): one without the engine layer is
    within its budget when its handler's import loads no duckdb; one with it is not budgeted."""
    judged = [
        {**row, "within_budget": None if row["engine_layer"] else not row["imports_duckdb"]} for row in rows
    ]
    return {
        "functions": judged,
        "importing_without_layer": [r["function"] for r in judged if r["within_budget"] is False],
        "within_budget": all(r["within_budget"] is not False for r in judged),
    }


def _datasets_rows(section: dict[str, Any] | None) -> dict[str, list[dict[str, Any]] | None]:
    """The datasets section's budgeted figures as rows of the summary (named in `function`)."""
    if section is None:
        return {"card_cache": None, "engine_isolation": None}
    return {
        "card_cache": [{"function": "cached card p50", "within_budget": section["card"]["within_budget"]}],
        "engine_isolation": [
            r for r in section["engine_isolation"]["functions"] if r["within_budget"] is not None
        ],
    }


def _plans_rows(plans: dict[str, Any] | None) -> dict[str, list[dict[str, Any]] | None]:
    """The plans section's budgeted figures as rows of the summary (named in `function`)."""
    if plans is None:
        return {"quota_check": None, "noisy_neighbour": None}
    quota, neighbour = plans["quota_check"], plans["noisy_neighbour"]
    return {
        "quota_check": [
            {"function": "limiter p50", "within_budget": quota["p50_ok"]},
            {"function": "limiter p99", "within_budget": quota["p99_ok"]},
            {"function": "DynamoDB calls per request", "within_budget": quota["calls_ok"]},
        ],
        "noisy_neighbour": [{"function": "other tenant's p50", "within_budget": neighbour["within_budget"]}],
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
    plans = _plans_rows(results.get("plans"))
    sections["quota_check"] = (
        plans["quota_check"],
        f"quota check ≤ {QUOTA_BUDGET_MS} ms at p50 and p99, {QUOTA_BUDGET_CALLS} DynamoDB call per request",
    )
    sections["noisy_neighbour"] = (
        plans["noisy_neighbour"],
        f"a tenant's p50 while another hammers its limit ≤ {NEIGHBOUR_BUDGET}x its p50 without",
    )
    datasets = _datasets_rows(results.get("datasets"))
    sections["card_cache"] = (
        datasets["card_cache"],
        f"a card's cached execution p50 ≤ {CACHED_CARD_BUDGET}x its uncached warm p50",
    )
    sections["engine_isolation"] = (
        datasets["engine_isolation"],
        "no function without the engine layer imports duckdb",
    )
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
