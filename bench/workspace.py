"""6. The workspace (issue 12): `GET /dashboards/{dashboardId}` for a caller who is not the dashboard's
owner, with 0, 10 and 100 shares and groups: warm p50/p95 and the AWS calls of each request.

In-process through the app API's handler, as the warm benchmark runs its routes (bench/warm.py: the
authorizer's context is handed on as API Gateway would, the limiter counts each request).

One tenant holds every level, so the partition each request reads is the same for all three (the
emulator's cost of a Query grows with the partition, a deployed table's does not): LEVELS[-1] groups
in the tenant; for each level N a member (the caller) who belongs to min(N, MAX_GROUPS_PER_USER) of
them and a dashboard of the tenant's admin with N shares: to N - N // 10 of the caller's groups (all
viewer but one editor) and to N // 10 other users of the tenant; plus the caller's own viewer share,
so the request is a 200 at 0 too (at 10 and 100 the caller is an editor through a group). The
groups, memberships and shares are seeded through the access graph (`tenancy.application.sharing.graph`,
`TenantStore.commit`), the dashboards through `POST /dashboards`; the measured request is the route.

The levels' requests are interleaved (one of each in turn) so the machine's noise falls on all alike.
Budget: flat — p50 at 100 ≤ BUDGET x p50 at 0, and the same AWS calls at every level (resolution is
one Query of the caller's groups and one BatchGetItem of the dashboard and the caller's shares,
whatever the number of groups and shares: `tenancy.application.sharing.permissions`).

Two figures beside it say where a growth comes from: the request's CPU time in the calling thread
(the function's own work: Tenancy, Powertools, botocore's serialising and parsing; the emulator
answers in threads of its own), and a bare-boto3 baseline making the resolution's two calls with the
same keys, interleaved with the route (what the emulator's round trips cost at each level, whoever
makes them: its Query and BatchGetItem do work per key and per item that DynamoDB does in parallel).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.calls import CallCounter
from bench.common import Counts, median, percentile
from bench.world import World, api_event, app_context, seed_tenant

LEVELS = (0, 10, 100)
BUDGET = 1.2


def workspace(world: World, counts: Counts, counter: CallCounter) -> dict[str, Any]:
    from localcloud.runtime import FunctionRuntime

    runtime = FunctionRuntime()
    load = os.getloadavg()[0]
    quiet = contextlib.redirect_stdout(io.StringIO())  # the functions' EMF lines are not the report
    with quiet:
        started = time.perf_counter()
        seeded = seed_workspace(world, runtime)
        seed_seconds = round(time.perf_counter() - started, 1)
        section = measure(seeded, counts, counter, runtime, world)
    section["seed_seconds"] = seed_seconds
    section["partition_items"] = seeded["partition_items"]
    # The machine's 1-minute load average before and after: other work on it shows in the figures.
    section["load_average"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    return section


def member_context(tenant_id: str, user_id: str) -> dict[str, str]:
    """A member (not an admin) of the tenant, as the authorizer hands it on, with the admin's
    unlimited API limits (bench.world.app_context): the benchmark never meets the rate."""
    return {**app_context(tenant_id), "userId": user_id, "role": "member"}


def dashboard_request(dashboard_id: str, context: dict[str, str]) -> dict[str, Any]:
    return api_event(
        "GET",
        f"/dashboards/{dashboard_id}",
        "/dashboards/{dashboardId}",
        {"dashboardId": dashboard_id},
        authorizer=context,
    )


def seed_workspace(world: World, runtime: Any, levels: tuple[int, ...] = LEVELS) -> dict[str, Any]:
    """The tenant, its groups, and per level a caller, a dashboard and its shares (module docstring)."""
    from tenancy.application.sharing import graph
    from tenancy.application.sharing.permissions import MAX_GROUPS_PER_USER, Permission, TargetType
    from tenancy.application.store import keys
    from tenancy.application.store.engine import Actor, TenantStore
    from tenancy.application.store.transaction import Transaction
    from tenancy.common.clients import client
    from tenancy.common.timestamps import now_iso

    tenant = seed_tenant(world, admin=True)
    admin = app_context(tenant)
    store = TenantStore(
        client("dynamodb"), world.settings.app_table_name, tenant, Actor(admin["userId"], "bench")
    )
    now = now_iso()

    def user(user_id: str) -> str:
        item = {
            "userId": user_id,
            "email": f"{user_id}@bench.example",
            "role": "member",
            "version": 1,
            "createdAt": now,
            "updatedAt": now,
        }
        store.commit(Transaction().put(keys.item_sk(keys.USER, user_id), item), None)
        return user_id

    groups = [str(uuid.uuid4()) for _ in range(max(levels))]
    for number, group_id in enumerate(groups):
        name = f"bench group {number}"
        item = {
            "groupId": group_id,
            "name": name,
            "description": "",
            "memberCount": 0,
            "version": 1,
            "createdAt": now,
            "updatedAt": now,
        }
        tx = Transaction().put(keys.item_sk(keys.GROUP, group_id), item)
        tx.put(keys.group_name_sk(name), {"ownerId": group_id})
        store.commit(tx, None)

    rows: list[dict[str, Any]] = []
    for level in levels:
        caller = user(f"caller-{level}-{uuid.uuid4().hex[:8]}")
        mine = groups[: min(level, MAX_GROUPS_PER_USER)]
        for group_id in mine:
            store.commit(graph.add_member_writes(Transaction(), group_id, caller, now, admin["userId"]), None)
        created = runtime.invoke(
            "app_api",
            api_event(
                "POST", "/dashboards", "/dashboards", body={"name": f"level {level}"}, authorizer=admin
            ),
        ).result
        assert created["statusCode"] == 201, created
        dashboard_id = str(json.loads(created["body"])["data"]["dashboardId"])
        users_shared = level // 10
        targets = [(TargetType.GROUP, g) for g in mine[: level - users_shared]]
        targets += [
            (TargetType.USER, user(f"other-{level}-{n}-{uuid.uuid4().hex[:6]}")) for n in range(users_shared)
        ]
        targets.append((TargetType.USER, caller))
        for number, (target_type, target_id) in enumerate(targets):
            permission = (
                Permission.EDITOR if number == 0 and target_type is TargetType.GROUP else Permission.VIEWER
            )
            tx = Transaction()
            graph.add_share_writes(tx, dashboard_id, admin["userId"], target_type, target_id, permission, now)
            store.commit(tx, None)
        rows.append(
            {
                "level": level,
                "caller": caller,
                "dashboard_id": dashboard_id,
                "groups_of_caller": len(mine),
                "shares": len(targets) - 1,  # the level's shares, beside the caller's own
                "group_shares": len(targets) - 1 - users_shared,
                "user_shares": users_shared,
            }
        )
    return {
        "tenant": tenant,
        "levels": rows,
        "groups": len(groups),
        "partition_items": _items_in(world, tenant),
    }


def _items_in(world: World, tenant_id: str) -> int:
    """How many items the tenant's partition holds (the audit items of the seeding routes included)."""
    from tenancy.common.clients import client

    pages = (
        client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=world.settings.app_table_name,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
            Select="COUNT",
        )
    )
    return sum(int(page["Count"]) for page in pages)


