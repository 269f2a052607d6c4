"""The bench's budget verdicts (bench/budgets.py): pure functions of the measured figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.budgets import (
    FLOOR_BUDGET,
    NEIGHBOUR_BUDGET,
    QUOTA_BUDGET_CALLS,
    QUOTA_BUDGET_MS,
    cold_start_verdict,
    import_verdict,
    neighbour_verdict,
    quota_verdict,
    summary,
)
from bench.run import SECTIONS, merged


def test_cold_start_is_judged_against_the_floor_and_reports_the_boto3_ratio() -> None:
    verdict = cold_start_verdict(tenancy_ms=500.0, baseline_ms=400.0, floor_ms=480.0)
    assert verdict["ratio"] == 1.25  # to bare boto3: reported, no budget
    assert verdict["floor_over_baseline"] == 1.2
    assert verdict["ratio_to_floor"] == 1.04
    assert verdict["budget_to_floor"] == FLOOR_BUDGET == 1.05
    assert verdict["within_budget"] is True


@pytest.mark.parametrize(
    ("tenancy_ms", "within"),
    [(504.0, True), (525.0, True), (526.0, True), (528.0, False), (600.0, False), (300.0, True)],
)
def test_the_floor_budget_is_taken_on_the_ratio_as_reported(tenancy_ms: float, within: bool) -> None:
    # 526 / 500 = 1.052, reported as 1.05: within; 528 / 500 = 1.056, reported as 1.06: over.
    verdict = cold_start_verdict(tenancy_ms=tenancy_ms, baseline_ms=400.0, floor_ms=500.0)
    assert verdict["within_budget"] is within
    assert (verdict["ratio_to_floor"] <= 1.05) is within


def weight(us: int, modules: int, cpu_us: int, normalized: float) -> dict[str, Any]:
    return {"cumulative_us": us, "modules": modules, "cpu_us": cpu_us, "normalized": normalized}


def test_an_import_as_heavy_as_before_is_within_budget() -> None:
    verdict = import_verdict(weight(500, 400, 400, 1.25), weight(450, 400, 360, 1.25), 0.10, 0)
    assert verdict["modules_ok"]
    assert verdict["weight_ok"]
    assert verdict["within_budget"]
    assert verdict["weight_vs_before"] == 1.0
    assert verdict["modules_budget"] == 400
    assert verdict["weight_budget"] == 1.1
    assert (verdict["import_us"], verdict["import_us_before"]) == (500, 450)
    assert (verdict["import_cpu_us"], verdict["import_cpu_us_before"]) == (400, 360)


def test_one_module_more_than_before_is_over_budget() -> None:
    verdict = import_verdict(weight(450, 401, 360, 1.25), weight(450, 400, 360, 1.25), 0.10, 0)
    assert not verdict["modules_ok"]
    assert verdict["weight_ok"]
    assert verdict["within_budget"] is False


def test_a_module_tolerance_is_honoured() -> None:
    assert import_verdict(weight(1, 402, 1, 1.0), weight(1, 400, 1, 1.0), 0.10, 2)["modules_ok"]


def test_the_time_is_compared_normalized_within_the_tolerance() -> None:
    before = weight(450, 400, 360, 1.25)
    # Twice the microseconds on a machine twice as slow: the same normalized weight.
    assert import_verdict(weight(900, 400, 720, 1.25), before, 0.10, 0)["within_budget"]
    assert import_verdict(weight(900, 400, 720, 1.375), before, 0.10, 0)["weight_ok"]  # exactly 1.1
    over = import_verdict(weight(900, 400, 720, 1.40), before, 0.10, 0)
    assert over["weight_vs_before"] == 1.12
    assert not over["weight_ok"]
    assert over["within_budget"] is False


def test_the_summary_names_the_functions_within_over_and_not_evaluated() -> None:
    results = {
        "cold_start": [
            {"function": "a", "within_budget": True},
            {"function": "b", "within_budget": False},
        ],
        "import_weight": {
            "functions": [{"function": "a", "within_budget": True}, {"function": "b", "within_budget": None}]
        },
    }
    found = summary(results)
    assert found["cold_start"]["within"] == ["a"]
    assert found["cold_start"]["over"] == ["b"]
    assert found["import_weight"]["not_evaluated"] == ["b"]
    assert "1.05x" in found["cold_start"]["budget"]
    assert found["all_within"] is False


def test_the_summary_is_all_within_only_when_every_evaluated_row_is() -> None:
    rows = [{"function": "a", "within_budget": True}]
    assert summary({"cold_start": rows, "import_weight": {"functions": rows}})["all_within"] is True
    assert summary({"warm_latency": []}) == {"all_within": False}  # nothing budgeted ran


def test_with_foreign_counts_only_modules_outside_tenancy_are_budgeted() -> None:
    before = {**weight(450, 400, 360, 1.25), "foreign_modules": 380}
    more_of_ours = {**weight(450, 420, 360, 1.25), "foreign_modules": 380}
    verdict = import_verdict(more_of_ours, before, 0.10, 0)
    assert verdict["modules_ok"]
    assert verdict["within_budget"]
    assert (verdict["modules"], verdict["modules_budget"]) == (420, 380)
    one_foreign_more = {**weight(450, 401, 360, 1.25), "foreign_modules": 381}
    assert not import_verdict(one_foreign_more, before, 0.10, 0)["modules_ok"]


def test_the_quota_check_is_within_budget_at_3_ms_and_one_call() -> None:
    verdict = quota_verdict(p50_ms=1.2, p99_ms=3.004, dynamodb_calls_per_request=1.0)
    assert (verdict["limiter_p50_ms"], verdict["limiter_p99_ms"]) == (1.2, 3.0)  # judged as reported
    assert verdict["budget_ms"] == QUOTA_BUDGET_MS == 3.0
    assert verdict["budget_calls"] == QUOTA_BUDGET_CALLS == 1
    assert verdict["within_budget"] is True


@pytest.mark.parametrize(
    ("p50", "p99", "calls", "failed"),
    [
        (3.01, 3.5, 1.0, {"p50_ok", "p99_ok"}),
        (1.0, 3.01, 1.0, {"p99_ok"}),
        (1.0, 2.0, 1.002, {"calls_ok"}),  # a wrong branch guess now and then: a second call
        (1.0, 2.0, 2.0, {"calls_ok"}),
    ],
)
def test_the_quota_check_is_over_budget_on_any_of_its_figures(
    p50: float, p99: float, calls: float, failed: set[str]
) -> None:
    verdict = quota_verdict(p50, p99, calls)
    assert {k for k in ("p50_ok", "p99_ok", "calls_ok") if not verdict[k]} == failed
    assert verdict["within_budget"] is False


def test_the_neighbour_is_judged_on_its_p50_ratio() -> None:
    assert neighbour_verdict(4.0, 4.8)["within_budget"] is True  # exactly 1.2
    over = neighbour_verdict(4.0, 4.84)
    assert over["other_ratio_p50"] == 1.21
    assert over["within_budget"] is False
    assert over["budget"] == NEIGHBOUR_BUDGET == 1.2
    assert over["other_p50_ms"] == [4.0, 4.84]


def test_the_summary_names_the_plans_figures() -> None:
    plans = {
        "quota_check": {"p50_ok": True, "p99_ok": False, "calls_ok": True},
        "noisy_neighbour": {"within_budget": True},
    }
    found = summary({"plans": plans})
    assert found["quota_check"]["within"] == ["limiter p50", "DynamoDB calls per request"]
    assert found["quota_check"]["over"] == ["limiter p99"]
    assert found["noisy_neighbour"]["within"] == ["other tenant's p50"]
    assert found["all_within"] is False


def test_a_run_of_some_sections_keeps_the_others_figures(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    previous = {
        "machine": {"cpus": 2},
        "counts": {"warm_requests": 500},
        "generated_at": "then",
        "warm_latency": [{"route": "GET /me"}],
        "plans": {"old": True},
        "budgets": {"all_within": True},
    }
    out.write_text(json.dumps(previous))
    now = {"machine": {"cpus": 2}, "counts": {"warm_requests": 5}, "generated_at": "now", "plans": {"new": 1}}
    results = merged(out, now, ["plans"])
    assert results["warm_latency"] == previous["warm_latency"]  # kept
    assert results["plans"] == {"new": 1}  # replaced
    assert (results["generated_at"], results["counts"]) == ("then", previous["counts"])  # the full run's
    assert results["reruns"] == [
        {"sections": ["plans"], "machine": {"cpus": 2}, "counts": {"warm_requests": 5}, "generated_at": "now"}
    ]
    assert "budgets" not in results  # summed up again by the caller
    # A second re-run of the same section replaces its record; a full run keeps nothing.
    out.write_text(json.dumps(results))
    assert len(merged(out, now, ["plans"])["reruns"]) == 1
    assert merged(out, now, list(SECTIONS)) is now
