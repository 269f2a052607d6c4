from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from localcloud.tokens import issue_token
from tenancy.control.models import Status
from tenancy.control.store import ControlStore
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


# --- the application plane ---------------------------------------------------------------------


@pytest.fixture
def onboard(cloud: Cloud, api: ApiClient) -> Callable[[str, str], dict[str, Any]]:
    def run(slug: str, tier: str = "PRO") -> dict[str, Any]:
        created = api.post(
            "/tenants", {"name": slug, "slug": slug, "tier": tier, "adminEmail": f"admin@{slug}.example"}
        )
        assert created.status == 201
        cloud.drain()
        tenant = api.get(f"/tenants/{created.data['tenantId']}").data
        assert tenant["provisioningStatus"] == "PROVISIONED", tenant
        return tenant  # type: ignore[no-any-return]

    return run


def token_for(cloud: Cloud, email: str) -> str:
    settings = cloud.settings
    return issue_token(
        boto3.client("cognito-idp"), settings.user_pool_id, settings.user_pool_client_id, email
    )


@pytest.fixture
def app(cloud: Cloud) -> ApiClient:
    return ApiClient(cloud.runtime, "app_api")


def admin_of(cloud: Cloud, app: ApiClient, slug: str) -> ApiClient:
    return app.as_user(token_for(cloud, f"admin@{slug}.example"))
