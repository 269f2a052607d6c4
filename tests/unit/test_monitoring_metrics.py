"""The metrics the dashboard and the alarms read (cdk stacks/monitoring.py) are published."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tenancy.common.observability import metrics
from tenancy.control import reconciler

STUCK = reconciler.STUCK_TENANTS_METRIC


class NoStaleTenants:
    def list_stale(self, **_: Any) -> list[Any]:
        return []


def test_the_reconciler_publishes_stuck_tenants_every_run_zero_included(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reconciler.reconcile(
        NoStaleTenants(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        redrive_after=timedelta(0),
        fail_after=timedelta(0),
    )
    metrics.flush_metrics()
    [blob] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if f'"{STUCK}"' in line]
    assert blob[STUCK] == [0.0]
    # the service dimension only (the alarm names service=reconciler), no tenant_id
    assert blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
