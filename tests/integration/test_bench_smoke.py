"""The benchmark runs end to end with tiny counts, so it never rots. It measures nothing: the real
run is `make bench`.

The whole smoke run is made once for the module (a couple of minutes of cold starts); every test
reads its own section of that one run (the warm routes' calls, the plans section: the quota check's
latency and its one DynamoDB call, the cached and uncached reads with their AWS calls, the noisy
neighbour's figures). `--only` is checked on a section of its own. No time is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bench(out: Path, *options: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", *options, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={"PATH": "/usr/bin:/bin", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results: dict[str, Any] = json.loads(out.read_text())
    return results


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One smoke run of every section but the workspace's and the datasets' (each has a smoke test
    of its own: tests/integration/test_bench_workspace_smoke.py, test_bench_datasets_smoke.py)."""
    sections = ("size", "bytecode", "cold", "imports", "warm", "scale", "onboarding", "plans")
    return run_bench(tmp_path_factory.mktemp("bench") / "results.json", "--only", *sections)


def test_the_benchmark_runs_and_writes_every_section(smoke: dict[str, Any]) -> None:
    results = smoke
    assert {
        "machine",
        "package_size",
        "layer_bytecode",
        "cold_start",
        "import_weight",
        "budgets",
        "warm_latency",
        "scale",
        "onboarding",
        "plans",
    } <= set(results)
    assert {row["function"] for row in results["cold_start"]} == {
        "tenant_api",
        "provisioning",
        "tenant_provisioner",
        "provisioning_completion",
        "authorizer",
        "app_api",
        "reconciler",
        "tenant_updates",
    }
    assert all(row["failed_first_events"] == 0 for row in results["cold_start"])
    # Every function: its ratio to bare boto3, and to the stack floor of its own Powertools features,
    # with the floor's budget and the verdict (smoke figures are one run each: no verdict is asserted).
    floors = {row["function"]: row["floor"] for row in results["cold_start"]}
    assert floors == {
        "tenant_api": "api",
        "app_api": "api",
        "provisioning": "batch",
        "tenant_provisioner": "parser",
        "provisioning_completion": "parser",
        "authorizer": "core",
        "reconciler": "core",
        "tenant_updates": "parser",
    }
    assert set(results["cold_start_floors"]) == {"core", "api", "batch", "parser"}
    for row in results["cold_start"]:
        assert row["tenancy_ms"] > 0
        assert row["baseline_ms"] > 0
        assert row["floor_ms"] > 0
        assert row["ratio"] > 0  # to bare boto3: reported, no budget
        assert row["ratio_to_floor"] > 0
        assert row["budget_to_floor"] == 1.05
        assert row["within_budget"] is (row["ratio_to_floor"] <= 1.05)
    # Every function's handler import, by -X importtime, against the committed figures of the
    # commit before the layer's restructure, with both budgets stated.
    imports = results["import_weight"]
    assert imports["before"]["commit"].startswith("a46471f")
    assert imports["before"]["file"] == "bench/baselines/import_weight_before.json"
    assert imports["budget"]["module_tolerance"] == 0
    assert imports["budget"]["time_tolerance"] > 0
    assert "-X importtime" in imports["method"]
    assert {row["function"] for row in imports["functions"]} == set(floors)
    # A function the before did not have is budgeted against the before of its stand-in (same floor).
    assert imports["stand_ins"] == {"tenant_updates": "provisioning_completion"}
    stand_in = {row["function"]: row["before_function"] for row in imports["functions"]}
    assert stand_in == {f: "provisioning_completion" if f == "tenant_updates" else f for f in floors}
    for row in imports["functions"]:
        assert row["modules"] > 0
        assert row["import_us"] > 0
        if imports["comparable"]:
            assert row["modules_before"] > 0
            # the budget is on the modules outside Tenancy's own package (bench/import_weight.py)
            assert 0 < row["foreign_modules"] < row["modules"]
            assert 0 < row["foreign_modules_before"] < row["modules_before"]
            assert row["modules_budget"] == row["foreign_modules_before"]
            assert row["modules_ok"] is (row["foreign_modules"] <= row["foreign_modules_before"])
            assert row["weight_budget"] == round(1 + imports["budget"]["time_tolerance"], 3)
            assert row["within_budget"] is (row["modules_ok"] and row["weight_ok"])
    if imports["comparable"]:
        by_function = {row["function"]: row for row in imports["functions"]}
        new, old = by_function["tenant_updates"], by_function["provisioning_completion"]
        assert new["modules_before"] == old["modules_before"]
        assert new["normalized_before"] == old["normalized_before"]
    budgets = results["budgets"]
    assert set(budgets) == {"cold_start", "import_weight", "quota_check", "noisy_neighbour", "all_within"}
    for found in (budgets["cold_start"], budgets["import_weight"]):
        assert sorted(found["within"] + found["over"] + found["not_evaluated"]) == sorted(floors)
    assert results["package_size"][0]["runtime_provided_packages_bundled"] == []
    bytecode = results["layer_bytecode"]
    if bytecode["runs"]:  # where the runtime's interpreter exists (as `make build` needs it)
        assert bytecode["import_with_bytecode_ms"] > 0
        assert bytecode["import_source_only_ms"] > 0
    assert results["onboarding"]["tenants"] == 2
    assert all(ms > 0 for ms in results["scale"]["create_p50_ms"])


