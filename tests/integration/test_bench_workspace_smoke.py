"""The workspace benchmark (bench/workspace.py) runs with tiny counts and reports what `make bench`
reports: `GET /dashboards/{dashboardId}` by a non-owner with 0, 10 and 100 shares and groups, its
permission, latency figures and AWS calls at each level. It asserts no time (the real run is
`make bench`), only the figures' shape, the calls (the same three at every level: the limiter's
UpdateItem, the resolution's Query and BatchGetItem) and the verdict as computed from them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

CALLS = {"dynamodb:BatchGetItem": 1, "dynamodb:Query": 1, "dynamodb:UpdateItem": 1}


@pytest.fixture(scope="module")
def section(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--only", "workspace", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"PATH": "/usr/bin:/bin", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "GET /dashboards/{id} as a non-owner" in completed.stdout  # the table is printed
    results: dict[str, Any] = json.loads(out.read_text())
    assert "warm_latency" not in results  # only the section asked for ran
    return results["workspace"]  # type: ignore[no-any-return]


def test_each_level_is_a_non_owner_reading_through_its_groups(section: dict[str, Any]) -> None:
    levels = section["levels"]
    assert [row["shares_and_groups"] for row in levels] == [0, 10, 100]
    assert section["groups_in_tenant"] == 100
    # min(N, 98) groups of the caller; N shares, a tenth of them to other users, the rest to the
    # caller's groups; beside them the caller's own viewer share (so level 0 is a 200 too).
    assert [row["groups_of_caller"] for row in levels] == [0, 10, 98]
    assert [row["group_shares"] for row in levels] == [0, 9, 90]
    assert [row["user_shares"] for row in levels] == [0, 1, 10]
    # The direct share alone makes a viewer; one of the group shares is editor's.
    assert [row["my_permission"] for row in levels] == ["viewer", "editor", "editor"]
    assert section["partition_items"] > 600  # every level in the one partition the requests read
    assert section["requests"] == 5


def test_the_same_aws_calls_at_every_level(section: dict[str, Any]) -> None:
    for row in section["levels"]:
        assert row["aws_calls"] == CALLS, row
        # The baseline makes the resolution's two calls, nothing else.
        assert row["bare_resolution_calls"] == {"dynamodb:BatchGetItem": 1, "dynamodb:Query": 1}
    assert section["same_calls"] is True
    assert section["calls_per_request"] == CALLS


def test_the_verdict_follows_the_figures(section: dict[str, Any]) -> None:
    levels = section["levels"]
    for row in levels:
        for key in ("p50_ms", "p95_ms", "p99_ms", "cpu_p50_ms", "bare_resolution_p50_ms"):
            assert row[key] > 0, (key, row)
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
        assert row["over_bare_p50_ms"] == pytest.approx(
            row["p50_ms"] - row["bare_resolution_p50_ms"], abs=0.02
        )
    assert section["budget"] == 1.2
    assert section["ratio_p50"] == round(levels[-1]["p50_ms"] / levels[0]["p50_ms"], 2)
    assert section["ratio_cpu_p50"] == round(levels[-1]["cpu_p50_ms"] / levels[0]["cpu_p50_ms"], 2)
    assert section["p50_ok"] is (section["ratio_p50"] <= 1.2)
    assert section["within_budget"] is (section["p50_ok"] and section["same_calls"])
    assert len(section["load_average"]) == 2
