"""Control-table stream -> TenantUpdated and lifecycle requests (the `provisioning` function's logic).

Every change of a tenant's name, tier, overrides or status is published as TenantUpdated (from the
record's new image, with the fields that changed and the version it made), so no change is lost
whatever path wrote it.

A tenant entering PENDING is moved to PROVISIONING under a new operation id, then TenantOnboarding
is published; OFFBOARDING -> DEPROVISIONING and TenantOffboarding likewise. The transition comes
first, so a result can never reach a tenant that is not yet waiting for it. A retried record that
finds the tenant already in the target status publishes again (consumers are idempotent), so an
event is never lost between the two steps.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from tenancy.common.errors import IllegalTransitionError, NotFoundError
from tenancy.common.keys import TENANT_ENTITY
from tenancy.common.names import OFFBOARDING, ONBOARDING, UPDATED
from tenancy.common.observability import count, logger
from tenancy.common.timestamps import now_iso
from tenancy.contracts.events import TenantLifecycleDetail, TenantUpdatedDetail
from tenancy.contracts.plans import Overrides
from tenancy.contracts.publisher import Event, EventPublisher
from tenancy.contracts.tiers import Isolation, Tier
from tenancy.control import keys
from tenancy.control.models import Status, Tenant
from tenancy.control.store import ControlStore

# status entered -> (status to move to, event to publish)
REQUESTS: dict[Status, tuple[Status, str]] = {
    Status.PENDING: (Status.PROVISIONING, ONBOARDING),
    Status.OFFBOARDING: (Status.DEPROVISIONING, OFFBOARDING),
}


def entered_status(
    event_name: str | None, new_image: dict[str, Any] | None, old_image: dict[str, Any] | None
) -> Status | None:
    """The status a tenant item entered with this change, or None (not a tenant, or no change)."""
    if event_name not in ("INSERT", "MODIFY") or not new_image:
        return None
    if new_image.get("SK") != keys.METADATA or new_image.get("entity") != TENANT_ENTITY:
        return None
    new_status = new_image.get("provisioningStatus")
    if new_status == (old_image or {}).get("provisioningStatus"):
        return None
    return Status(str(new_status)) if new_status in Status.__members__ else None


# tenant item attribute -> the name TenantUpdated gives the change
TRACKED = {
    "name": "name",
    "tier": "tier",
    "isolation": "isolation",
    "overrides": "overrides",
    "provisioningStatus": "status",
    "error": "error",
}


def changed_fields(
    event_name: str | None, new_image: dict[str, Any] | None, old_image: dict[str, Any] | None
) -> list[str]:
    """What a change of a tenant item changed among the fields TenantUpdated reports."""
    if event_name != "MODIFY" or not new_image or not old_image:
        return []
    if new_image.get("SK") != keys.METADATA or new_image.get("entity") != TENANT_ENTITY:
        return []
    return [
        public
        for attribute, public in TRACKED.items()
        if new_image.get(attribute) != old_image.get(attribute)
    ]


def handle_change(
    store: ControlStore,
    publisher: EventPublisher,
    event_name: str | None,
    new_image: dict[str, Any] | None,
    old_image: dict[str, Any] | None,
) -> list[str]:
    """Act on one stream record: publish TenantUpdated for a change of a tracked field, then start
    the lifecycle operation a status it entered needs. Returns the detail-types published."""
    published: list[str] = []
    changed = changed_fields(event_name, new_image, old_image)
    if changed and new_image is not None:
        detail = updated_detail(new_image, changed)
        publisher.publish([Event(UPDATED, detail)])
        count(UPDATED, detail.tenant_id)
        published.append(UPDATED)
    status = entered_status(event_name, new_image, old_image)
    if status in REQUESTS and new_image is not None:
        requested = request_lifecycle(store, publisher, str(new_image["tenantId"]), status)
        if requested:
            published.append(requested)
    return published


def updated_detail(image: dict[str, Any], changed: list[str]) -> TenantUpdatedDetail:
    """TenantUpdated from the item as this change left it (each record is one version)."""
    plain = _plain(image)
    return TenantUpdatedDetail(
        tenant_id=str(plain["tenantId"]),
        timestamp=str(plain.get("updatedAt") or now_iso()),
        operation_id=plain.get("operationId"),
        changed_fields=changed,
        version=int(plain["version"]),
        tenant_name=str(plain["name"]),
        tier=Tier(plain["tier"]),
        isolation=Isolation(plain["isolation"]),
        status=str(plain["provisioningStatus"]),
        overrides=Overrides.from_stored(plain.get("overrides")).stored(),
        error=plain.get("error"),
    )


def _plain(value: Any) -> Any:
    """A stream image's values as JSON would hold them (numbers arrive as Decimal)."""
    if isinstance(value, dict):
        return {key: _plain(member) for key, member in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(member) for member in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def request_lifecycle(
    store: ControlStore, publisher: EventPublisher, tenant_id: str, entered: Status
) -> str | None:
    """Start the operation a tenant that entered `entered` needs; returns the detail-type published."""
    target, detail_type = REQUESTS[entered]
    try:
        tenant = store.transition(tenant_id, target, set_fields={"operationId": str(uuid.uuid4())})
    except NotFoundError:  # tenants are never deleted; a retry cannot help such a record
        logger.warning("stream record for an unknown tenant skipped", tenant_id=tenant_id)
        return None
    except IllegalTransitionError as refused:
        if refused.current != target:
            logger.info("stale change skipped", tenant_id=tenant_id, entered=entered, current=refused.current)
            return None
        tenant = store.get(tenant_id)  # a retry after the transition: publish again
    publisher.publish([Event(detail_type, lifecycle_detail(tenant))])
    logger.info(
        "lifecycle request published", tenant_id=tenant_id, detail_type=detail_type, status=tenant.status
    )
    count(detail_type, tenant_id)
    return detail_type


def lifecycle_detail(tenant: Tenant) -> TenantLifecycleDetail:
    return TenantLifecycleDetail(
        tenant_id=tenant.tenant_id,
        tenant_name=tenant.name,
        tier=tenant.tier,
        slug=tenant.slug,
        admin_email=tenant.admin_email,
        timestamp=now_iso(),
        operation_id=tenant.operation_id,
    )
