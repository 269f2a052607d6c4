from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from localcloud.tokens import issue_token
from tenancy.control.models import Status
from tenancy.control.store import ControlStore
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud, reset_process_caches


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


# --- one cloud for a whole module ---------------------------------------------------------------
# Onboarding a tenant takes seconds (its stack through moto's CloudFormation); a module whose tests
# only read, are refused, or write only what each makes for itself may share its tenants: these are
# `cloud`, `api`, `app` and `onboard` for a whole module. Such a module must show that no test's
# write can hide another's failure (each test checks what it must leave untouched, before and after).


@pytest.fixture(scope="module")
def module_cloud() -> Iterator[Cloud]:
    """A fresh moto account, as `cloud`, shared by every test of one module."""
    from moto import mock_aws

    from localcloud import moto_fixes
    from tests.helpers import fast_moto

    moto_fixes.apply()
    fast_moto.apply()
    with mock_aws(config=fast_moto.MOCK_CONFIG):
        reset_process_caches()
        yield Cloud.create()
    reset_process_caches()


@pytest.fixture(scope="module")
def module_api(module_cloud: Cloud) -> ApiClient:
    return ApiClient(module_cloud.runtime, "tenant_api")


@pytest.fixture(scope="module")
def module_app(module_cloud: Cloud) -> ApiClient:
    return ApiClient(module_cloud.runtime, "app_api")


@pytest.fixture(scope="module")
def module_onboard(module_cloud: Cloud, module_api: ApiClient) -> Callable[[str, str], dict[str, Any]]:
    """`onboard` on the module's cloud."""

    def run(slug: str, tier: str = "PRO") -> dict[str, Any]:
        return onboard_tenant(module_cloud, module_api, slug, tier)

    return run


def onboard_tenant(cloud: Cloud, api: ApiClient, slug: str, tier: str = "PRO") -> dict[str, Any]:
    """A tenant created through the tenant API and provisioned (the system drained): its view."""
    created = api.post(
        "/tenants", {"name": slug, "slug": slug, "tier": tier, "adminEmail": f"admin@{slug}.example"}
    )
    assert created.status == 201, created.body
    cloud.drain()
    tenant = api.get(f"/tenants/{created.data['tenantId']}").data
    assert tenant["provisioningStatus"] == "PROVISIONED", tenant
    return tenant  # type: ignore[no-any-return]
