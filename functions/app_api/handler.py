"""The tenant-scoped application API: users, agents, executions, audit trail.

The tenant comes only from the authorizer's context (the verified token). Every data call goes
through a store bound to that tenant, with credentials scoped to it by IAM (LeadingKeys).
"""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event

from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.application.access.credentials import TenantCredentials
from tenancy.application.access.routing import Router, RouteStore
from tenancy.application.agents import service as agents_service
from tenancy.application.agents.models import CreateAgentRequest, UpdateAgentRequest
from tenancy.application.audit import service as audit_service
from tenancy.application.executions import service as executions_service
from tenancy.application.executions.models import (
    ExecutionStatus,
    StartExecutionRequest,
    UpdateExecutionRequest,
)
from tenancy.application.store.engine import Actor, TenantStore
from tenancy.application.users import service as users_service
from tenancy.application.users.directory import UserDirectory
from tenancy.application.users.models import CreateUserRequest, UpdateUserRequest
from tenancy.common import http as api
from tenancy.common.clients import client, client_with_credentials
from tenancy.common.config import get_settings
from tenancy.common.observability import bind_tenant, logger, metrics, tracer
from tenancy.contracts.context import TenantContext

app = api.RestResolver(enable_validation=True)
api.install(app)

Id = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@+-]+$")]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2048)]
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}(T[0-9:.]+Z?)?$"
_USER = ("getUser", "updateUser", "deleteUser")
_AGENT = ("getAgent", "updateAgent", "deleteAgent", "startExecution", "listExecutions")
_EXECUTION = ("getExecution", "updateExecution")


@lru_cache(maxsize=1)
def _router() -> Router:
    settings = get_settings()
    return Router(RouteStore(client("ssm"), settings.app_name, settings.stage), settings.route_cache_seconds)


@lru_cache(maxsize=1)
def _credentials() -> TenantCredentials:
    return TenantCredentials(client("sts"), get_settings().tenant_access_role_arn, client_with_credentials)


def _caller() -> TenantContext:
    context = TenantContext.from_authorizer_context(app.current_event.request_context.authorizer.raw_event)
    bind_tenant(context.tenant_id)
    return context


def _trace_id() -> str:
    header = app.current_event.headers.get("X-Amzn-Trace-Id") or app.current_event.headers.get(
        "x-amzn-trace-id"
    )
    return header or app.current_event.request_context.request_id


def _store(caller: TenantContext) -> TenantStore:
    route = _router().resolve(caller.tenant_id)
    dynamodb = _credentials().client("dynamodb", caller.tenant_id)
    return TenantStore(dynamodb, route.table_name, caller.tenant_id, Actor(caller.user_id, _trace_id()))


def _users() -> UserDirectory:
    return UserDirectory(client("cognito-idp"), get_settings().user_pool_id)


def _context() -> tuple[TenantContext, TenantStore]:
    caller = _caller()
    return caller, _store(caller)


# --- users ------------------------------------------------------------------------------------


@app.get("/me", operation_id="getMe", responses=api.responses(200, "Me", links={"userId": _USER}))
def get_me() -> Response[str]:
    caller, store = _context()
    return api.ok(users_service.me(store, caller))


@app.get(
    "/users", operation_id="listUsers", responses=api.responses(200, "User", errors=[400, 403], page=True)
)
def list_users(limit: Limit = 20, cursor: Cursor = None) -> Response[str]:
    caller, store = _context()
    items, next_cursor = users_service.list_users(store, caller, limit, cursor)
    return api.page(items, limit=limit, next_cursor=next_cursor)


@app.post(
    "/users",
    operation_id="createUser",
    responses=api.responses(201, "User", errors=[403, 409], body=True, links={"userId": _USER}),
)
def create_user(body: CreateUserRequest) -> Response[str]:
    caller, store = _context()
    return api.ok(users_service.create_user(store, _users(), caller, body), status=201)


@app.get("/users/<userId>", operation_id="getUser", responses=api.responses(200, "User", errors=[403, 404]))
def get_user(userId: Id) -> Response[str]:
    caller, store = _context()
    return api.ok(users_service.get_user(store, caller, userId))


