"""2. Warm latency and AWS calls per route, in-process, beside bare-boto3 baselines."""

from __future__ import annotations

import contextlib
import io
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.calls import CallCounter
from bench.common import ROOT, Counts, median, percentile
from bench.world import World, api_event, app_context, seed_agent, seed_tenant


def warm_latency(world: World, counts: Counts, counter: CallCounter) -> list[dict[str, Any]]:
    import importlib.util

    from localcloud.runtime import FunctionRuntime

    def baseline(name: str) -> Any:
        spec = importlib.util.spec_from_file_location(
            f"baseline_{name}", ROOT / "bench" / "baselines" / f"{name}.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.lambda_handler

    from bench.baselines import routes as routes_baseline

    runtime = FunctionRuntime()
    tenant = seed_tenant(world, admin=True)
    agent = seed_agent(world, tenant)
    context = app_context(tenant)
    routes: list[
        tuple[str, str, Callable[[], dict[str, Any]], Callable[[dict[str, Any], Any], Any] | None]
    ] = [
        (
            "GET /tenants/{tenantId}",
            "tenant_api",
            lambda: api_event("GET", f"/tenants/{tenant}", "/tenants/{tenantId}", {"tenantId": tenant}),
            baseline("tenant_api"),
        ),
        (
            "GET /tenants",
            "tenant_api",
            lambda: api_event("GET", "/tenants", "/tenants"),
            routes_baseline.list_tenants,
        ),
        (
            "POST /tenants",
            "tenant_api",
            lambda: api_event(
                "POST",
                "/tenants",
                "/tenants",
                body={
                    "name": "b",
                    "slug": f"b-{uuid.uuid4().hex[:12]}",
                    "tier": "PRO",
                    "adminEmail": "a@b.example",
                },
            ),
            routes_baseline.create_tenant,
        ),
        (
            "GET /agents/{agentId}",
            "app_api",
            lambda: api_event(
                "GET", f"/agents/{agent}", "/agents/{agentId}", {"agentId": agent}, authorizer=context
            ),
            baseline("app_api"),
        ),
        (
            "GET /agents",
            "app_api",
            lambda: api_event("GET", "/agents", "/agents", authorizer=context),
            routes_baseline.list_agents,
        ),
        (
            "POST /agents",
            "app_api",
            lambda: api_event("POST", "/agents", "/agents", body={"name": "n"}, authorizer=context),
            routes_baseline.create_agent,
        ),
        (
            "GET /me",
            "app_api",
            lambda: api_event("GET", "/me", "/me", authorizer=context),
            routes_baseline.me,
        ),
    ]
    rows = []
    quiet = contextlib.redirect_stdout(io.StringIO())  # the functions' EMF lines are not the report
    quiet.__enter__()
    for route, function, build, base in routes:
        runtime.invoke(function, build())  # warm
        if base is not None:
            base(build(), None)
        calls = counter.measure(lambda f=function, b=build: runtime.invoke(f, b()))  # type: ignore[misc]
        # The baseline's calls, counted the same way: the comparison holds only while they agree.
        base_calls = counter.measure(lambda b=base, e=build: b(e(), None)) if base is not None else None  # type: ignore[misc]
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(counts.warm_requests):
            event = build()
            started = time.perf_counter()
            result = runtime.invoke(function, event).result
            ours.append((time.perf_counter() - started) * 1000)
            assert result["statusCode"] < 400, result
            if base is not None:
                event = build()
                started = time.perf_counter()
                base(event, None)
                theirs.append((time.perf_counter() - started) * 1000)
        rows.append(
            {
                "route": route,
                "p50_ms": round(median(ours), 2),
                "p99_ms": round(percentile(ours, 99), 2),
                "baseline_p50_ms": round(median(theirs), 2) if theirs else None,
                "baseline_p99_ms": round(percentile(theirs, 99), 2) if theirs else None,
                "ratio_p50": round(median(ours) / median(theirs), 2) if theirs else None,
                "budget": 1.5 if theirs else None,
                "aws_calls": dict(sorted(calls.items())),
                "baseline_aws_calls": dict(sorted(base_calls.items())) if base_calls is not None else None,
                "requests": counts.warm_requests,
            }
        )
    quiet.__exit__(None, None, None)
    return rows
