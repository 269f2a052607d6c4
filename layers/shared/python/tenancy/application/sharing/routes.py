"""The sharing routes of the app API (`/dashboards/{dashboardId}/shares`, `/shared-with-me`).

A dashboard's owner shares it (POST, PATCH, DELETE); its owner and editors see its shares (GET;
viewers 403); anyone who cannot read the dashboard finds none (404). `GET /shared-with-me` lists
the dashboards shared with the caller, directly or through a group.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from tenancy.application.access.dependencies import Caller, Store
from tenancy.application.sharing import service
from tenancy.application.sharing.models import CreateShareRequest, UpdateShareRequest
from tenancy.common import http
from tenancy.common.http import Cursor, Limit, PathId

router = http.router()
LINKS = ("getShare", "updateShare", "deleteShare")


@router.get(
    "/dashboards/<dashboardId>/shares",
    operation_id="listShares",
    responses=http.responses(200, "Share", errors=[400, 403, 404], page=True),
)
def list_shares(
    dashboardId: PathId, caller: Caller, store: Store, limit: Limit = 20, cursor: Cursor = None
) -> Response[str]:
    return http.page(service.list_shares(store, caller, dashboardId, limit, cursor), limit=limit)


@router.post(
    "/dashboards/<dashboardId>/shares",
    operation_id="createShare",
    responses=http.responses(201, "Share", errors=[403, 404, 409], body=True, links={"shareId": LINKS}),
)
def create_share(
    dashboardId: PathId, body: CreateShareRequest, caller: Caller, store: Store
) -> Response[str]:
    return http.ok(service.create_share(store, caller, dashboardId, body), status=201)


@router.get(
    "/dashboards/<dashboardId>/shares/<shareId>",
    operation_id="getShare",
    responses=http.responses(200, "Share", errors=[403, 404]),
)
def get_share(dashboardId: PathId, shareId: PathId, caller: Caller, store: Store) -> Response[str]:
    return http.ok(service.get_share(store, caller, dashboardId, shareId))


@router.patch(
    "/dashboards/<dashboardId>/shares/<shareId>",
    operation_id="updateShare",
    responses=http.responses(200, "Share", errors=[403, 404, 409], body=True),
)
def update_share(
    dashboardId: PathId, shareId: PathId, body: UpdateShareRequest, caller: Caller, store: Store
) -> Response[str]:
    return http.ok(service.update_share(store, caller, dashboardId, shareId, body))


@router.delete(
    "/dashboards/<dashboardId>/shares/<shareId>",
    operation_id="deleteShare",
    responses=http.responses(204, errors=[403, 404]),
)
def delete_share(dashboardId: PathId, shareId: PathId, caller: Caller, store: Store) -> Response[str]:
    service.delete_share(store, caller, dashboardId, shareId)
    return http.no_content()


@router.get(
    "/shared-with-me",
    operation_id="listSharedWithMe",
    responses=http.responses(200, "SharedDashboard", errors=[400, 403], page=True),
)
def shared_with_me(caller: Caller, store: Store, limit: Limit = 20, cursor: Cursor = None) -> Response[str]:
    return http.page(service.shared_with_me(store, caller, limit, cursor), limit=limit)
