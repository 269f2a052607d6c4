"""The tenants routes of the control API (IAM-authorized): register, read, update (name, tier),
offboard, retry, and the tenant's configuration (effective limits and flags, overrides).

Every route calls one operation of `tenancy.control.tenants`, given the control store through
Powertools' dependency injection.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from tenancy.common import http
from tenancy.common.clients import client
from tenancy.common.config import get_settings
from tenancy.common.dynamo import Page
from tenancy.common.http import Cursor, Limit, PathId
from tenancy.common.idempotency import HEADER, KEY_PATTERN, Answer, answer_once
from tenancy.common.keys import checked_id
from tenancy.common.observability import bind_tenant, count
from tenancy.contracts.tiers import Tier
from tenancy.control import configuration, tenants
from tenancy.control.models import (
    CreateTenantRequest,
    PatchConfigRequest,
    ReplaceConfigRequest,
    Status,
    Tenant,
    UpdateTenantRequest,
)
from tenancy.control.store import ControlStore

router = http.router()
LINKS = ("getTenant", "updateTenant", "offboardTenant", "retryTenant", "getTenantConfig")
OFFBOARDING = (
    "Starts offboarding (202, `OFFBOARDING`). The tenant is not deleted: it stays readable as a "
    "tombstone while its resources are removed, and afterwards as `DEPROVISIONED`, so a `GET` after "
    "this `DELETE` answers 200, by design; its slug is released for reuse."
)


def control_store() -> ControlStore:
    return ControlStore(client("dynamodb"), get_settings().control_table_name)


def principal(request: Request) -> str:
    """Who is calling (the IAM principal): idempotency keys are scoped to it."""
    event = request.resolved_event
    assert isinstance(event, APIGatewayProxyEvent)  # the control API is a REST API
    identity = event.request_context.identity
    return str(identity.user_arn or identity.access_key or identity.caller or "anonymous")


Store = Annotated[ControlStore, Depends(control_store)]
Principal = Annotated[str, Depends(principal)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        pattern=KEY_PATTERN,
        description="Retry-safe creation: the same key and body return the first answer again "
        "(with `Idempotent-Replayed: true`) for 24 hours; the same key with another body is a 409.",
    ),
]


def view(tenant: Tenant) -> dict[str, Any]:
    return tenant.model_dump(by_alias=True, mode="json")


def _bound(tenant_id: str) -> str:
    bind_tenant(checked_id(tenant_id, "tenantId"))
    return tenant_id


@router.post(
    "/tenants",
    operation_id="createTenant",
    responses=http.with_headers(
        http.responses(201, "Tenant", errors=[409], body=True, links={"tenantId": LINKS}),
        201,
        {"Idempotent-Replayed": "`true` when this is the first answer to the same `Idempotency-Key`, again"},
    ),
)
def create_tenant(
    body: CreateTenantRequest, store: Store, caller: Principal, idempotency_key: IdempotencyKey = None
) -> Response[str]:
    def register() -> dict[str, Any]:
        tenant = tenants.register(store, body)
        bind_tenant(tenant.tenant_id)
        count("TenantRegistered", tenant.tenant_id)
        return view(tenant)

    if idempotency_key is None:
        return http.ok(register(), status=201)
    settings = get_settings()
    answer = answer_once(
        scope=caller,
        key=idempotency_key,
        body=body.model_dump(mode="json", by_alias=True),
        produce=lambda: Answer(201, register()),
        table_name=settings.idempotency_table_name,
        client=client("dynamodb"),
        expires_after_seconds=settings.idempotency_expiry_seconds,
        lambda_context=router.lambda_context,
    )
    response = http.ok(answer.data, status=answer.status)
    if answer.replayed:
        bind_tenant(str(answer.data.get("tenantId", "")))
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.get(
    "/tenants", operation_id="listTenants", responses=http.responses(200, "Tenant", errors=[400], page=True)
)
def list_tenants(
    store: Store,
    status: Annotated[Status | None, Query()] = None,
    tier: Annotated[Tier | None, Query()] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response[str]:
    found = tenants.list_tenants(store, status, tier, limit, cursor)
    return http.page(Page([view(t) for t in found.items], found.next_cursor), limit=limit)


@router.get(
    "/tenants/<tenantId>", operation_id="getTenant", responses=http.responses(200, "Tenant", errors=[404])
)
def get_tenant(tenantId: PathId, store: Store) -> Response[str]:
    return http.ok(view(tenants.get_tenant(store, _bound(tenantId))))


@router.patch(
    "/tenants/<tenantId>",
    operation_id="updateTenant",
    description="Rename the tenant, change its plan (`tier`), or both. A tier across the pool/silo line "
    "(to or from ENTERPRISE) is refused with 409 `ISOLATION_CHANGE_UNSUPPORTED`, and nothing is written.",
    responses=http.responses(200, "Tenant", errors=[404, 409], body=True),
)
def update_tenant(tenantId: PathId, body: UpdateTenantRequest, store: Store) -> Response[str]:
    return http.ok(view(configuration.update_tenant(store, _bound(tenantId), body)))


@router.get(
    "/tenants/<tenantId>/config",
    operation_id="getTenantConfig",
    description="The tenant's effective limits and flags, each with where it came from "
    "(`plan`, `stage` or `tenant`), and its own overrides.",
    responses=http.responses(200, "TenantConfig", errors=[404]),
)
def get_tenant_config(tenantId: PathId, store: Store) -> Response[str]:
    return http.ok(configuration.config_view(configuration.get_config(store, _bound(tenantId))))


@router.put(
    "/tenants/<tenantId>/config",
    operation_id="replaceTenantConfig",
    description="Replace the tenant's overrides (optimistic locking on the tenant's `version`).",
    responses=http.responses(200, "TenantConfig", errors=[404, 409], body=True),
)
def replace_tenant_config(tenantId: PathId, body: ReplaceConfigRequest, store: Store) -> Response[str]:
    return http.ok(configuration.config_view(configuration.replace_config(store, _bound(tenantId), body)))


@router.patch(
    "/tenants/<tenantId>/config",
    operation_id="patchTenantConfig",
    description="Merge into the tenant's overrides: a value sets one, `null` removes one "
    "(optimistic locking on the tenant's `version`).",
    responses=http.responses(200, "TenantConfig", errors=[404, 409], body=True),
)
def patch_tenant_config(tenantId: PathId, body: PatchConfigRequest, store: Store) -> Response[str]:
    return http.ok(configuration.config_view(configuration.patch_config(store, _bound(tenantId), body)))


@router.delete(
    "/tenants/<tenantId>",
    operation_id="offboardTenant",
    description=OFFBOARDING,
    responses=http.responses(202, "Tenant", errors=[404, 409]),
)
def offboard_tenant(tenantId: PathId, store: Store) -> Response[str]:
    return http.ok(view(tenants.offboard(store, _bound(tenantId))), status=202)


@router.post(
    "/tenants/<tenantId>/retry",
    operation_id="retryTenant",
    responses=http.responses(202, "Tenant", errors=[404, 409]),
)
def retry_tenant(tenantId: PathId, store: Store) -> Response[str]:
    return http.ok(view(tenants.retry(store, _bound(tenantId))), status=202)