# The AWS calls each route makes, as the benchmark counts them through botocore's event hooks.
# A read is one call; nothing scans. Every app API request is also counted against its tenant's
# limits: one conditional UpdateItem on the tenant's usage item (tenancy.application.quotas); the
# agents counter is updated inside POST /agents' transaction (no call of its own).
COUNTED = {"dynamodb:UpdateItem": 1}
EXPECTED_CALLS = {
    "GET /tenants/{tenantId}": {"dynamodb:GetItem": 1},
    "GET /tenants": {"dynamodb:Query": 1},
    "POST /tenants": {"dynamodb:TransactWriteItems": 1},
    "GET /agents/{agentId}": {"dynamodb:GetItem": 1, **COUNTED},
    "GET /agents": {"dynamodb:Query": 1, **COUNTED},
    "POST /agents": {"dynamodb:TransactWriteItems": 1, **COUNTED},
    # the user, and their groups (a member of none: no BatchGetItem of the groups' names)
    "GET /me": {"dynamodb:GetItem": 1, "dynamodb:Query": 1, **COUNTED},
}


def test_calls_per_route_are_documented_and_minimal(smoke: dict[str, Any]) -> None:
    rows = smoke["warm_latency"]
    assert {row["route"]: row["aws_calls"] for row in rows} == EXPECTED_CALLS
    # Every baseline makes the same AWS calls as Tenancy (its request counter, the agents counter in
    # the create's transaction), or the latency comparison would compare different work.
    assert {row["route"]: row["baseline_aws_calls"] for row in rows} == EXPECTED_CALLS
    assert not any("Scan" in call for row in rows for call in row["aws_calls"])


# --- the plans section (bench/plans.py) ---------------------------------------------------------


def test_the_quota_check_costs_exactly_one_dynamodb_call_per_request(smoke: dict[str, Any]) -> None:
    quota = smoke["plans"]["quota_check"]
    # The limiter alone, over every request of the run: one conditional UpdateItem each (the
    # steady state: no wrong branch guess, no read), and nothing else.
    assert quota["calls_per_check"] == {"dynamodb:UpdateItem": 1.0}
    assert quota["dynamodb_calls_per_request"] == 1.0
    assert quota["calls_ok"] is True
    # A request through the limiter makes exactly one call more than the same request without it.
    assert quota["request_calls_added"] == {"dynamodb:UpdateItem": 1}
    assert quota["requests"] == 5
    for key in (
        "limiter_p50_ms",
        "limiter_p99_ms",
        "bare_update_p50_ms",  # the same UpdateItem in bare boto3, measured beside it
        "request_p50_ms",
        "request_without_limiter_p50_ms",
    ):
        assert quota[key] > 0
    assert quota["limiter_p50_ms"] <= quota["limiter_p99_ms"]
    assert quota["budget_ms"] == 3.0
    assert quota["budget_calls"] == 1
    assert quota["p50_ok"] is (quota["limiter_p50_ms"] <= 3.0)
    assert quota["p99_ok"] is (quota["limiter_p99_ms"] <= 3.0)
    assert quota["within_budget"] is (quota["p50_ok"] and quota["p99_ok"] and quota["calls_ok"])
    found = smoke["budgets"]["quota_check"]
    assert sorted(found["within"] + found["over"]) == sorted(
        ["limiter p50", "limiter p99", "DynamoDB calls per request"]
    )
    assert "DynamoDB calls per request" in found["within"]


def test_cached_reads_make_no_call_and_uncached_reads_one(smoke: dict[str, Any]) -> None:
    config, secret = smoke["plans"]["config_read"], smoke["plans"]["secret_read"]
    assert config["cached_calls"] == {}
    assert config["uncached_calls"] == {"dynamodb:GetItem": 1}
    assert secret["cached_calls"] == {}
    assert secret["uncached_calls"] == {"secretsmanager:GetSecretValue": 1}
    assert secret["ttl_seconds"] > 0
    for read in (config, secret):
        assert read["cached_p50_ms"] > 0
        assert read["uncached_p50_ms"] > 0
        assert read["requests"] == 5


def test_the_noisy_neighbour_reports_both_tenants(smoke: dict[str, Any]) -> None:
    neighbour = smoke["plans"]["noisy_neighbour"]
    assert neighbour["noisy_threads"] > 1
    assert neighbour["noisy_rate_limit"] == 10  # the FREE plan's rate: the noisy tenant's own limit
    assert neighbour["noisy_offered_per_s"] > 0
    assert neighbour["noisy_offered_per_s"] == pytest.approx(
        neighbour["noisy_admitted_per_s"] + neighbour["noisy_refused_per_s"], abs=0.2
    )
    assert neighbour["noisy_other_statuses"] == {}  # every answer is a 200 or a 429
    assert neighbour["other_failed"] == 0  # the other tenant is never refused
    assert all(n > 0 for n in neighbour["other_requests"])
    assert all(ms > 0 for ms in neighbour["other_p50_ms"])
    assert neighbour["budget"] == 1.2
    assert neighbour["within_budget"] is (neighbour["other_ratio_p50"] <= 1.2)
    found = smoke["budgets"]["noisy_neighbour"]
    assert found["within"] + found["over"] == ["other tenant's p50"]


def test_only_the_sections_asked_for_run(tmp_path: Path) -> None:
    """`--only` runs the sections named and no other, and sums up only their budgets (a run of the
    cheapest section: the plans one ran this way before and its figures are checked above)."""
    results = run_bench(tmp_path / "results.json", "--only", "size")
    assert set(results) == {"machine", "counts", "generated_at", "package_size", "budgets"}
    assert results["budgets"] == {"all_within": False}  # no budgeted section ran
    assert results["package_size"][0]["runtime_provided_packages_bundled"] == []
