from __future__ import annotations

from typing import Any

import boto3
import pytest

from tenancy.models.domain import Status
from tenancy.store import ControlStore
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud


@pytest.fixture
def api(cloud: Cloud) -> ApiClient:
    return ApiClient(cloud.runtime, "tenant_api")


@pytest.fixture
def store(cloud: Cloud) -> ControlStore:
    return ControlStore(boto3.client("dynamodb"), cloud.settings.control_table_name)


def new_tenant(api: ApiClient, slug: str = "acme", tier: str = "FREE", **fields: Any) -> dict[str, Any]:
    body = {
        "name": f"{slug} inc",
        "slug": slug,
        "tier": tier,
        "adminEmail": f"admin@{slug}.example",
        **fields,
    }
    response = api.post("/tenants", body)
    assert response.status == 201, response.body
    return response.data  # type: ignore[no-any-return]


# The path through the state machine to each status (each step a legal transition).
PATHS: dict[Status, list[Status]] = {
    Status.PENDING: [],
    Status.PROVISIONING: [Status.PROVISIONING],
    Status.PROVISIONED: [Status.PROVISIONING, Status.PROVISIONED],
    Status.FAILED: [Status.PROVISIONING, Status.FAILED],
    Status.OFFBOARDING: [Status.PROVISIONING, Status.PROVISIONED, Status.OFFBOARDING],
    Status.DEPROVISIONING: [
        Status.PROVISIONING,
        Status.PROVISIONED,
        Status.OFFBOARDING,
        Status.DEPROVISIONING,
    ],
    Status.DEPROVISIONED: [
        Status.PROVISIONING,
        Status.PROVISIONED,
        Status.OFFBOARDING,
        Status.DEPROVISIONING,
        Status.DEPROVISIONED,
    ],
}


def force_status(store: ControlStore, tenant_id: str, status: Status) -> None:
    """Walk a tenant to `status` through legal transitions (no stream processing)."""
    for step in PATHS[status]:
        store.transition(tenant_id, step)
