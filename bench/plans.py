"""5. Plans (issue 11): what the request limiter adds to an app API request, cached vs uncached reads
of a tenant's configuration and secrets, and one tenant hammering its limit beside another.

In-process, on the seeded world the warm benchmark uses (bench/world.py: the handlers run here, the
AWS-compatible server answers over local HTTP), each comparison measured side by side, interleaved,
so the machine's noise falls on both sides alike.

- Quota check: the limiter's `admit` as the middleware calls it (one conditional UpdateItem on the
  tenant's day item in the steady state: a tenant under its rate that keeps calling), and the same
  warm `GET /me` with the limiter and with a limiter that admits without a call (the difference is
  what a request pays for being counted), beside the same UpdateItem in bare boto3 (what the
  AWS-compatible server's round trip costs, whoever makes it). Budget (bench/budgets.py): p50 and p99 ≤ 3 ms, and exactly
  one DynamoDB call per request, counted through botocore's event hooks (bench/calls.py).
- Config: the effective config the authorizer hands on (parsing the context's compact JSON: no
  call) against computing it (the tenant item's GetItem + `control.configuration.config_of`).
- Secret: the secrets accessor (`application.secrets.routes.secret_accessor()`, Powertools'
  SecretsProvider) from its cache against `force_fetch` (one GetSecretValue).
- Noisy neighbour: NOISY_THREADS threads, in a process of their own, send one tenant's `GET /me`
  back to back, far over its plan's rate (most answers are 429), while a second tenant's requests
  run here one after another: the noisy tenant's admitted and refused requests per second, and the
  other tenant's p50 with and without the hammering. Budget: loaded p50 ≤ 1.2x unloaded. The two
  share the AWS-compatible server (one interpreter, in this process) and this machine's CPUs, so
  the figure is an upper bound of what the hammering costs the other tenant: deployed, each request
  has its own execution environment and the tenants' day items are in different partitions.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from bench.budgets import neighbour_verdict, quota_verdict
from bench.calls import CallCounter
from bench.common import Counts, median, percentile
from bench.world import World, api_event, seed_tenant

NOISY_THREADS = 8
UNLIMITED = 1_000_000_000  # a rate, burst and daily quota the benchmark's own requests never reach


def plans(world: World, counts: Counts, counter: CallCounter) -> dict[str, Any]:
    from localcloud.runtime import FunctionRuntime

    runtime = FunctionRuntime()
    load = os.getloadavg()[0]
    quiet = contextlib.redirect_stdout(io.StringIO())  # the functions' EMF lines are not the report
    with quiet:
        section: dict[str, Any] = {
            "quota_check": quota_check(world, counts, counter, runtime),
            "config_read": config_read(world, counts, counter),
            "secret_read": secret_read(world, counts, counter),
            "noisy_neighbour": noisy_neighbour(world, counts, runtime),
        }
    # The machine's 1-minute load average before and after: other work on it shows in the figures.
    section["load_average"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    return section


def caller_context(tenant_id: str, rate: int = UNLIMITED, burst: int = UNLIMITED) -> dict[str, str]:
    """An admin of a PRO tenant, as the authorizer hands it on, with the API limits given."""
    from tenancy.contracts.plans import LimitValues, Overrides, StagePlans, effective_config
    from tenancy.contracts.tiers import Tier

    limits = LimitValues(apiRequestsPerSecond=rate, apiBurst=burst, apiRequestsPerDay=UNLIMITED)
    config = effective_config(Tier.PRO, Overrides(limits=limits), StagePlans(), version=2)
    return {
        "tenantId": tenant_id,
        "userId": f"admin-{tenant_id}",
        "role": "admin",
        "tier": "PRO",
        "config": config.compact(),
        "principalId": "bench",
    }


def me(context: dict[str, str]) -> dict[str, Any]:
    return api_event("GET", "/me", "/me", authorizer=context)


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def _figures(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(median(values), 3), "p99_ms": round(percentile(values, 99), 3)}


class _Admits:
    """A limiter that admits every request without a call: the middleware still parses the
    context and sets the headers, so a request through it differs from the real one by the
    limiter's own work."""

    def admit(
        self, tenant_id: str, limits: Any, idempotency_key: str | None = None, request: str = ""
    ) -> Any:
        from tenancy.application.quotas.limiter import Admission, Quota

        return Admission(Quota(limits.burst, limits.burst, 0), counted=True)


