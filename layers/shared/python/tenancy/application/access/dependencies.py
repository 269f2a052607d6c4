"""What every route of the app API is given, through Powertools' dependency injection (`Depends`):
the verified caller (from the authorizer's context, never from the request) and the store bound
to the caller's tenant. Each domain's router declares them as parameters (`Caller`, `Store`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, cast

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from tenancy.application.access.tenant_data import TenantData
from tenancy.application.store.engine import Actor, TenantStore
from tenancy.common.config import get_settings
from tenancy.common.observability import bind_tenant
from tenancy.contracts.context import TenantContext


@lru_cache(maxsize=1)
def tenant_data() -> TenantData:
    """One per execution environment: the route cache and the tenant credentials live as long."""
    return TenantData.from_settings(get_settings())


def _event(request: Request) -> APIGatewayProxyEvent:
    return cast(APIGatewayProxyEvent, request.resolved_event)  # the app API is a REST API


def caller(request: Request) -> TenantContext:
    context = TenantContext.from_authorizer_context(_event(request).request_context.authorizer.raw_event)
    bind_tenant(context.tenant_id)
    return context


def trace_id(request: Request) -> str:
    event = _event(request)
    header = event.headers.get("X-Amzn-Trace-Id") or event.headers.get("x-amzn-trace-id")
    return header or event.request_context.request_id


Caller = Annotated[TenantContext, Depends(caller)]
TraceId = Annotated[str, Depends(trace_id)]


def store(caller: Caller, trace: TraceId) -> TenantStore:
    return tenant_data().store(caller.tenant_id, Actor(caller.user_id, trace))


Store = Annotated[TenantStore, Depends(store)]
