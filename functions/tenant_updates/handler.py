"""TenantUpdated -> the tenant's SSM service discovery parameters (status, error, tier, config)."""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event  # noqa: F401 (first: pauses the GC)

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.application.discovery import TenantDiscovery
from tenancy.common.clients import LazyClient
from tenancy.common.config import get_settings
from tenancy.common.entry import lambda_entry
from tenancy.common.observability import bind_tenant
from tenancy.contracts.envelopes import TenantUpdatedEvent


@lru_cache(maxsize=1)
def discovery() -> TenantDiscovery:
    settings = get_settings()
    return TenantDiscovery(LazyClient("ssm"), settings.app_name, settings.stage)


@lambda_entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    update = TenantUpdatedEvent.model_validate(event)
    bind_tenant(update.detail.tenant_id)
    applied = discovery().apply(update.detail)
    return {
        "tenantId": applied.tenant_id,
        "version": applied.version,
        "stale": applied.stale,
        "settledVersion": applied.settled_version,
        "written": applied.written,
        "deleted": applied.deleted,
    }
