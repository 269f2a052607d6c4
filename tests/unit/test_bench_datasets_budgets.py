"""The datasets benchmark's verdicts (bench/budgets.py) and its generated CSV (bench/datasets.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.budgets import CACHED_CARD_BUDGET, cached_card_verdict, engine_isolation_verdict, summary
from bench.datasets import SCHEMA, expected_html, generate_csv


@pytest.mark.parametrize(
    ("cached_ms", "within"), [(20.0, True), (20.04, True), (20.06, False), (5.0, True), (60.0, False)]
)
def test_cached_execution_is_judged_on_the_ratio_as_reported(cached_ms: float, within: bool) -> None:
    # 20.04 / 100 = 0.2004 -> 0.2 as reported: within; 20.06 / 100 = 0.2006 -> 0.201: over.
    verdict = cached_card_verdict(cached_p50_ms=cached_ms, warm_p50_ms=100.0)
    assert verdict["budget"] == CACHED_CARD_BUDGET == 0.2
    assert verdict["cached_over_warm_p50"] == round(cached_ms / 100.0, 3)
    assert verdict["within_budget"] is within


def test_only_functions_without_the_engine_layer_are_held_to_not_importing_duckdb() -> None:
    rows = [
        {"function": "app_api", "engine_layer": False, "imports_duckdb": False},
        {"function": "authorizer", "engine_layer": False, "imports_duckdb": True},
        {"function": "dataset_import", "engine_layer": True, "imports_duckdb": True},
    ]
    verdict = engine_isolation_verdict(rows)
    assert [r["within_budget"] for r in verdict["functions"]] == [True, False, None]
    assert verdict["importing_without_layer"] == ["authorizer"]
    assert verdict["within_budget"] is False
    assert engine_isolation_verdict([rows[0], rows[2]])["within_budget"] is True


def test_the_summary_names_the_datasets_figures() -> None:
    isolation = engine_isolation_verdict(
        [
            {"function": "app_api", "engine_layer": False, "imports_duckdb": False},
            {"function": "dataset_import", "engine_layer": True, "imports_duckdb": True},
        ]
    )
    found = summary({"datasets": {"card": {"within_budget": False}, "engine_isolation": isolation}})
    assert found["card_cache"]["over"] == ["cached card p50"]
    assert found["engine_isolation"]["within"] == ["app_api"]  # a function with the layer is not judged
    assert found["engine_isolation"]["not_evaluated"] == []
    assert found["all_within"] is False


def test_the_generated_csv_is_deterministic_and_its_totals_are_the_cards_answer(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    totals = generate_csv(first, 500)
    assert generate_csv(second, 500) == totals
    assert first.read_bytes() == second.read_bytes()
    with first.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == [name for name, _ in SCHEMA]
    assert len(rows) == 500
    again: dict[str, float] = {}
    for row in rows:
        if row["amount"]:
            again[row["region"]] = again.get(row["region"], 0.0) + float(row["amount"])
    assert again == totals
    assert any(not row["amount"] for row in rows)  # empty fields: nulls for the import
    html = expected_html(totals)
    assert html.startswith("<table><tr><td>")
    assert html.count("<tr>") == len(totals)