@app.patch(
    "/users/<userId>",
    operation_id="updateUser",
    responses=api.responses(200, "User", errors=[403, 404, 409], body=True),
)
def update_user(userId: Id, body: UpdateUserRequest) -> Response[str]:
    caller, store = _context()
    return api.ok(users_service.update_user(store, _users(), caller, userId, body))


@app.delete(
    "/users/<userId>", operation_id="deleteUser", responses=api.responses(204, errors=[403, 404, 409])
)
def delete_user(userId: Id) -> Response[str]:
    caller, store = _context()
    users_service.delete_user(store, _users(), caller, userId)
    return api.no_content()


# --- agents -----------------------------------------------------------------------------------


@app.post(
    "/agents",
    operation_id="createAgent",
    responses=api.responses(201, "Agent", body=True, links={"agentId": _AGENT}),
)
def create_agent(body: CreateAgentRequest) -> Response[str]:
    _, store = _context()
    return api.ok(agents_service.create_agent(store, body), status=201)


@app.get("/agents", operation_id="listAgents", responses=api.responses(200, "Agent", errors=[400], page=True))
def list_agents(limit: Limit = 20, cursor: Cursor = None) -> Response[str]:
    _, store = _context()
    items, next_cursor = store.list_items("AGENT", limit=limit, cursor=cursor)
    return api.page(items, limit=limit, next_cursor=next_cursor)


@app.get("/agents/<agentId>", operation_id="getAgent", responses=api.responses(200, "Agent", errors=[404]))
def get_agent(agentId: Id) -> Response[str]:
    _, store = _context()
    return api.ok(store.get("AGENT", agentId))


@app.patch(
    "/agents/<agentId>",
    operation_id="updateAgent",
    responses=api.responses(200, "Agent", errors=[404, 409], body=True),
)
def update_agent(agentId: Id, body: UpdateAgentRequest) -> Response[str]:
    _, store = _context()
    return api.ok(agents_service.update_agent(store, agentId, body))


@app.delete("/agents/<agentId>", operation_id="deleteAgent", responses=api.responses(204, errors=[404]))
def delete_agent(agentId: Id) -> Response[str]:
    _, store = _context()
    agents_service.delete_agent(store, agentId)
    return api.no_content()


# --- executions -------------------------------------------------------------------------------


@app.post(
    "/agents/<agentId>/executions",
    operation_id="startExecution",
    responses=api.responses(201, "Execution", errors=[404], body=True, links={"executionId": _EXECUTION}),
)
def start_execution(agentId: Id, body: StartExecutionRequest) -> Response[str]:
    _, store = _context()
    return api.ok(executions_service.start_execution(store, agentId, body, _trace_id()), status=201)


@app.get(
    "/agents/<agentId>/executions",
    operation_id="listExecutions",
    responses=api.responses(200, "Execution", errors=[400, 404], page=True),
)
def list_executions(
    agentId: Id,
    status: Annotated[ExecutionStatus | None, Query()] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response[str]:
    _, store = _context()
    items, next_cursor = executions_service.list_executions(store, agentId, status, limit, cursor)
    return api.page(items, limit=limit, next_cursor=next_cursor)


@app.get(
    "/executions/<executionId>",
    operation_id="getExecution",
    responses=api.responses(200, "Execution", errors=[404]),
)
def get_execution(executionId: Id) -> Response[str]:
    _, store = _context()
    return api.ok(store.get("EXEC", executionId))


@app.patch(
    "/executions/<executionId>",
    operation_id="updateExecution",
    responses=api.responses(200, "Execution", errors=[404, 409], body=True),
)
def update_execution(executionId: Id, body: UpdateExecutionRequest) -> Response[str]:
    _, store = _context()
    return api.ok(executions_service.move_execution(store, executionId, body))


# --- audit ------------------------------------------------------------------------------------


@app.get(
    "/audit",
    operation_id="getAudit",
    responses=api.responses(200, "AuditEntry", errors=[400, 403], page=True),
)
def get_audit(
    from_: Annotated[str, Query(alias="from", pattern=TIMESTAMP)] = "0000-01-01",
    to: Annotated[str, Query(pattern=TIMESTAMP)] = "9999-12-31",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response[str]:
    caller, store = _context()
    items, next_cursor = audit_service.audit_trail(store, caller, from_, to, limit, cursor)
    return api.page(items, limit=limit, next_cursor=next_cursor)


@collector_resumes_after_first_event
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.resolve(app, event, context)
