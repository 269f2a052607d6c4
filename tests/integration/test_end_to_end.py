"""In-process, end to end: POST /tenants -> stream -> provisioner -> completion, then offboarding.

Every hop runs the real handler against moto; events travel through the bus's own rule matching.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from localcloud.runtime import ROOT
from tenancy.application.access.routing import RouteStore
from tenancy.common.names import DISCOVERY_PARAMETERS
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud


def status(api: ApiClient, tenant_id: str) -> str:
    return str(api.get(f"/tenants/{tenant_id}").data["provisioningStatus"])


def parameters(tenant_id: str) -> dict[str, str]:
    base = f"/tenancy/test/tenants/{tenant_id}/"
    params = boto3.client("ssm").get_parameters_by_path(Path=base, Recursive=True)["Parameters"]
    return {p["Name"][len(base) :]: p["Value"] for p in params}


def route(tenant_id: str) -> dict[str, str]:
    """The tenant's route (the discovery parameters beside it outlive it: test_tenant_updates.py)."""
    return {k: v for k, v in parameters(tenant_id).items() if k not in DISCOVERY_PARAMETERS}


def objects(bucket: str, prefix: str) -> list[str]:
    return [
        o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    ]


def onboard(api: ApiClient, cloud: Cloud, slug: str, tier: str) -> dict[str, Any]:
    created = api.post(
        "/tenants", {"name": slug.title(), "slug": slug, "tier": tier, "adminEmail": f"ops@{slug}.example"}
    )
    assert created.status == 201
    assert created.data["provisioningStatus"] == "PENDING"
    return created.data  # type: ignore[no-any-return]


def test_free_and_enterprise_tenants_from_registration_to_tombstone(api: ApiClient, cloud: Cloud) -> None:
    free = onboard(api, cloud, "free-co", "FREE")
    ent = onboard(api, cloud, "big-co", "ENTERPRISE")

    # stream -> PROVISIONING + TenantOnboarding
    cloud.pump_stream()
    assert status(api, free["tenantId"]) == status(api, ent["tenantId"]) == "PROVISIONING"
    assert sorted(e["detail"]["tier"] for e in cloud.bus_events("TenantOnboarding")) == ["ENTERPRISE", "FREE"]

    # provisioner -> resources + route + TenantProvisioned
    cloud.pump_events("tenant_provisioner")
    prefix = f"tenants/{free['tenantId']}/"
    assert objects(cloud.settings.tenant_bucket_name, prefix) == [prefix + ".tenant.json"]
    assert route(free["tenantId"])["isolation"] == "pool"
    ent_route = route(ent["tenantId"])
    assert ent_route["isolation"] == "silo"
    stack = f"tenancy-test-tenant-{ent['tenantId']}"
    [described] = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    assert ent_route["dynamodb/table-name"] in boto3.client("dynamodb").list_tables()["TableNames"]
    assert status(api, free["tenantId"]) == "PROVISIONING"  # until the result is applied

    # completion -> PROVISIONED with resources
    cloud.pump_events("provisioning_completion")
    free_now = api.get(f"/tenants/{free['tenantId']}").data
    ent_now = api.get(f"/tenants/{ent['tenantId']}").data
    assert free_now["provisioningStatus"] == ent_now["provisioningStatus"] == "PROVISIONED"
    assert free_now["resources"] == {"s3Prefix": prefix, "dedicatedBucket": None, "dedicatedTable": None}
    assert ent_now["resources"]["dedicatedBucket"] == ent_route["s3/bucket"]
    assert ent_now["resources"]["dedicatedTable"] == ent_route["dynamodb/table-name"]
    cloud.drain()  # nothing else is pending
    assert [e["detail-type"] for e in cloud.bus_events()].count("TenantProvisioned") == 2

    # offboarding both
    assert api.delete(f"/tenants/{free['tenantId']}").status == 202
    assert api.delete(f"/tenants/{ent['tenantId']}").status == 202
    cloud.pump_stream()
    assert status(api, free["tenantId"]) == status(api, ent["tenantId"]) == "DEPROVISIONING"
    cloud.pump_events("tenant_provisioner")
    assert objects(cloud.settings.tenant_bucket_name, prefix) == []
    assert route(free["tenantId"]) == route(ent["tenantId"]) == {}
    assert ent_route["dynamodb/table-name"] not in boto3.client("dynamodb").list_tables()["TableNames"]
    assert ent_route["s3/bucket"] not in [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]
    cloud.pump_events("provisioning_completion")
    assert status(api, free["tenantId"]) == status(api, ent["tenantId"]) == "DEPROVISIONED"
    cloud.drain()
    assert parameters(free["tenantId"])["provisioning-status"] == "DEPROVISIONED"
    assert parameters(ent["tenantId"])["provisioning-status"] == "DEPROVISIONED"
    assert cloud.dead_letters("tenant_provisioner") == []
    assert cloud.dead_letters("provisioning_completion") == []
    assert cloud.dead_letters("tenant_updates") == []


def test_a_provisioning_failure_ends_in_failed_and_retry_recovers(
    api: ApiClient, cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = onboard(api, cloud, "flaky-co", "PRO")
    original = RouteStore.put

    def ssm_throttled(self: RouteStore, tenant_id: str, route: Any) -> None:
        raise RuntimeError("ssm:PutParameter throttled")

    monkeypatch.setattr(RouteStore, "put", ssm_throttled)
    cloud.drain()
    failed = api.get(f"/tenants/{tenant['tenantId']}").data
    assert failed["provisioningStatus"] == "FAILED"
    assert failed["error"] == "RuntimeError: ssm:PutParameter throttled"

    monkeypatch.setattr(RouteStore, "put", original)
    assert api.post(f"/tenants/{tenant['tenantId']}/retry").status == 202
    cloud.drain()
    recovered = api.get(f"/tenants/{tenant['tenantId']}").data
    assert recovered["provisioningStatus"] == "PROVISIONED"
    assert recovered["error"] is None
    assert route(tenant["tenantId"])["isolation"] == "pool"


def test_duplicate_deliveries_everywhere_change_nothing(api: ApiClient, cloud: Cloud) -> None:
    tenant = onboard(api, cloud, "dup-co", "FREE")
    cloud.drain()
    settled = api.get(f"/tenants/{tenant['tenantId']}").data
    # replay every event the bus carried, to every function that consumes it
    consumers = {
        "TenantOnboarding": "tenant_provisioner",
        "TenantOffboarding": "tenant_provisioner",
        "TenantProvisioned": "provisioning_completion",
        "TenantDeprovisioned": "provisioning_completion",
        "TenantUpdated": "tenant_updates",
    }
    for event in cloud.bus_events():
        consumer = consumers[event["detail-type"]]
        if not (ROOT / "functions" / consumer / "handler.py").exists():
            continue  # a consumer of this event not built yet
        assert cloud.runtime.invoke(consumer, event).error is None
    cloud.drain()
    assert api.get(f"/tenants/{tenant['tenantId']}").data == settled
