"""`make bench`: Tenancy's numbers beside a bare-boto3 baseline doing the same AWS calls.

Every figure is a median (or percentile) over repeated runs, and every comparison is measured side
by side in the same run: these machines are noisy, so read the ratios, not the absolute times.

    python -m bench.run [--smoke] [--out bench/results.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT / "layers" / "shared" / "python", ROOT / "cdk", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

LAMBDA_LIMIT_BYTES = 250 * 1024 * 1024


@dataclass
class Counts:
    cold_runs: int = 15
    warm_requests: int = 500
    onboarding_tenants: int = 100
    throughput_tenants: int = 100
    scale_small: int = 10
    scale_large: int = 1000
    scale_requests: int = 200

    @classmethod
    def smoke(cls) -> Counts:
        return cls(1, 5, 2, 4, 2, 5, 5)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- AWS calls per request, through botocore's event hooks ----------------------------------


class CallCounter:
    """Counts every AWS API call made by any client created after install()."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def install(self) -> None:
        import botocore.session

        original = botocore.session.Session.create_client
        counter = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-call", counter._count)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def measure(self, action: Callable[[], Any]) -> Counter[str]:
        before = self.calls.copy()
        action()
        return self.calls - before


# --- the AWS-compatible server and the seeded world ------------------------------------------


@dataclass
class World:
    endpoint: str
    environment: dict[str, str]
    settings: Any
    tenants: list[str] = field(default_factory=list)


def start_world() -> tuple[World, Any]:
    import logging

    from moto.server import ThreadedMotoServer

    from localcloud import moto_fixes
    from localcloud.cloud import ACCESS_KEY, REGION, SECRET_KEY
    from localcloud.resources import create_resources, local_settings, settings_environ
    from tests.e2e.conftest import free_port

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_fixes.apply()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    base_env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Tenancy",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    os.environ.update(base_env)
    import boto3

    resources = create_resources(boto3.client, local_settings("tenancy", "bench", REGION))
    env = {**base_env, **settings_environ(resources.settings)}
    os.environ.update(env)
    from tenancy.common.clients import reset as reset_clients
    from tenancy.common.config import get_settings

    get_settings.cache_clear()
    reset_clients()
    return World(endpoint, env, resources.settings), server


def seed_tenant(
    world: World, status: str = "PROVISIONED", *, admin: bool = False, operation: str | None = None
) -> str:
    """A tenant in `status` (through legal transitions), with its pool route and optionally an admin."""
    import boto3

    from tenancy.application.access.routing import Route, RouteStore
    from tenancy.common.clients import client
    from tenancy.common.timestamps import now_iso
    from tenancy.contracts.tiers import Isolation, Tier
    from tenancy.control.models import Status, Tenant
    from tenancy.control.store import ControlStore

    settings = world.settings
    store = ControlStore(client("dynamodb"), settings.control_table_name)
    tenant_id = str(uuid.uuid4())
    now = now_iso()
    slug = f"bench-{tenant_id[:12]}"
    store.create(
        Tenant(
            tenant_id=tenant_id,
            name=slug,
            slug=slug,
            tier=Tier.PRO,
            isolation=Isolation.POOL,
            admin_email=f"admin@{slug}.example",
            status=Status.PENDING,
            version=1,
            created_at=now,
            updated_at=now,
        )
    )
    path = {
        "PENDING": [],
        "PROVISIONING": [Status.PROVISIONING],
        "PROVISIONED": [Status.PROVISIONING, Status.PROVISIONED],
    }[status]
    for step in path:
        store.transition(tenant_id, step, set_fields={"operationId": operation or "seed"})
    if status == "PROVISIONED":
        RouteStore(client("ssm"), settings.app_name, settings.stage).put(
            tenant_id,
            Route(
                Isolation.POOL, settings.app_table_name, settings.tenant_bucket_name, f"tenants/{tenant_id}/"
            ),
        )
    from tenancy.application.store.engine import Actor, TenantStore

    tenant_store = TenantStore(
        client("dynamodb"), settings.app_table_name, tenant_id, Actor("bench", "bench")
    )
    tenant_store.open_partition()  # as the provisioner does
    if admin:
        from tenancy.application.users.directory import UserDirectory
        from tenancy.application.users.service import add_user

        add_user(
            tenant_store,
            UserDirectory(boto3.client("cognito-idp"), settings.user_pool_id),
            f"admin-{tenant_id}",
            f"admin@{slug}.example",
            "admin",
        )
    world.tenants.append(tenant_id)
    return tenant_id


