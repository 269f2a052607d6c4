"""The benchmark runs end to end with tiny counts, so it never rots. It measures nothing: the real
run is `make bench`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_runs_and_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = {"PATH": "/usr/bin:/bin", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(out.read_text())
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
    "GET /me": {"dynamodb:GetItem": 1, **COUNTED},
}


def test_calls_per_route_are_documented_and_minimal(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--only", "warm", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"PATH": "/usr/bin:/bin", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    rows = json.loads(out.read_text())["warm_latency"]
    assert {row["route"]: row["aws_calls"] for row in rows} == EXPECTED_CALLS
    # Every baseline makes the same AWS calls as Tenancy (its request counter, the agents counter in
    # the create's transaction), or the latency comparison would compare different work.
    assert {row["route"]: row["baseline_aws_calls"] for row in rows} == EXPECTED_CALLS
    assert not any("Scan" in call for row in rows for call in row["aws_calls"])
