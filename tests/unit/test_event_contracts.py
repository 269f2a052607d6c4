"""The event contracts, held as JSON: fields may be added, never renamed or removed."""

import json

import pytest
from pydantic import ValidationError

from tenancy.contracts.envelopes import TenantDeprovisionedEvent, TenantLifecycleEvent, TenantProvisionedEvent
from tenancy.contracts.events import (
    ProvisionedResources,
    ResultStatus,
    TenantDeprovisionedDetail,
    TenantLifecycleDetail,
    TenantProvisionedDetail,
    to_entry_detail,
)
from tenancy.contracts.tiers import Tier
from tests.helpers.cloud import sample_event

TS = "2026-11-25T10:00:00.000Z"


def test_onboarding_detail_json() -> None:
    detail = TenantLifecycleDetail(
        tenant_id="t1",
        tenant_name="Acme",
        tier=Tier.PRO,
        slug="acme",
        timestamp=TS,
        operation_id="op1",
        admin_email="admin@acme.example",
    )
    assert json.loads(to_entry_detail(detail)) == {
        "tenantId": "t1",
        "tenantName": "Acme",
        "tier": "PRO",
        "slug": "acme",
        "timestamp": TS,
        "operationId": "op1",
        "adminEmail": "admin@acme.example",
    }


def test_provisioned_detail_json_completed_and_failed() -> None:
    completed = TenantProvisionedDetail(
        tenant_id="t1",
        status=ResultStatus.COMPLETED,
        resources=ProvisionedResources(s3_prefix="tenants/t1/", dedicated_bucket="b", dedicated_table="t"),
        timestamp=TS,
    )
    assert json.loads(to_entry_detail(completed)) == {
        "tenantId": "t1",
        "status": "COMPLETED",
        "resources": {"s3Prefix": "tenants/t1/", "dedicatedBucket": "b", "dedicatedTable": "t"},
        "timestamp": TS,
    }
    failed = TenantProvisionedDetail(tenant_id="t1", status=ResultStatus.FAILED, error="boom", timestamp=TS)
    assert json.loads(to_entry_detail(failed)) == {
        "tenantId": "t1",
        "status": "FAILED",
        "resources": {},
        "timestamp": TS,
        "error": "boom",
    }


def test_deprovisioned_detail_json() -> None:
    detail = TenantDeprovisionedDetail(tenant_id="t1", status=ResultStatus.COMPLETED, timestamp=TS)
    assert json.loads(to_entry_detail(detail)) == {"tenantId": "t1", "status": "COMPLETED", "timestamp": TS}


def test_consumers_accept_added_fields_and_missing_optional_ones() -> None:
    detail = TenantLifecycleDetail.model_validate(
        {"tenantId": "t", "tenantName": "n", "tier": "FREE", "slug": "s", "timestamp": TS, "newField": 1}
    )
    assert detail.operation_id is None


@pytest.mark.parametrize(
    ("sample", "model", "detail_type"),
    [
        ("eventbridge-tenant-onboarding.json", TenantLifecycleEvent, "TenantOnboarding"),
        ("eventbridge-tenant-offboarding.json", TenantLifecycleEvent, "TenantOffboarding"),
        ("eventbridge-tenant-provisioned.json", TenantProvisionedEvent, "TenantProvisioned"),
        ("eventbridge-tenant-provisioned-failed.json", TenantProvisionedEvent, "TenantProvisioned"),
        ("eventbridge-tenant-deprovisioned.json", TenantDeprovisionedEvent, "TenantDeprovisioned"),
    ],
)
def test_sample_events_parse_with_the_consumer_models(sample: str, model: type, detail_type: str) -> None:
    parsed = model.model_validate(sample_event(sample))
    assert parsed.detail_type == detail_type
    assert parsed.detail.tenant_id


def test_wrong_detail_type_is_refused() -> None:
    event = sample_event("eventbridge-tenant-provisioned.json")
    with pytest.raises(ValidationError, match="detail-type"):
        TenantLifecycleEvent.model_validate(event)


def test_updated_detail_json() -> None:
    from tenancy.contracts.events import TenantUpdatedDetail
    from tenancy.contracts.tiers import Isolation

    detail = TenantUpdatedDetail(
        tenant_id="t1",
        timestamp=TS,
        changed_fields=["tier", "overrides"],
        version=7,
        tenant_name="Acme",
        tier=Tier.PRO,
        isolation=Isolation.POOL,
        status="PROVISIONED",
        overrides={"limits": {"users": 42}},
    )
    assert json.loads(to_entry_detail(detail)) == {
        "tenantId": "t1",
        "timestamp": TS,
        "changedFields": ["tier", "overrides"],
        "version": 7,
        "tenantName": "Acme",
        "tier": "PRO",
        "isolation": "pool",
        "status": "PROVISIONED",
        "overrides": {"limits": {"users": 42}},
    }
    failed = detail.model_copy(
        update={"status": "FAILED", "error": "boom", "changed_fields": ["status", "error"]}
    )
    assert json.loads(to_entry_detail(failed))["error"] == "boom"
