"""The plans benchmark (bench/plans.py) runs with tiny counts and reports what `make bench` reports:
the quota check's latency and its one DynamoDB call, the cached and uncached reads with their AWS
calls, and the noisy neighbour's figures. It asserts no time (the real run is `make bench`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def section(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--only", "plans", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"PATH": "/usr/bin:/bin", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results: dict[str, Any] = json.loads(out.read_text())
    assert set(results["budgets"]) == {"quota_check", "noisy_neighbour", "all_within"}
    assert "warm_latency" not in results  # only the section asked for ran
    return results


def test_the_quota_check_costs_exactly_one_dynamodb_call_per_request(section: dict[str, Any]) -> None:
    quota = section["plans"]["quota_check"]
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
    found = section["budgets"]["quota_check"]
    assert sorted(found["within"] + found["over"]) == sorted(
        ["limiter p50", "limiter p99", "DynamoDB calls per request"]
    )
    assert "DynamoDB calls per request" in found["within"]


def test_cached_reads_make_no_call_and_uncached_reads_one(section: dict[str, Any]) -> None:
    config, secret = section["plans"]["config_read"], section["plans"]["secret_read"]
    assert config["cached_calls"] == {}
    assert config["uncached_calls"] == {"dynamodb:GetItem": 1}
    assert secret["cached_calls"] == {}
    assert secret["uncached_calls"] == {"secretsmanager:GetSecretValue": 1}
    assert secret["ttl_seconds"] > 0
    for read in (config, secret):
        assert read["cached_p50_ms"] > 0
        assert read["uncached_p50_ms"] > 0
        assert read["requests"] == 5


def test_the_noisy_neighbour_reports_both_tenants(section: dict[str, Any]) -> None:
    neighbour = section["plans"]["noisy_neighbour"]
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
    found = section["budgets"]["noisy_neighbour"]
    assert found["within"] + found["over"] == ["other tenant's p50"]
