"""The datasets benchmark (bench/datasets.py) runs with tiny counts (a 2000-row CSV, one import, two
card rounds, one cold start of each function) and reports what `make bench` reports: the import's
throughput and Parquet size, the preview's latency, the card's uncached cold, uncached warm and
cached executions, the cold starts with the engine layer, `import duckdb` alone, and which functions
import duckdb. It asserts no time (the real run is `make bench`), only the figures' shape, that the
figures come from work actually done (the types inferred, the card's HTML checked by the benchmark
itself, every first event of a cold start a success) and the verdicts as computed from them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.datasets import COLD_IMPORT_ROWS, SCHEMA, WARM_PER_ROUND

ROOT = Path(__file__).resolve().parents[2]
ROWS = 2000  # Counts.smoke().dataset_rows


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--only", "datasets", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"PATH": "/usr/bin:/bin", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    for title in ("Dataset import:", "Preview and card execution", "Cold start with the engine layer"):
        assert title in completed.stdout  # the tables are printed
    results: dict[str, Any] = json.loads(out.read_text())
    assert "workspace" not in results  # only the section asked for ran
    return results


@pytest.fixture(scope="module")
def section(run: dict[str, Any]) -> dict[str, Any]:
    return run["datasets"]  # type: ignore[no-any-return]


def test_the_import_typed_every_generated_column_and_reports_its_throughput(section: dict[str, Any]) -> None:
    imp = section["import"]
    assert (section["rows"], section["columns"]) == (ROWS, 20)
    assert (imp["rows"], imp["columns"], imp["runs"]) == (ROWS, 20, 1)
    # every type the import infers, each column as generated (int64, float64, bool, date, datetime, string)
    assert imp["types"] == dict(SCHEMA)
    assert imp["types_as_generated"] is True
    assert set(imp["types"].values()) == {"int64", "float64", "bool", "date", "datetime", "string"}
    assert imp["parquet_files"] == 1
    assert 0 < imp["parquet_bytes"] < imp["csv_bytes"]
    assert imp["parquet_over_csv"] == round(imp["parquet_bytes"] / imp["csv_bytes"], 3)
    assert len(imp["import_s_runs"]) == 1
    for prefix in ("", "convert_"):
        seconds = imp["import_s" if not prefix else "convert_s"]
        assert seconds > 0
        assert imp[f"{prefix}rows_per_s"] == pytest.approx(ROWS / seconds, rel=0.01)
        # the seconds are rounded to 1 ms: at smoke sizes that moves the rate by up to 1 %
        assert imp[f"{prefix}mb_per_s"] == pytest.approx(imp["csv_bytes"] / 1e6 / seconds, rel=0.01, abs=0.01)


def test_the_preview_answers_the_first_rows_of_the_imported_dataset(section: dict[str, Any]) -> None:
    preview = section["preview"]
    assert preview["requests"] == 5
    assert (preview["rows_answered"], preview["total_rows"]) == (20, ROWS)  # the default ?rows=
    assert 0 < preview["p50_ms"] <= preview["p95_ms"] <= preview["p99_ms"]


def test_the_card_ran_cold_warm_and_cached_and_its_verdict_follows_the_figures(
    section: dict[str, Any],
) -> None:
    card = section["card"]
    assert card["rounds"] == 2  # at least two, even in a smoke run
    assert card["uncached_cold"]["executions"] == 2
    assert card["uncached_warm"]["executions"] == card["cached"]["executions"] == 2 * WARM_PER_ROUND
    for kind in ("uncached_cold", "uncached_warm", "cached"):
        assert 0 < card[kind]["p50_ms"] <= card[kind]["p95_ms"], kind
        assert card[kind]["executor_p50_ms"] >= 0
    # a cached answer is the stored result of a warm run: the same executor time is reported
    assert card["cached"]["executor_p50_ms"] == card["uncached_warm"]["executor_p50_ms"]
    assert card["budget"] == 0.2
    ratio = round(card["cached"]["p50_ms"] / card["uncached_warm"]["p50_ms"], 3)
    assert card["cached_over_warm_p50"] == ratio
    assert card["within_budget"] is (ratio <= 0.2)


def test_the_engine_functions_cold_starts_and_the_duckdb_import(section: dict[str, Any]) -> None:
    cold = section["cold_start"]
    assert [r["function"] for r in cold["functions"]] == ["dataset_import", "card_executor"]
    assert [r["layers"] for r in cold["functions"]] == ["shared + engine", "shared"]
    for row in cold["functions"]:
        assert row["runs"] == 1
        assert row["failed_first_events"] == 0, row  # the import READY, the card's result ok
        assert 0 < row["init_ms"] < row["total_ms"]
        assert row["total_ms"] == pytest.approx(row["init_ms"] + row["first_event_ms"], abs=0.2)
    assert str(COLD_IMPORT_ROWS) in cold["functions"][0]["first_event"]
    assert cold["imports_ready"] is True  # every cold import's dataset is READY
    assert cold["import_duckdb_ms"] > 0
    assert cold["engine_layer_mb"] > 1  # DuckDB's native library is tens of MB
    assert isinstance(cold["engine_layer_built"], bool)
    assert ("built engine layer" in cold["environment"]) is cold["engine_layer_built"]


def test_only_the_engine_layer_functions_import_duckdb(run: dict[str, Any], section: dict[str, Any]) -> None:
    isolation = section["engine_isolation"]
    rows = {r["function"]: r for r in isolation["functions"]}
    assert {"app_api", "authorizer", "card_executor", "dataset_import", "analytics_api"} <= set(rows)
    for name in ("app_api", "authorizer", "card_executor"):
        assert rows[name]["engine_layer"] is False
        assert rows[name]["imports_duckdb"] is False
        assert rows[name]["within_budget"] is True
    # the import's handler loads the engine at import (so the check sees a loaded module when there is one)
    assert rows["dataset_import"] == {
        "function": "dataset_import",
        "engine_layer": True,
        "imports_duckdb": True,
        "within_budget": None,
    }
    assert isolation["importing_without_layer"] == []
    assert isolation["within_budget"] is True
    assert section["within_budget"] is (section["card"]["within_budget"] and isolation["within_budget"])
    budgets = run["budgets"]
    assert {"app_api", "authorizer", "card_executor"} <= set(budgets["engine_isolation"]["within"])
    assert budgets["engine_isolation"]["over"] == []
    assert budgets["card_cache"]["within" if section["card"]["within_budget"] else "over"] == [
        "cached card p50"
    ]
    assert len(section["load_average"]) == 2