def seed_agent(world: World, tenant_id: str, name: str = "agent") -> str:
    from tenancy.application.store import keys
    from tenancy.application.store.engine import Actor, Change, TenantStore
    from tenancy.common.clients import client

    agent_id = str(uuid.uuid4())
    TenantStore(client("dynamodb"), world.settings.app_table_name, tenant_id, Actor("bench", "bench")).create(
        keys.AGENT, agent_id, {"agentId": agent_id, "name": name}, Change("agent.create", agent_id)
    )
    return agent_id


def sample(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / name).read_text())


def api_event(
    method: str,
    path: str,
    resource: str,
    params: dict[str, str] | None = None,
    body: Any = None,
    authorizer: dict[str, str] | None = None,
) -> dict[str, Any]:
    from localcloud.apigateway import rest_proxy_event

    return rest_proxy_event(
        method=method,
        path=path,
        resource=resource,
        path_parameters=params,
        headers={"Content-Type": ["application/json"]},
        body=json.dumps(body) if body is not None else None,
        authorizer=authorizer,
    )


def app_context(tenant_id: str) -> dict[str, str]:
    return {
        "tenantId": tenant_id,
        "userId": f"admin-{tenant_id}",
        "role": "admin",
        "tier": "PRO",
        "principalId": "bench",
    }


# --- 1. cold start ---------------------------------------------------------------------------


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
    }


# The function whose baseline the stack floor (bench/baselines/stack_floor.py) extends.
FLOOR_OF = "tenant_api"
# What every Lambda execution environment has and the local server cannot give: the runtime API's
# address (nothing calls it here; tenancy.common.coldstart reads it to know it runs in one).
EXECUTION_ENVIRONMENT = {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}


def cold_start(world: World, counts: Counts) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per function, the median cold start of Tenancy's handler and of its baseline, measured in
    alternating order; for FLOOR_OF also the stack floor. Returns the rows and the floor."""
    from bench.cold import cold_environment

    interpreter, layer, _ = cold_environment()
    rows = []
    floor: dict[str, Any] = {}
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
            return json.loads(completed.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

        for function, build in builders.items():
            variants = {"tenancy": ("tenancy", function), "baseline": ("baseline", function)}
            if function == FLOOR_OF:
                variants["floor"] = ("baseline", "stack_floor")
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
            tenancy, baseline = median(times["tenancy"]), median(times["baseline"])
            rows.append(
                {
                    "function": function,
                    "tenancy_ms": round(tenancy, 1),
                    "baseline_ms": round(baseline, 1),
                    "ratio": round(tenancy / baseline, 2),
                    "budget": 1.3,
                    "runs": counts.cold_runs,
                    "failed_first_events": failures,
                }
            )
            if "floor" in times:
                floor = {
                    "function": function,
                    "floor_ms": round(median(times["floor"]), 1),
                    "baseline_ms": round(baseline, 1),
                    "ratio": round(median(times["floor"]) / baseline, 2),
                    "tenancy_over_floor": round(tenancy / median(times["floor"]), 2),
                    "runs": counts.cold_runs,
                }
    return rows, floor


# --- 2. warm latency and AWS calls per route -------------------------------------------------


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
                "requests": counts.warm_requests,
            }
        )
    quiet.__exit__(None, None, None)
    return rows


# --- 3. onboarding through the local cloud over HTTP -----------------------------------------


def onboarding(counts: Counts) -> dict[str, Any]:
    from localcloud.client import ControlPlaneClient
    from tests.e2e.conftest import free_port, start_cloud, wait_healthy

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


# --- 4. cost with the number of tenants ------------------------------------------------------


class Filler:
    """Other tenants' items written straight into a table (25 per batch), topped up to a number of
    tenants: `items_of(tenantId)` gives each one's items."""

    def __init__(
        self, dynamodb: Any, table: str, items_of: Callable[[str], list[dict[str, Any]]], already: int = 0
    ):
        self._dynamodb, self._table, self._items_of, self.count = dynamodb, table, items_of, already

    def __call__(self, total: int) -> None:
        items = [
            item for _ in range(max(0, total - self.count)) for item in self._items_of(str(uuid.uuid4()))
        ]
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            self._dynamodb.batch_write_item(RequestItems={self._table: batch})
        self.count = max(self.count, total)