def bare_resolution(world: World, tenant_id: str, dashboard_id: str, caller: str) -> Callable[[], Any]:
    """The baseline: the resolution's two calls in bare boto3 (a consistent Query of the caller's
    memberships, one consistent BatchGetItem of the dashboard and the caller's shares), what the
    emulator's round trips cost at this level whoever makes them."""
    from tenancy.common.clients import client

    dynamodb = client("dynamodb")
    table = world.settings.app_table_name
    pk = {"S": f"TENANT#{tenant_id}"}

    def key(sk: str) -> dict[str, Any]:
        return {"PK": pk, "SK": {"S": sk}}

    def resolve() -> Any:
        prefix = f"MEMBEROF#{caller}#"
        found = dynamodb.query(
            TableName=table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": pk, ":prefix": {"S": prefix}},
            ConsistentRead=True,
            Limit=98,
        )["Items"]
        groups = [item["SK"]["S"].removeprefix(prefix) for item in found]
        sks = [f"DASHBOARD#{dashboard_id}", f"SHARE#{dashboard_id}#user#{caller}"]
        sks += [f"SHARE#{dashboard_id}#group#{group}" for group in groups]
        return dynamodb.batch_get_item(
            RequestItems={table: {"Keys": [key(sk) for sk in sks], "ConsistentRead": True}}
        )

    return resolve


