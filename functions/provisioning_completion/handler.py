"""TenantProvisioned / TenantDeprovisioned -> tenant status."""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event  # noqa: F401 (first: pauses the GC)

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.common.clients import client
from tenancy.common.config import get_settings
from tenancy.common.entry import lambda_entry
from tenancy.common.names import PROVISIONED
from tenancy.common.observability import bind_tenant
from tenancy.contracts.envelopes import TenantDeprovisionedEvent, TenantProvisionedEvent
from tenancy.control.completion import apply_deprovisioned, apply_provisioned
from tenancy.control.store import ControlStore


@lambda_entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store = ControlStore(client("dynamodb"), get_settings().control_table_name)
    if event.get("detail-type") == PROVISIONED:
        provisioned = TenantProvisionedEvent.model_validate(event)
        bind_tenant(provisioned.detail.tenant_id)
        tenant = apply_provisioned(store, provisioned.detail)
    else:
        deprovisioned = TenantDeprovisionedEvent.model_validate(event)
        bind_tenant(deprovisioned.detail.tenant_id)
        tenant = apply_deprovisioned(store, deprovisioned.detail)
    return {"tenantId": event["detail"].get("tenantId"), "status": tenant.status if tenant else "UNCHANGED"}