def scale(world: World, counts: Counts) -> dict[str, Any]:
    from localcloud.runtime import FunctionRuntime
    from tenancy.common.clients import client

    runtime = FunctionRuntime()
    tenant = seed_tenant(world)
    agents = [seed_agent(world, tenant, f"a{i}") for i in range(20)]
    context = app_context(tenant)
    dynamodb = client("dynamodb")

    def agents_of(other: str) -> list[dict[str, Any]]:
        return [
            {"PK": {"S": f"TENANT#{other}"}, "SK": {"S": f"AGENT#{i}"}, "name": {"S": "x"}} for i in range(5)
        ]

    def tenant_and_slug_of(other: str) -> list[dict[str, Any]]:
        return [
            {"PK": {"S": f"TENANT#{other}"}, "SK": {"S": "METADATA"}, "name": {"S": "x"}},
            {"PK": {"S": f"SLUG#s-{other}"}, "SK": {"S": "SLUG"}, "tenantId": {"S": other}},
        ]

    fill = Filler(dynamodb, world.settings.app_table_name, agents_of, already=1)  # other tenants' data
    fill_control = Filler(dynamodb, world.settings.control_table_name, tenant_and_slug_of)  # other tenants

    def measure_creates() -> float:
        """POST /tenants: a transaction (tenant + slug marker) on the control table."""
        creates = []
        for i in range(counts.scale_requests // 2 + 1):
            slug = f"scale-{uuid.uuid4().hex[:16]}"
            body = {"name": slug, "slug": slug, "tier": "FREE", "adminEmail": f"a@{slug}.example"}
            started = time.perf_counter()
            result = runtime.invoke("tenant_api", api_event("POST", "/tenants", "/tenants", body=body)).result
            if i:  # the first one warms the route
                creates.append((time.perf_counter() - started) * 1000)
            assert result is not None
            assert result["statusCode"] == 201, result
        return median(creates)

    def measure() -> tuple[float, float]:
        lists, gets = [], []
        runtime.invoke("app_api", api_event("GET", "/agents", "/agents", authorizer=context))
        for i in range(counts.scale_requests):
            started = time.perf_counter()
            runtime.invoke("app_api", api_event("GET", "/agents", "/agents", authorizer=context))
            lists.append((time.perf_counter() - started) * 1000)
            agent = agents[i % len(agents)]
            started = time.perf_counter()
            runtime.invoke(
                "app_api",
                api_event(
                    "GET", f"/agents/{agent}", "/agents/{agentId}", {"agentId": agent}, authorizer=context
                ),
            )
            gets.append((time.perf_counter() - started) * 1000)
        return median(lists), median(gets)

    fill(counts.scale_small)
    small = measure()
    fill_control(counts.scale_small)
    create_small = measure_creates()
    fill(counts.scale_large)
    large = measure()
    fill_control(counts.scale_large)
    create_large = measure_creates()
    return {
        "tenants_small": counts.scale_small,
        "tenants_large": counts.scale_large,
        "list_p50_ms": [round(small[0], 2), round(large[0], 2)],
        "get_p50_ms": [round(small[1], 2), round(large[1], 2)],
        "list_ratio": round(large[0] / small[0], 2),
        "get_ratio": round(large[1] / small[1], 2),
        "create_p50_ms": [round(create_small, 2), round(create_large, 2)],
        "create_ratio": round(create_large / create_small, 2),
        "budget": 1.2,
    }


# --- 5. package size -------------------------------------------------------------------------


def package_sizes() -> list[dict[str, Any]]:
    """What each asset ships, as the CDK app zips it: the layer with its bytecode, the functions
    without __pycache__."""

    def measure(name: str, folder: Path, bytecode: bool = False) -> dict[str, Any]:
        unzipped = 0
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and path.name != ".built" and (bytecode or "__pycache__" not in path.parts):
                    unzipped += path.stat().st_size
                    archive.write(path, path.relative_to(folder))
        return {
            "package": name,
            "zipped_kb": round(len(buffer.getvalue()) / 1024, 1),
            "unzipped_kb": round(unzipped / 1024, 1),
            "share_of_250mb_limit": round(unzipped / LAMBDA_LIMIT_BYTES, 3),
        }

    layer = ROOT / ".build" / "layer"
    if not layer.exists():
        raise RuntimeError("no .build/layer: run `make build` first")
    rows = [measure("layer (shared)", layer, bytecode=True)]
    bundled = sorted(
        p.name for p in (layer / "python").iterdir() if p.name.lower().startswith(("boto3", "botocore"))
    )
    rows[0]["runtime_provided_packages_bundled"] = bundled
    from tenancy_infra.topology import FUNCTIONS

    rows += [measure(f"function {spec.name}", ROOT / "functions" / spec.name) for spec in FUNCTIONS]
    return rows


def layer_bytecode(counts: Counts) -> dict[str, Any]:
    """The built layer imported by the runtime's interpreter as on Lambda (bytecode never written):
    tenant_api's handler with the layer's shipped bytecode, and with a copy stripped of it."""
    from bench.cold import RUNTIME, runtime_interpreter
    from tenancy_infra.topology import LAMBDA_PYTHON

    interpreter = runtime_interpreter(LAMBDA_PYTHON)
    if interpreter is None:
        return {"interpreter": f"python{LAMBDA_PYTHON} not found", "runs": 0}
    layer = ROOT / ".build" / "layer" / "python"
    handler = ROOT / "functions" / "tenant_api" / "handler.py"
    script = (
        "import importlib.util, sys, time; began = time.perf_counter(); "
        "sys.path[:0] = [sys.argv[1], sys.argv[2]]; "
        "spec = importlib.util.spec_from_file_location('handler', sys.argv[3]); "
        "spec.loader.exec_module(importlib.util.module_from_spec(spec)); "
        "print((time.perf_counter() - began) * 1000)"
    )
    times: dict[str, list[float]] = {"bytecode": [], "source": []}
    with tempfile.TemporaryDirectory() as scratch:
        source_only = Path(scratch) / "python"
        shutil.copytree(layer, source_only, ignore=shutil.ignore_patterns("__pycache__"))
        folders = {"bytecode": layer, "source": source_only}
        for run in range(counts.cold_runs + 1):
            for kind in ("bytecode", "source") if run % 2 == 0 else ("source", "bytecode"):
                completed = subprocess.run(  # noqa: S603 (the runtime's interpreter, our script)
                    [
                        interpreter,
                        "-S",
                        "-E",
                        "-B",
                        "-c",
                        script,
                        str(folders[kind]),
                        str(RUNTIME),
                        str(handler),
                    ],
                    env={"PATH": os.environ.get("PATH", ""), "POWERTOOLS_SERVICE_NAME": "tenant_api"},
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=True,
                )
                if run:  # the first round only warms the page cache
                    times[kind].append(float(completed.stdout.strip().splitlines()[-1]))
    with_bytecode, source = median(times["bytecode"]), median(times["source"])
    return {
        "interpreter": f"python{LAMBDA_PYTHON}",
        "handler": "tenant_api",
        "import_with_bytecode_ms": round(with_bytecode, 1),
        "import_source_only_ms": round(source, 1),
        "saved_ms": round(source - with_bytecode, 1),
        "runs": counts.cold_runs,
    }


# --- report ----------------------------------------------------------------------------------


def table(title: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(_cell(r.get(c))) for r in rows)) for c in columns}
    lines = [f"\n{title}", "  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(_cell(r.get(c)).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k.split(':')[1]}x{v}" for k, v in value.items())
    return "-" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny counts: checks the benchmark runs, measures nothing"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument(
        "--only", nargs="*", default=["cold", "warm", "onboarding", "scale", "size", "bytecode"]
    )
    args = parser.parse_args(argv)
    counts = Counts.smoke() if args.smoke else Counts()

    counter = CallCounter()
    counter.install()
    world, server = start_world()
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        },
        "counts": vars(counts),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        if "size" in args.only:
            results["package_size"] = package_sizes()
            print(table("Package size (Lambda limit 250 MB unzipped)", results["package_size"]), flush=True)
        if "bytecode" in args.only:
            results["layer_bytecode"] = layer_bytecode(counts)
            print(
                table(
                    "Layer bytecode: the handler's import on the runtime's Python",
                    [results["layer_bytecode"]],
                ),
                flush=True,
            )
        if "cold" in args.only:
            from bench.cold import cold_environment

            results["cold_start_python"] = cold_environment()[2]
            results["cold_start"], results["cold_start_floor"] = cold_start(world, counts)
            print(
                table(
                    "Cold start: import + first event, median ms (budget ≤ 1.3x baseline)",
                    results["cold_start"],
                ),
                table(
                    "Stack floor: the baseline + pydantic (one model) + Powertools Logger/Metrics",
                    [results["cold_start_floor"]],
                ),
                flush=True,
            )
        if "warm" in args.only:
            results["warm_latency"] = warm_latency(world, counts, counter)
            print(
                table(
                    "Warm latency per route, ms (budget p50 ≤ 1.5x baseline) and AWS calls per request",
                    results["warm_latency"],
                ),
                flush=True,
            )
        if "scale" in args.only:
            results["scale"] = scale(world, counts)
            print(
                table(
                    "One tenant's list/get with few vs many tenants in the pool table (budget ≤ 1.2)",
                    [results["scale"]],
                ),
                flush=True,
            )
        if "onboarding" in args.only:
            results["onboarding"] = onboarding(counts)
            print(
                table(
                    "Onboarding through the local cloud over HTTP: 201 → PROVISIONED", [results["onboarding"]]
                ),
                flush=True,
            )
    finally:
        server.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
