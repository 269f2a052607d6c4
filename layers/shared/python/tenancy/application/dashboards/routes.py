"""The dashboards routes of the app API (`/dashboards`, clone, filter views): any member creates
dashboards; what they may do with one is their permission on it (tenancy.application.sharing)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from tenancy.application.access.dependencies import Caller, Store
from tenancy.application.dashboards import service
from tenancy.application.dashboards.models import (
    CloneDashboardRequest,
    CreateDashboardRequest,
    CreateFilterViewRequest,
    UpdateDashboardRequest,
    UpdateFilterViewRequest,
)
from tenancy.common import http
from tenancy.common.http import Cursor, Limit, PathId
from tenancy.common.keys import ID_MAX_LENGTH, ID_PATTERN

router = http.router()
LINKS = (
    "getDashboard",
    "updateDashboard",
    "deleteDashboard",
    "cloneDashboard",
    "listFilterViews",
    "createFilterView",
)
VIEW_LINKS = ("getFilterView", "updateFilterView", "deleteFilterView")
OwnerId = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=ID_MAX_LENGTH,
        pattern=ID_PATTERN,
        description="another user's dashboards (tenant admins only); the caller's own by default",
    ),
]


@router.post(
    "/dashboards",
    operation_id="createDashboard",
    responses=http.responses(201, "Dashboard", errors=[403], body=True, links={"dashboardId": LINKS}),
)
def create_dashboard(body: CreateDashboardRequest, caller: Caller, store: Store) -> Response[str]:
    return http.ok(service.create_dashboard(store, caller, body), status=201)


@router.get(
    "/dashboards",
    operation_id="listDashboards",
    responses=http.responses(200, "DashboardSummary", errors=[400, 403], page=True),
)
def list_dashboards(
    caller: Caller, store: Store, ownerId: OwnerId = None, limit: Limit = 20, cursor: Cursor = None
) -> Response[str]:
    return http.page(service.list_dashboards(store, caller, ownerId, limit, cursor), limit=limit)


@router.get(
    "/dashboards/<dashboardId>",
    operation_id="getDashboard",
    responses=http.responses(200, "Dashboard", errors=[403, 404]),
)
def get_dashboard(dashboardId: PathId, caller: Caller, store: Store) -> Response[str]:
    return http.ok(service.get_dashboard(store, caller, dashboardId))


@router.patch(
    "/dashboards/<dashboardId>",
    operation_id="updateDashboard",
    responses=http.responses(200, "Dashboard", errors=[403, 404, 409], body=True),
)
def update_dashboard(
    dashboardId: PathId, body: UpdateDashboardRequest, caller: Caller, store: Store
) -> Response[str]:
    return http.ok(service.update_dashboard(store, caller, dashboardId, body))


@router.delete(
    "/dashboards/<dashboardId>",
    operation_id="deleteDashboard",
    responses=http.responses(204, errors=[403, 404, 409]),
)
def delete_dashboard(dashboardId: PathId, caller: Caller, store: Store) -> Response[str]:
    service.delete_dashboard(store, caller, dashboardId)
    return http.no_content()


# The body is optional (no body is `{}`), and never null.
OptionalClone = Annotated[CloneDashboardRequest, Body(default_factory=CloneDashboardRequest)]


@router.post(
    "/dashboards/<dashboardId>/clone",
    operation_id="cloneDashboard",
    responses=http.responses(
        201, "Dashboard", errors=[403, 404, 409], body=True, links={"dashboardId": LINKS}
    ),
)
def clone_dashboard(dashboardId: PathId, caller: Caller, store: Store, body: OptionalClone) -> Response[str]:
    return http.ok(service.clone_dashboard(store, caller, dashboardId, body), status=201)


@router.get(
    "/dashboards/<dashboardId>/filter-views",
    operation_id="listFilterViews",
    responses=http.responses(200, "FilterView", errors=[400, 403, 404], page=True),
)
def list_filter_views(
    dashboardId: PathId, caller: Caller, store: Store, limit: Limit = 20, cursor: Cursor = None
) -> Response[str]:
    return http.page(service.list_filter_views(store, caller, dashboardId, limit, cursor), limit=limit)


@router.post(
    "/dashboards/<dashboardId>/filter-views",
    operation_id="createFilterView",
    responses=http.responses(201, "FilterView", errors=[403, 404], body=True, links={"viewId": VIEW_LINKS}),
)
def create_filter_view(
    dashboardId: PathId, body: CreateFilterViewRequest, caller: Caller, store: Store
) -> Response[str]:
    return http.ok(service.create_filter_view(store, caller, dashboardId, body), status=201)


@router.get(
    "/dashboards/<dashboardId>/filter-views/<viewId>",
    operation_id="getFilterView",
    responses=http.responses(200, "FilterView", errors=[403, 404]),
)
def get_filter_view(dashboardId: PathId, viewId: PathId, caller: Caller, store: Store) -> Response[str]:
    return http.ok(service.get_filter_view(store, caller, dashboardId, viewId))


@router.patch(
    "/dashboards/<dashboardId>/filter-views/<viewId>",
    operation_id="updateFilterView",
    responses=http.responses(200, "FilterView", errors=[403, 404, 409], body=True),
)
def update_filter_view(
    dashboardId: PathId, viewId: PathId, body: UpdateFilterViewRequest, caller: Caller, store: Store
) -> Response[str]:
    return http.ok(service.update_filter_view(store, caller, dashboardId, viewId, body))


@router.delete(
    "/dashboards/<dashboardId>/filter-views/<viewId>",
    operation_id="deleteFilterView",
    responses=http.responses(204, errors=[403, 404, 409]),
)
def delete_filter_view(dashboardId: PathId, viewId: PathId, caller: Caller, store: Store) -> Response[str]:
    service.delete_filter_view(store, caller, dashboardId, viewId)
    return http.no_content()
