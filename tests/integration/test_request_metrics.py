"""The app API publishes each request per tenant (ApiRequests, ApiClientErrors, ApiServerErrors,
ApiLatency with a tenant_id dimension): the dashboard's requests, errors and latency by tenant."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tenancy.application.access import request_metrics
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.integration.conftest import admin_of


def points(output: str, name: str) -> list[dict[str, Any]]:
    """The EMF blobs of metric `name` printed to stdout."""
    found = []
    for line in output.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        if name in blob:
            found.append(blob)
    return found


def test_each_request_is_counted_and_timed_for_its_tenant(
    cloud: Cloud, app: ApiClient, onboard: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = onboard("metered-co", "FREE")
    admin = admin_of(cloud, app, "metered-co")
    capsys.readouterr()  # what onboarding printed

    assert admin.get("/me").status == 200
    assert admin.get("/agents/00000000-0000-4000-8000-000000000000").status == 404
    output = capsys.readouterr().out

    tid = tenant["tenantId"]
    requests = points(output, request_metrics.REQUESTS_METRIC)
    assert [blob["tenant_id"] for blob in requests] == [tid, tid]
    assert requests[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["tenant_id", "service"]]
    [client_error] = points(output, request_metrics.CLIENT_ERRORS_METRIC)
    assert client_error["tenant_id"] == tid
    assert points(output, request_metrics.SERVER_ERRORS_METRIC) == []
    latencies = points(output, request_metrics.LATENCY_METRIC)
    assert [blob["tenant_id"] for blob in latencies] == [tid, tid]
    assert latencies[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Milliseconds"
    assert all(blob[request_metrics.LATENCY_METRIC][0] > 0 for blob in latencies)
