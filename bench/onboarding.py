"""3. Onboarding through the local cloud over HTTP: one tenant at a time, and under load."""

from __future__ import annotations

import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.common import Counts, median, percentile
from localcloud.launch import free_port, start_cloud, wait_healthy


def onboarding(counts: Counts) -> dict[str, Any]:
    from localcloud.client import ControlPlaneClient

    api_port, aws_port = free_port(), free_port()
    with tempfile.TemporaryFile("w+") as log:
        process = start_cloud(api_port, aws_port, log)
        try:
            wait_healthy(f"http://127.0.0.1:{api_port}", process)
            from botocore.credentials import Credentials

            api = ControlPlaneClient(f"http://127.0.0.1:{api_port}", Credentials("test", "test"))

            def onboard_one(poll_seconds: float = 0.01) -> float:
                slug = f"onb-{uuid.uuid4().hex[:12]}"
                body = {"name": slug, "slug": slug, "tier": "FREE", "adminEmail": f"a@{slug}.example"}
                created = api.post("/tenants", body)
                started = time.perf_counter()
                assert created.status == 201, created.body
                tenant_id = created.body["data"]["tenantId"]
                while True:
                    status = api.get(f"/tenants/{tenant_id}").body["data"]["provisioningStatus"]
                    if status in ("PROVISIONED", "FAILED"):
                        assert status == "PROVISIONED", f"tenant {tenant_id} is {status}"
                        return (time.perf_counter() - started) * 1000
                    assert time.perf_counter() - started < 60, f"tenant {tenant_id} still {status} after 60 s"
                    time.sleep(poll_seconds)

            sequential = [onboard_one() for _ in range(counts.onboarding_tenants)]
            loaded = onboard_concurrently(api, counts.throughput_tenants, clients=10)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {
        "tenants": counts.onboarding_tenants,
        "provisioned_after_201_p50_ms": round(median(sequential), 1),
        "provisioned_after_201_p95_ms": round(percentile(sequential, 95), 1),
        "concurrent_clients": 10,
        "throughput_tenants": counts.throughput_tenants,
        "tenants_per_second": loaded["tenants_per_second"],
        "under_load_p50_ms": loaded["p50_ms"],
        "under_load_p95_ms": loaded["p95_ms"],
    }


def onboard_concurrently(api: Any, tenants: int, clients: int) -> dict[str, float]:
    """`clients` clients register `tenants` tenants back to back; one observer lists the provisioned
    ones (per-tenant polling by every client would load the cloud it measures). Throughput and
    latencies come from the tenants' own timestamps: `createdAt` (the 201) to `updatedAt` of the
    transition to PROVISIONED (the last change an onboarded tenant sees)."""
    prefix = f"load-{uuid.uuid4().hex[:6]}-"

    def register(i: int) -> None:
        slug = f"{prefix}{i}"
        body = {"name": slug, "slug": slug, "tier": "FREE", "adminEmail": f"a@{slug}.example"}
        created = api.post("/tenants", body)
        assert created.status == 201, created.body

    def provisioned() -> list[dict[str, Any]]:
        found, cursor = [], ""
        while True:
            page = api.get(f"/tenants?status=PROVISIONED&limit=100{cursor}").body
            found += [t for t in page["data"] if t["slug"].startswith(prefix)]
            if not page["pagination"]["has_next"]:
                return found
            cursor = f"&cursor={page['pagination']['next_cursor']}"

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(register, range(tenants)))
    deadline = time.monotonic() + 600
    while len(done := provisioned()) < tenants:
        assert time.monotonic() < deadline, f"{len(done)} of {tenants} provisioned after 10 minutes"
        time.sleep(0.25)
    created = [_epoch(t["createdAt"]) for t in done]
    finished = [_epoch(t["updatedAt"]) for t in done]
    latencies = [(end - start) * 1000 for start, end in zip(created, finished, strict=True)]
    return {
        "tenants_per_second": round(tenants / (max(finished) - min(created)), 2),
        "p50_ms": round(median(latencies), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
    }


def _epoch(timestamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