def measure(
    seeded: dict[str, Any], counts: Counts, counter: CallCounter, runtime: Any, world: World
) -> dict[str, Any]:
    tenant = seeded["tenant"]
    requests = {
        row["level"]: (
            lambda r=row: dashboard_request(r["dashboard_id"], member_context(tenant, r["caller"]))
        )
        for row in seeded["levels"]
    }
    bare = {
        row["level"]: bare_resolution(world, tenant, row["dashboard_id"], row["caller"])
        for row in seeded["levels"]
    }

    def get(level: int) -> dict[str, Any]:
        result: dict[str, Any] = runtime.invoke("app_api", requests[level]()).result
        assert result["statusCode"] == 200, result
        return result

    answers: dict[int, dict[str, Any]] = {}
    calls: dict[int, Counter[str]] = {}
    bare_calls: dict[int, Counter[str]] = {}
    for level in requests:
        get(level)  # warm: the function, the tenant's credentials
        bare[level]()
        answers[level] = json.loads(get(level)["body"])["data"]
        calls[level] = counter.measure(lambda lv=level: get(lv))  # type: ignore[misc]
        bare_calls[level] = counter.measure(bare[level])
    times: dict[int, list[float]] = {level: [] for level in requests}
    cpu: dict[int, list[float]] = {level: [] for level in requests}
    baseline: dict[int, list[float]] = {level: [] for level in requests}
    for _ in range(counts.warm_requests):
        for level in requests:
            started, started_cpu = time.perf_counter(), time.thread_time()
            get(level)
            times[level].append((time.perf_counter() - started) * 1000)
            # This thread's CPU: the function's own work (Tenancy, Powertools, botocore's requests
            # and parsing), not the emulator's, which answers in threads of its own.
            cpu[level].append((time.thread_time() - started_cpu) * 1000)
            started = time.perf_counter()
            bare[level]()
            baseline[level].append((time.perf_counter() - started) * 1000)
    rows = []
    for row in seeded["levels"]:
        level = row["level"]
        rows.append(
            {
                "shares_and_groups": level,
                "groups_of_caller": row["groups_of_caller"],
                "group_shares": row["group_shares"],
                "user_shares": row["user_shares"],
                "my_permission": answers[level].get("myPermission"),
                "p50_ms": round(median(times[level]), 2),
                "p95_ms": round(percentile(times[level], 95), 2),
                "p99_ms": round(percentile(times[level], 99), 2),
                "cpu_p50_ms": round(median(cpu[level]), 2),
                "bare_resolution_p50_ms": round(median(baseline[level]), 2),
                "over_bare_p50_ms": round(median(times[level]) - median(baseline[level]), 2),
                "aws_calls": dict(sorted(calls[level].items())),
                "bare_resolution_calls": dict(sorted(bare_calls[level].items())),
            }
        )
    return {
        "requests": counts.warm_requests,
        "groups_in_tenant": seeded["groups"],
        "levels": rows,
        **verdict(rows),
    }


def verdict(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Flat: the largest level's p50 ≤ BUDGET x the smallest's (as reported, 2 decimals), and the
    same AWS calls at every level. Beside it, unbudgeted: the same ratio for the function's own CPU
    and for the bare resolution's two calls (the emulator's share of the growth)."""
    first, last = rows[0], rows[-1]
    ratio = round(last["p50_ms"] / first["p50_ms"], 2)
    same_calls = all(row["aws_calls"] == first["aws_calls"] for row in rows)
    return {
        "ratio_p50": ratio,
        "ratio_cpu_p50": round(last["cpu_p50_ms"] / first["cpu_p50_ms"], 2),
        "ratio_bare_resolution_p50": round(
            last["bare_resolution_p50_ms"] / first["bare_resolution_p50_ms"], 2
        ),
        "budget": BUDGET,
        "p50_ok": ratio <= BUDGET,
        "same_calls": same_calls,
        "calls_per_request": first["aws_calls"] if same_calls else None,
        "within_budget": ratio <= BUDGET and same_calls,
    }


def workspace_table(section: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The table `make bench` prints."""
    title = (
        f"GET /dashboards/{{id}} as a non-owner with 0/10/100 shares and groups, {section['requests']} "
        f"requests each (budget: p50 ≤ {section['budget']}x from 0 to 100 and the same AWS calls): "
        f"x{section['ratio_p50']} ({'within' if section['p50_ok'] else 'over'}), calls "
        f"{'the same' if section['same_calls'] else '**differ**'}; the function's own CPU x{section['ratio_cpu_p50']}, "
        f"the bare resolution's two calls x{section['ratio_bare_resolution_p50']}"
    )
    return title, section["levels"]
