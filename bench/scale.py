"""4. Cost with the number of tenants: one tenant's reads and creates with few and many tenants."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.common import Counts, median
from bench.world import World, api_event, app_context, seed_agent, seed_tenant


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
