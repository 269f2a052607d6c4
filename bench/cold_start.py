"""1. Cold start: per function, a fresh process (bench/cold.py) imports the handler and serves its
first event, beside its bare-boto3 baseline and its stack floor (the baseline plus the Powertools
features the function uses: bench/baselines/floors/); budget in bench/budgets.py."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.budgets import cold_start_verdict
from bench.common import ROOT, Counts, median
from bench.world import World, api_event, app_context, sample, seed_agent, seed_tenant


def cold_events(world: World) -> dict[str, Callable[[], dict[str, Any]]]:
    """Per function, a builder of its first event (fresh state where the function changes state)."""
    from localcloud.tokens import issue_token

    provisioned = seed_tenant(world, admin=True)
    agent = seed_agent(world, provisioned)
    token = issue_token(
        __import__("boto3").client("cognito-idp"),
        world.settings.user_pool_id,
        world.settings.user_pool_client_id,
        f"admin@bench-{provisioned[:12]}.example",
    )

    def get_tenant() -> dict[str, Any]:
        return api_event("GET", f"/tenants/{provisioned}", "/tenants/{tenantId}", {"tenantId": provisioned})

    def stream_insert() -> dict[str, Any]:
        tenant_id = seed_tenant(world, "PENDING")
        event = sample("dynamodb-stream-insert-pending.json")
        image = event["Records"][0]["dynamodb"]["NewImage"]
        image["tenantId"] = {"S": tenant_id}
        image["PK"] = {"S": f"TENANT#{tenant_id}"}
        return event

    def onboarding() -> dict[str, Any]:
        event = sample("eventbridge-tenant-onboarding.json")
        event["detail"]["tenantId"] = str(uuid.uuid4())
        return event

    def provisioned_result() -> dict[str, Any]:
        tenant_id = seed_tenant(world, "PROVISIONING", operation="op-bench")
        event = sample("eventbridge-tenant-provisioned.json")
        event["detail"].update(tenantId=tenant_id, operationId="op-bench")
        return event

    def tenant_updated() -> dict[str, Any]:
        event = sample("eventbridge-tenant-updated.json")
        event["detail"]["tenantId"] = str(uuid.uuid4())  # a first change: every parameter is written
        return event

    def authorizer() -> dict[str, Any]:
        from localcloud.apigateway import authorizer_event

        event = api_event("GET", "/me", "/me")
        event["headers"]["Authorization"] = f"Bearer {token}"
        return authorizer_event(event)

    def get_agent() -> dict[str, Any]:
        return api_event(
            "GET",
            f"/agents/{agent}",
            "/agents/{agentId}",
            {"agentId": agent},
            authorizer=app_context(provisioned),
        )

    return {
        "tenant_api": get_tenant,
        "provisioning": stream_insert,
        "tenant_provisioner": onboarding,
        "provisioning_completion": provisioned_result,
        "authorizer": authorizer,
        "app_api": get_agent,
        "reconciler": lambda: sample("eventbridge-scheduled-reconcile.json"),
        "tenant_updates": tenant_updated,
    }


# Per function, the stack floor of the Powertools features it uses (bench/baselines/floors/): the
# REST event handler with validation for the APIs, the batch utility for the stream consumer, the
# parser's EventBridge models for the rule consumers, Logger/Metrics/pydantic alone for the others.
FLOORS = {
    "tenant_api": "api",
    "provisioning": "batch",
    "tenant_provisioner": "parser",
    "provisioning_completion": "parser",
    "authorizer": "core",
    "app_api": "api",
    "reconciler": "core",
    "tenant_updates": "parser",
}
FLOOR_FEATURES = {
    "core": "Logger + Metrics + pydantic",
    "api": "core + REST event handler with validation",
    "batch": "core + batch processor (DynamoDB stream records)",
    "parser": "core + parser EventBridge models",
}
# What every Lambda execution environment has and the local server cannot give: the runtime API's
# address (nothing calls it here; tenancy.common.coldstart reads it to know it runs in one).
EXECUTION_ENVIRONMENT = {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}


def cold_start(world: World, counts: Counts) -> list[dict[str, Any]]:
    """Per function, the median cold start of Tenancy's handler, of its bare-boto3 baseline and of
    its stack floor, measured in rotating order, and the budget's verdict."""
    from bench.cold import cold_environment

    interpreter, layer, _ = cold_environment()
    rows = []
    builders = cold_events(world)
    env = {**os.environ, **world.environment, "JWKS_URL": world.settings.jwks_url}
    with tempfile.TemporaryDirectory() as scratch:

        def cold(kind: str, handler: str, event: dict[str, Any], service: str) -> dict[str, Any]:
            path = Path(scratch) / f"{handler}-{kind}.json"
            path.write_text(json.dumps(event))
            # -S -E: no site-packages and no PYTHON* variables, as in a Lambda execution environment.
            completed = subprocess.run(  # noqa: S603 (our own interpreter and script)
                [interpreter, "-S", "-E", "-m", "bench.cold", kind, handler, str(path), layer],
                cwd=ROOT,
                env={**env, "POWERTOOLS_SERVICE_NAME": service, **EXECUTION_ENVIRONMENT},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if completed.returncode != 0:
                raise RuntimeError(f"cold start of {kind} {handler} failed:\n{completed.stderr[-2000:]}")
            result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
            return result

        for function, build in builders.items():
            variants = {
                "tenancy": ("tenancy", function),
                "baseline": ("baseline", function),
                "floor": ("floor", f"{FLOORS[function]}:{function}"),
            }
            for kind, handler in variants.values():  # unmeasured: bytecode caches and the page cache
                cold(kind, handler, build(), function)
            times: dict[str, list[float]] = {name: [] for name in variants}
            failures = 0
            for run in range(counts.cold_runs):
                order = list(variants)[run % len(variants) :] + list(variants)[: run % len(variants)]
                for name in order:
                    result = cold(*variants[name], build(), function)
                    failures += not result["ok"]
                    times[name].append(result["total_ms"])
            verdict = cold_start_verdict(
                median(times["tenancy"]), median(times["baseline"]), median(times["floor"])
            )
            rows.append(
                {
                    "function": function,
                    **verdict,
                    "floor": FLOORS[function],
                    "runs": counts.cold_runs,
                    "failed_first_events": failures,
                }
            )
    return rows
