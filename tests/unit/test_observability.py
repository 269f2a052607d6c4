"""Observability: tenant_id on logs and metrics; the X-Ray SDK is loaded only where tracing is on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import sys
sys.path.insert(0, "layers/shared/python")
from tenancy.common.observability import tracer
@tracer.capture_lambda_handler(capture_response=False)
def handler(event, context):
    return "ok"
print(handler.__name__, "aws_xray_sdk" in sys.modules, tracer.enabled())
"""


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "handler False False"),  # not in Lambda
        ({"AWS_LAMBDA_FUNCTION_NAME": "f", "POWERTOOLS_TRACE_DISABLED": "true"}, "handler False False"),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f"}, "handler True True"),
    ],
)
def test_the_xray_sdk_is_imported_only_when_tracing_is_on(environment: dict[str, str], expected: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", **environment},
    )
    assert completed.stdout.strip() == expected


def test_tenant_metrics_carry_the_tenant_dimension(capsys: pytest.CaptureFixture[str]) -> None:
    from tenancy.common.observability import count

    count("TenantThing", "tenant-7")
    emitted = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    [directive] = emitted["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Tenancy"
    assert ["tenant_id"] in directive["Dimensions"] or any("tenant_id" in d for d in directive["Dimensions"])
    assert emitted["tenant_id"] == "tenant-7"
    assert emitted["TenantThing"] == [1.0]
