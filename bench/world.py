"""The AWS-compatible server (moto, in-process), the seeded world and the events the benchmarks send."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

from bench.common import ROOT
from localcloud.launch import free_port


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
        from tenancy.application.users.repository import Users
        from tenancy.application.users.service import add_user

        add_user(
            Users(tenant_store),
            UserDirectory(boto3.client("cognito-idp"), settings.user_pool_id),
            f"admin-{tenant_id}",
            f"admin@{slug}.example",
            "admin",
        )
    world.tenants.append(tenant_id)
    return tenant_id


def seed_agent(world: World, tenant_id: str, name: str = "agent") -> str:
    from tenancy.application.store import kinds
    from tenancy.application.store.engine import Actor, Change, TenantStore
    from tenancy.common.clients import client

    agent_id = str(uuid.uuid4())
    TenantStore(client("dynamodb"), world.settings.app_table_name, tenant_id, Actor("bench", "bench")).create(
        kinds.AGENT, agent_id, {"agentId": agent_id, "name": name}, Change("agent.create", agent_id)
    )
    return agent_id


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / name).read_text())
    return event


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
    """An admin of a PRO tenant whose agent limit the warm benchmark's creates never reach, nor its
    back-to-back requests the API rate (each request is still counted: one UpdateItem)."""
    from tenancy.contracts.plans import LimitValues, Overrides, StagePlans, effective_config
    from tenancy.contracts.tiers import Tier

    unlimited = 1_000_000_000
    limits = LimitValues(
        agents=1_000_000, apiRequestsPerSecond=unlimited, apiBurst=unlimited, apiRequestsPerDay=unlimited
    )
    config = effective_config(Tier.PRO, Overrides(limits=limits), StagePlans())
    return {
        "tenantId": tenant_id,
        "userId": f"admin-{tenant_id}",
        "role": "admin",
        "tier": "PRO",
        "config": config.compact(),
        "principalId": "bench",
    }
