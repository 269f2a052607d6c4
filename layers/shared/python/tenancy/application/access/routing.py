"""A tenant's route: where its data lives (pool or silo), kept in SSM Parameter Store under
`/<app>/<stage>/tenants/<tenantId>/` — written by the provisioner, read by the application plane."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from tenancy.common.errors import NotFoundError
from tenancy.common.keys import checked_id
from tenancy.common.names import route_path
from tenancy.contracts.tiers import Isolation

ISOLATION = "isolation"
TABLE_NAME = "dynamodb/table-name"
BUCKET = "s3/bucket"
PREFIX = "s3/prefix"


@dataclass(frozen=True)
class Route:
    """Pool and silo tenants alike keep their objects under `tenants/<tenantId>/` of their bucket,
    so application code is the same for both."""

    isolation: Isolation
    table_name: str
    bucket: str
    prefix: str

    def parameters(self) -> dict[str, str]:
        return {
            ISOLATION: str(self.isolation),
            TABLE_NAME: self.table_name,
            BUCKET: self.bucket,
            PREFIX: self.prefix,
        }


class RouteStore:
    def __init__(self, ssm: Any, app_name: str, stage: str) -> None:
        self._ssm = ssm
        self._app = app_name
        self._stage = stage

    def path(self, tenant_id: str) -> str:
        return route_path(self._app, self._stage, checked_id(tenant_id, "tenantId"))

    def put(self, tenant_id: str, route: Route) -> None:
        base = self.path(tenant_id)
        for name, value in route.parameters().items():
            self._ssm.put_parameter(Name=base + name, Value=value, Type="String", Overwrite=True)

    def get(self, tenant_id: str) -> Route | None:
        base = self.path(tenant_id)
        found: dict[str, str] = {}
        paginator = self._ssm.get_paginator("get_parameters_by_path")
        for page in paginator.paginate(Path=base, Recursive=True):
            for parameter in page["Parameters"]:
                found[parameter["Name"][len(base) :]] = parameter["Value"]
        if ISOLATION not in found:
            return None
        return Route(
            isolation=Isolation(found[ISOLATION]),
            table_name=found.get(TABLE_NAME, ""),
            bucket=found.get(BUCKET, ""),
            prefix=found.get(PREFIX, ""),
        )

    def delete(self, tenant_id: str) -> None:
        base = self.path(tenant_id)
        self._ssm.delete_parameters(Names=[base + name for name in (ISOLATION, TABLE_NAME, BUCKET, PREFIX)])


class Router:
    """Resolves a tenant to its route with a small in-memory TTL cache (per execution environment)."""

    def __init__(self, routes: RouteStore, ttl_seconds: float) -> None:
        self._routes = routes
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, Route]] = {}
        self._lock = threading.Lock()

    def resolve(self, tenant_id: str) -> Route:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(tenant_id)
        if cached and cached[0] > now:
            return cached[1]
        route = self._routes.get(tenant_id)
        if route is None:
            raise NotFoundError(f"tenant {tenant_id} has no route: it is not provisioned")
        with self._lock:
            self._cache[tenant_id] = (now + self._ttl, route)
        return route
