"""The configuration route of the app API: `GET /config`, for any member of the tenant."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from tenancy.application.access.dependencies import Caller, Store
from tenancy.application.configuration import service
from tenancy.common import http

router = http.router()


@router.get("/config", operation_id="getConfig", responses=http.responses(200, "Config", errors=[403]))
def get_config(caller: Caller, store: Store) -> Response[str]:
    return http.ok(service.tenant_config(store, caller))