@contextlib.contextmanager
def _without_limiter() -> Iterator[None]:
    from tenancy.application.quotas import middleware

    real = middleware.request_limiter
    admits = _Admits()
    middleware.request_limiter = lambda: admits  # type: ignore[assignment]
    try:
        yield
    finally:
        middleware.request_limiter = real


def quota_check(world: World, counts: Counts, counter: CallCounter, runtime: Any) -> dict[str, Any]:
    from tenancy.application.quotas.limiter import Limits
    from tenancy.application.quotas.middleware import request_limiter
    from tenancy.contracts.context import TenantContext

    tenant = seed_tenant(world, admin=True)
    context = caller_context(tenant)
    limits = Limits.of(TenantContext.from_authorizer_context(context).effective_config())
    limiter = request_limiter()

    def request() -> int:
        result = runtime.invoke("app_api", me(context)).result
        status: int = result["statusCode"]
        assert status == 200, result
        return status

    bare = bare_update(tenant)
    request()  # warm: the function, the tenant's credentials and its bucket
    with _without_limiter():
        request()
    bare()
    limited: list[float] = []
    unlimited: list[float] = []
    alone: list[float] = []
    baseline: list[float] = []
    calls: Counter[str] = Counter()
    for _ in range(counts.plans_requests):
        before = counter.calls.copy()
        started = time.perf_counter()
        limiter.admit(tenant, limits)
        alone.append(_ms(started))
        calls += counter.calls - before
        started = time.perf_counter()
        bare()
        baseline.append(_ms(started))
        started = time.perf_counter()
        request()
        limited.append(_ms(started))
        with _without_limiter():
            started = time.perf_counter()
            request()
            unlimited.append(_ms(started))
    added = counter.measure(request) - counter.measure(lambda: _with(_without_limiter(), request))
    per_request = {name: round(n / counts.plans_requests, 3) for name, n in sorted(calls.items())}
    dynamodb_calls = (
        sum(n for name, n in calls.items() if name.startswith("dynamodb:")) / counts.plans_requests
    )
    verdict = quota_verdict(median(alone), percentile(alone, 99), dynamodb_calls)
    return {
        "requests": counts.plans_requests,
        "limiter_p50_ms": verdict.pop("limiter_p50_ms"),
        "limiter_p99_ms": verdict.pop("limiter_p99_ms"),
        "bare_update_p50_ms": round(median(baseline), 3),
        "bare_update_p99_ms": round(percentile(baseline, 99), 3),
        "limiter_over_bare_p50_ms": round(median(alone) - median(baseline), 3),
        "request_p50_ms": round(median(limited), 2),
        "request_p99_ms": round(percentile(limited, 99), 2),
        "request_without_limiter_p50_ms": round(median(unlimited), 2),
        "request_without_limiter_p99_ms": round(percentile(unlimited, 99), 2),
        "added_p50_ms": round(median(limited) - median(unlimited), 2),
        "added_p99_ms": round(percentile(limited, 99) - percentile(unlimited, 99), 2),
        "calls_per_check": per_request,
        "request_calls_added": dict(sorted(added.items())),
        **verdict,
    }


