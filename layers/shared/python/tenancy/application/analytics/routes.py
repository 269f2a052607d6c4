"""The analytics routes (function `analytics_api`): a card's execution, a preview of unsaved code and
a dashboard's render. See service.py for who may do what."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from tenancy.application.access.dependencies import Caller, tenant_data
from tenancy.application.access.dependencies import Store as TenantStoreDep
from tenancy.application.analytics import service
from tenancy.application.analytics.models import (
    ExecuteCardRequest,
    PreviewCardRequest,
    RenderDashboardRequest,
)
from tenancy.common import http
from tenancy.common.http import PathId

router = http.router()
# A preview's code may be 64 KiB and its params 8 KiB, and JSON may spell each byte as an escape:
# as the cards routes, these take bodies up to 1 MiB (the fields' own limits hold).
MAX_BODY_BYTES = 1024 * 1024
for _resource in ("/cards/preview", "/cards/{cardId}/execute", "/dashboards/{dashboardId}/render"):
    http.allow_body(_resource, MAX_BODY_BYTES)

EXECUTOR_FAILED = "The card executor's invocation failed (`EXECUTOR_FAILED`): try again"


def objects(caller: Caller) -> service.Objects:
    """The caller's tenant's objects, as the tenant, opened on first use (a cached answer needs none)."""
    return service.lazy(lambda: tenant_data().objects(caller.tenant_id))


TenantObjects = Annotated[service.Objects, Depends(objects)]


def _responses(errors: list[int], *, executes: bool) -> dict[int, OpenAPIResponse]:
    documented = http.responses(
        200, "CardResult" if executes else "DashboardRender", errors=errors, body=True
    )
    if executes:
        documented[502] = {
            "description": EXECUTOR_FAILED,
            "content": {"application/json": {"schema": {"$ref": http.COMPONENTS + "ErrorResponse"}}},
        }
    return documented


@router.post(
    "/cards/<cardId>/execute",
    operation_id="executeCard",
    summary="Run a card over its datasets' rows (its cached result when there is one)",
    description="404: no such card, or the caller may not read it. 409 DATASET_NOT_READY: a dataset "
    "has no data yet. 413 CARD_INPUT_TOO_LARGE: the rows are over the executor's input limit. 422: "
    "validation, a dataset the card names does not exist, or the card failed (CARD_ERROR, "
    "CARD_TIMEOUT, CARD_MEMORY, CARD_OUTPUT_TOO_LARGE). 502 EXECUTOR_FAILED.",
    responses=_responses([403, 404, 409], executes=True),
)
def execute_card(
    cardId: PathId, body: ExecuteCardRequest, caller: Caller, store: TenantStoreDep, objects: TenantObjects
) -> Response[str]:
    return http.ok(service.execute_card(store, objects, caller, cardId, body))


@router.post(
    "/cards/preview",
    operation_id="previewCard",
    summary="Run unsaved card code over datasets of the tenant (never cached)",
    description="Statuses as for executeCard (no 404: any user of the tenant may preview).",
    responses=_responses([403, 409], executes=True),
)
def preview_card(
    body: PreviewCardRequest, caller: Caller, store: TenantStoreDep, objects: TenantObjects
) -> Response[str]:
    return http.ok(service.preview_card(store, objects, body))


@router.post(
    "/dashboards/<dashboardId>/render",
    operation_id="renderDashboard",
    summary="Every card of a dashboard's layout: each its result or its error",
    description="For the dashboard's viewers and up (404 otherwise, or for an unknown filterViewId). "
    "Each card's entry carries the status executing it alone would answer with; a card the render "
    "did not start before its deadline (the function's remaining time less the executor's timeout "
    "and 2 s) is answered in the render with status 503 and the error code RENDER_DEADLINE, without "
    "running: render again (the cards that ran are cached).",
    responses=_responses([403, 404], executes=False),
)
def render_dashboard(
    dashboardId: PathId,
    body: RenderDashboardRequest,
    caller: Caller,
    store: TenantStoreDep,
    objects: TenantObjects,
) -> Response[str]:
    deadline = service.render_deadline(router.lambda_context)
    return http.ok(service.render_dashboard(store, objects, caller, dashboardId, body, deadline=deadline))
