"""Control-plane operations on tenants; the API handler calls these and nothing else."""

from __future__ import annotations

import uuid

from tenancy.common.dynamo import Page
from tenancy.common.timestamps import now_iso
from tenancy.contracts.tiers import Tier, isolation_for
from tenancy.control.models import CreateTenantRequest, Status, Tenant
from tenancy.control.store import ControlStore


def register(store: ControlStore, request: CreateTenantRequest) -> Tenant:
    """A new tenant in PENDING; the control-table stream takes it from there."""
    now = now_iso()
    tenant = Tenant(
        tenant_id=str(uuid.uuid4()),
        name=request.name,
        slug=request.slug,
        tier=request.tier,
        isolation=isolation_for(request.tier),
        admin_email=request.admin_email,
        status=Status.PENDING,
        version=1,
        created_at=now,
        updated_at=now,
    )
    return store.create(tenant)


def offboard(store: ControlStore, tenant_id: str) -> Tenant:
    return store.transition(tenant_id, Status.OFFBOARDING)


def retry(store: ControlStore, tenant_id: str) -> Tenant:
    """FAILED -> PENDING: onboarding runs again (the provisioner is idempotent)."""
    return store.transition(tenant_id, Status.PENDING, remove_fields=["error"])


def list_tenants(
    store: ControlStore, status: Status | None, tier: Tier | None, limit: int, cursor: str | None
) -> Page[Tenant]:
    return store.list_tenants(status=status, tier=tier, limit=limit, cursor=cursor)


def get_tenant(store: ControlStore, tenant_id: str) -> Tenant:
    return store.get(tenant_id)