def bare_update(tenant_id: str) -> Callable[[], Any]:
    """The baseline: the limiter's one call in bare boto3 (a conditional UpdateItem of the same
    shape, on an item of its own in the tenant's usage partition, with the same tenant-scoped
    client), so `admit` minus this is what the limiter's own code costs."""
    from tenancy.application.access.dependencies import tenant_data
    from tenancy.common.config import get_settings

    dynamodb = tenant_data().credentials.client("dynamodb", tenant_id)
    table = get_settings().usage_table_name

    def update() -> Any:
        now = time.time_ns() // 1000
        return dynamodb.update_item(
            TableName=table,
            Key={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": "BENCH#bare-update"}},
            UpdateExpression="SET #tat = :now + :T, #calls = if_not_exists(#calls, :zero) + :one",
            ConditionExpression="(attribute_not_exists(#tat) OR #tat < :now) AND "
            "(attribute_not_exists(#calls) OR #calls < :daily)",
            ExpressionAttributeNames={"#tat": "tat", "#calls": "apiCalls"},
            ExpressionAttributeValues={
                ":now": {"N": str(now)},
                ":T": {"N": "1"},
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
                ":daily": {"N": str(UNLIMITED)},
            },
            ReturnValues="UPDATED_NEW",
        )

    return update


def _with(manager: contextlib.AbstractContextManager[None], action: Callable[[], Any]) -> Any:
    with manager:
        return action()


def _side_by_side(
    counter: CallCounter, counts: Counts, cached: Callable[[], Any], uncached: Callable[[], Any]
) -> dict[str, Any]:
    """Both reads, interleaved, with the AWS calls each makes."""
    cached()
    uncached()
    cached_calls, uncached_calls = counter.measure(cached), counter.measure(uncached)
    fast: list[float] = []
    slow: list[float] = []
    for _ in range(counts.plans_requests):
        started = time.perf_counter()
        cached()
        fast.append(_ms(started))
        started = time.perf_counter()
        uncached()
        slow.append(_ms(started))
    return {
        "cached_p50_ms": round(median(fast), 3),
        "cached_p99_ms": round(percentile(fast, 99), 3),
        "cached_calls": dict(sorted(cached_calls.items())),
        "uncached_p50_ms": round(median(slow), 3),
        "uncached_p99_ms": round(percentile(slow, 99), 3),
        "uncached_calls": dict(sorted(uncached_calls.items())),
        "uncached_over_cached_p50": round(median(slow) / median(fast), 1),
        "requests": counts.plans_requests,
    }


def config_read(world: World, counts: Counts, counter: CallCounter) -> dict[str, Any]:
    """The effective config as the app API has it (from the authorizer's context) against reading
    the tenant item and computing it, as the control plane does."""
    from tenancy.common.clients import client
    from tenancy.contracts.context import TenantContext
    from tenancy.control.configuration import config_of
    from tenancy.control.store import ControlStore

    tenant = seed_tenant(world)
    context = caller_context(tenant)
    store = ControlStore(client("dynamodb"), world.settings.control_table_name)
    return {
        "cached": "the authorizer's context (compact JSON, parsed)",
        "uncached": "the tenant item (GetItem) + config_of",
        **_side_by_side(
            counter,
            counts,
            lambda: TenantContext.from_authorizer_context(context).effective_config(),
            lambda: config_of(store.get(tenant)),
        ),
    }


def secret_read(world: World, counts: Counts, counter: CallCounter) -> dict[str, Any]:
    """A tenant secret through the accessor, from its cache against force_fetch."""
    import boto3

    from tenancy.application.secrets.routes import secret_accessor
    from tenancy.application.secrets.vault import tenant_secrets_prefix

    tenant = seed_tenant(world)
    name = "llm-key"
    settings = world.settings
    boto3.client("secretsmanager").create_secret(
        Name=tenant_secrets_prefix(settings.app_name, settings.stage, tenant) + name,
        SecretString="bench-value",
        Tags=[{"Key": "TenantId", "Value": tenant}],
    )
    accessor = secret_accessor()

    def cached() -> None:
        assert accessor.get(tenant, name) == "bench-value"

    def fetched() -> None:
        assert accessor.get(tenant, name, force_fetch=True) == "bench-value"

    return {
        "cached": "SecretsProvider's cache (within the TTL)",
        "uncached": "force_fetch (GetSecretValue)",
        "ttl_seconds": accessor.ttl_seconds,
        **_side_by_side(counter, counts, cached, fetched),
    }


def noisy_neighbour(world: World, counts: Counts, runtime: Any) -> dict[str, Any]:
    """The noisy tenant's functions run in a process of their own (deployed, every request has its
    own execution environment: the tenants never share an interpreter), NOISY_THREADS threads
    sending back to back; the other tenant's requests run here, one after another. What the two
    share is what they share deployed, the data service (here the AWS-compatible server, in this
    process), and this machine's CPUs."""
    import multiprocessing

    from tenancy.contracts.plans import PLANS, Limit
    from tenancy.contracts.tiers import Tier

    free = PLANS[Tier.FREE].limits
    rate, burst = free[Limit.API_REQUESTS_PER_SECOND], free[Limit.API_BURST]
    noisy = caller_context(seed_tenant(world, admin=True), rate=rate, burst=burst)
    other = caller_context(seed_tenant(world, admin=True))
    seconds = counts.noisy_seconds

    def quiet_requests() -> tuple[list[float], int]:
        latencies, failed = [], 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            result = runtime.invoke("app_api", me(other)).result
            latencies.append(_ms(started))
            failed += result["statusCode"] != 200
        return latencies, failed

    runtime.invoke("app_api", me(other))
    unloaded, unloaded_failed = quiet_requests()
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter, the world's settings inherited
    hammering, answers = spawn.Event(), spawn.Queue()
    process = spawn.Process(target=hammer, args=(noisy, seconds, NOISY_THREADS, hammering, answers))
    process.start()
    try:
        assert hammering.wait(timeout=180), "the hammering process did not start"
        loaded, loaded_failed = quiet_requests()
        statuses, elapsed = answers.get(timeout=seconds + 120)
    finally:
        process.join(timeout=60)
    return {
        "seconds": seconds,
        "noisy_threads": NOISY_THREADS,
        "noisy_rate_limit": rate,
        "noisy_burst": burst,
        "noisy_offered_per_s": round(sum(statuses.values()) / elapsed, 1),
        "noisy_admitted_per_s": round(statuses.get(200, 0) / elapsed, 1),
        "noisy_refused_per_s": round(statuses.get(429, 0) / elapsed, 1),
        "noisy_other_statuses": {str(k): v for k, v in sorted(statuses.items()) if k not in (200, 429)},
        "other_requests": [len(unloaded), len(loaded)],
        "other_failed": unloaded_failed + loaded_failed,
        "other_p99_ms": [round(percentile(unloaded, 99), 2), round(percentile(loaded, 99), 2)],
        **neighbour_verdict(median(unloaded), median(loaded)),
    }


def hammer(context: dict[str, str], seconds: float, threads: int, hammering: Any, answers: Any) -> None:
    """The noisy tenant's process: `threads` threads send its requests back to back for `seconds`
    (the app API warm in each first); answers ({status: count}, elapsed seconds)."""
    from bench.common import use_source_paths

    use_source_paths()
    with contextlib.redirect_stdout(io.StringIO()):
        from localcloud.runtime import FunctionRuntime

        runtime = FunctionRuntime()
        for _ in range(threads):
            runtime.module("app_api")
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        stop = threading.Event()

        def send() -> None:
            while not stop.is_set():
                result = runtime.invoke("app_api", me(context)).result
                with lock:
                    statuses[result["statusCode"] if result else 0] += 1

        workers = [threading.Thread(target=send, daemon=True) for _ in range(threads)]
        hammering.set()
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        time.sleep(seconds)
        stop.set()
        for worker in workers:
            worker.join()
        answers.put((dict(statuses), time.perf_counter() - started))


def plans_tables(section: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """What bench/run.py prints of the section."""
    quota, neighbour = section["quota_check"], section["noisy_neighbour"]
    reads = [
        {"read": name, **{k: v for k, v in section[name].items() if k not in ("cached", "uncached")}}
        for name in ("config_read", "secret_read")
        if section.get(name)
    ]
    return [
        (
            f"Quota check per app API request, ms (budget p50 and p99 ≤ {quota['budget_ms']}, "
            f"{quota['budget_calls']} DynamoDB call)",
            [{k: v for k, v in quota.items() if k != "calls_per_check"}],
        ),
        ("Cached vs uncached reads, ms and AWS calls", reads),
        (
            f"Noisy neighbour: {neighbour['noisy_threads']} threads hammer one tenant's limit "
            f"(budget: the other tenant's p50 ≤ {neighbour['budget']}x unloaded)",
            [neighbour],
        ),
    ]
