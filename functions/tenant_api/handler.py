"""Control-plane REST API (IAM-authorized): register, read, rename, offboard and retry tenants."""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.common import http as api
from tenancy.common.clients import client
from tenancy.common.config import get_settings
from tenancy.common.idempotency import HEADER, KEY_PATTERN, Answer, answer_once
from tenancy.common.keys import checked_id
from tenancy.common.observability import bind_tenant, count, logger, metrics, tracer
from tenancy.contracts.tiers import Tier
from tenancy.control import tenants
from tenancy.control.models import CreateTenantRequest, Status, Tenant, UpdateTenantRequest
from tenancy.control.store import ControlStore

app = api.RestResolver(enable_validation=True)
api.install(app)

TenantId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@+-]+$")]
_BY_ID = ("getTenant", "updateTenant", "offboardTenant", "retryTenant")
OFFBOARDING = (
    "Starts offboarding (202, `OFFBOARDING`). The tenant is not deleted: it stays readable as a "
    "tombstone while its resources are removed, and afterwards as `DEPROVISIONED`, so a `GET` after "
    "this `DELETE` answers 200, by design; its slug is released for reuse."
)


def _store() -> ControlStore:
    return ControlStore(client("dynamodb"), get_settings().control_table_name)


def _view(tenant: Tenant) -> dict[str, Any]:
    return tenant.model_dump(by_alias=True, mode="json")


def _tenant_id(tenant_id: str) -> str:
    bind_tenant(checked_id(tenant_id, "tenantId"))
    return tenant_id


@app.post(
    "/tenants",
    operation_id="createTenant",
    responses=api.with_headers(
        api.responses(201, "Tenant", errors=[409], body=True, links={"tenantId": _BY_ID}),
        201,
        {"Idempotent-Replayed": "`true` when this is the first answer to the same `Idempotency-Key`, again"},
    ),
)
def create_tenant(
    body: CreateTenantRequest,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            pattern=KEY_PATTERN,
            description="Retry-safe creation: the same key and body return the first answer again "
            "(with `Idempotent-Replayed: true`) for 24 hours; the same key with another body is a 409.",
        ),
    ] = None,
) -> Response[str]:
    if idempotency_key is None:
        return api.ok(_register(body), status=201)
    settings = get_settings()
    answer = answer_once(
        scope=_caller(),
        key=idempotency_key,
        body=body.model_dump(mode="json", by_alias=True),
        produce=lambda: Answer(201, _register(body)),
        table_name=settings.idempotency_table_name,
        client=client("dynamodb"),
        expires_after_seconds=settings.idempotency_expiry_seconds,
        lambda_context=app.lambda_context,
    )
    response = api.ok(answer.data, status=answer.status)
    if answer.replayed:
        bind_tenant(str(answer.data.get("tenantId", "")))
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _register(body: CreateTenantRequest) -> dict[str, Any]:
    tenant = tenants.register(_store(), body)
    bind_tenant(tenant.tenant_id)
    count("TenantRegistered", tenant.tenant_id)
    return _view(tenant)


def _caller() -> str:
    """Who is calling (the IAM principal): idempotency keys are scoped to it."""
    identity = app.current_event.request_context.identity
    return str(identity.user_arn or identity.access_key or identity.caller or "anonymous")


@app.get(
    "/tenants", operation_id="listTenants", responses=api.responses(200, "Tenant", errors=[400], page=True)
)
def list_tenants(
    status: Annotated[Status | None, Query()] = None,
    tier: Annotated[Tier | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    result = _store().list_tenants(status=status, tier=tier, limit=limit, cursor=cursor)
    return api.page([_view(t) for t in result.items], limit=limit, next_cursor=result.next_cursor)


@app.get(
    "/tenants/<tenantId>", operation_id="getTenant", responses=api.responses(200, "Tenant", errors=[404])
)
def get_tenant(tenantId: TenantId) -> Response[str]:
    return api.ok(_view(_store().get(_tenant_id(tenantId))))


@app.patch(
    "/tenants/<tenantId>",
    operation_id="updateTenant",
    responses=api.responses(200, "Tenant", errors=[404, 409], body=True),
)
def update_tenant(tenantId: TenantId, body: UpdateTenantRequest) -> Response[str]:
    return api.ok(_view(_store().rename(_tenant_id(tenantId), body.name, body.version)))


@app.delete(
    "/tenants/<tenantId>",
    operation_id="offboardTenant",
    description=OFFBOARDING,
    responses=api.responses(202, "Tenant", errors=[404, 409]),
)
def offboard_tenant(tenantId: TenantId) -> Response[str]:
    return api.ok(_view(tenants.offboard(_store(), _tenant_id(tenantId))), status=202)


@app.post(
    "/tenants/<tenantId>/retry",
    operation_id="retryTenant",
    responses=api.responses(202, "Tenant", errors=[404, 409]),
)
def retry_tenant(tenantId: TenantId) -> Response[str]:
    return api.ok(_view(tenants.retry(_store(), _tenant_id(tenantId))), status=202)


@collector_resumes_after_first_event
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.resolve(app, event, context)
