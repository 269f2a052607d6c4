"""The cold-start baseline of tenant_updates makes the AWS calls Tenancy's function makes for the
same first TenantUpdated event, and writes the same parameters (the bench compares like with like).
Run in a process of its own: the bench's world sets the process environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import importlib.util, json, sys, uuid
from bench.common import use_source_paths
use_source_paths()
from bench.calls import CallCounter
counter = CallCounter()
counter.install()
from bench.world import sample, start_world
world, server = start_world()
try:
    from localcloud.runtime import FunctionRuntime
    from tenancy.application.discovery import TenantDiscovery
    spec = importlib.util.spec_from_file_location("baseline", "bench/baselines/tenant_updates.py")
    baseline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(baseline)
    runtime = FunctionRuntime()
    def event():
        e = sample("eventbridge-tenant-updated.json")
        e["detail"]["tenantId"] = str(uuid.uuid4())
        return e
    ours, theirs = event(), event()
    calls = {
        "tenancy": counter.measure(lambda: runtime.invoke("tenant_updates", ours)),
        "baseline": counter.measure(lambda: baseline.lambda_handler(theirs, None)),
    }
    import boto3
    discovery = TenantDiscovery(boto3.client("ssm"), world.settings.app_name, world.settings.stage)
    written = {
        "tenancy": discovery.read(ours["detail"]["tenantId"]),
        "baseline": discovery.read(theirs["detail"]["tenantId"]),
    }
    print(json.dumps({"calls": {k: dict(v) for k, v in calls.items()}, "written": written}))
finally:
    server.stop()
"""


def test_the_tenant_updates_baseline_makes_tenancys_calls_for_a_first_change() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": "/usr/bin:/bin", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    assert found["calls"]["tenancy"] == {
        "ssm:GetParameters": 2,
        "ssm:PutParameter": 4,  # state, provisioning-status, tier, config (no error)
        "ssm:GetParameterHistory": 2,
    }
    assert found["calls"]["baseline"] == found["calls"]["tenancy"]
    ours, theirs = found["written"]["tenancy"], found["written"]["baseline"]
    assert set(ours) == set(theirs) == {"state", "provisioning-status", "tier", "config"}
    assert {k: ours[k] for k in ("provisioning-status", "tier", "config")} == {
        k: theirs[k] for k in ("provisioning-status", "tier", "config")
    }
    assert ours["provisioning-status"] == "PROVISIONED"
