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
        "warm_latency",
        "scale",
        "onboarding",
    } <= set(results)
    assert {row["function"] for row in results["cold_start"]} == {
        "tenant_api",
        "provisioning",
        "tenant_provisioner",
        "provisioning_completion",
        "authorizer",
        "app_api",
        "reconciler",
    }
    assert all(row["failed_first_events"] == 0 for row in results["cold_start"])
    floor = results["cold_start_floor"]
    assert floor["function"] == "tenant_api"
    assert floor["floor_ms"] > 0
    assert floor["baseline_ms"] == next(
        r["baseline_ms"] for r in results["cold_start"] if r["function"] == "tenant_api"
    )
    assert results["package_size"][0]["runtime_provided_packages_bundled"] == []
    bytecode = results["layer_bytecode"]
    if bytecode["runs"]:  # where the runtime's interpreter exists (as `make build` needs it)
        assert bytecode["import_with_bytecode_ms"] > 0
        assert bytecode["import_source_only_ms"] > 0
    assert results["onboarding"]["tenants"] == 2
    assert all(ms > 0 for ms in results["scale"]["create_p50_ms"])


# The AWS calls each route makes, as the benchmark counts them through botocore's event hooks.
# A read is one call; nothing scans.
EXPECTED_CALLS = {
    "GET /tenants/{tenantId}": {"dynamodb:GetItem": 1},
    "GET /tenants": {"dynamodb:Query": 1},
    "POST /tenants": {"dynamodb:TransactWriteItems": 1},
    "GET /agents/{agentId}": {"dynamodb:GetItem": 1},
    "GET /agents": {"dynamodb:Query": 1},
    "POST /agents": {"dynamodb:TransactWriteItems": 1},
    "GET /me": {"dynamodb:GetItem": 1},
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
    assert not any("Scan" in call for row in rows for call in row["aws_calls"])
