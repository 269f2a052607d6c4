"""The application plane's operations, each on one tenant's store (see app_store.TenantStore).

Role rules live here: members manage agents and executions; only admins manage users and read
the audit trail.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tenancy import keys
from tenancy.app_store import Change, TenantStore
from tenancy.auth import Forbidden, TenantContext
from tenancy.errors import ConflictError, IllegalTransitionError, InvalidRequestError
from tenancy.identity import UserDirectory
from tenancy.models.app import (
    EXECUTION_TRANSITIONS,
    CreateAgentRequest,
    CreateUserRequest,
    ExecutionStatus,
    StartExecutionRequest,
    UpdateAgentRequest,
    UpdateExecutionRequest,
    UpdateUserRequest,
)

INPUT_SUMMARY_CHARS = 200
Page = tuple[list[dict[str, Any]], str | None]


def require_admin(caller: TenantContext) -> None:
    if not caller.is_admin:
        raise Forbidden("only a tenant admin may do this")


# --- users ------------------------------------------------------------------------------------


def me(store: TenantStore, caller: TenantContext) -> dict[str, Any]:
    return {**store.get(keys.USER, caller.user_id), "tier": caller.tier}


def create_user(
    store: TenantStore, users: UserDirectory, caller: TenantContext, request: CreateUserRequest
) -> dict[str, Any]:
    require_admin(caller)
    return add_user(store, users, str(uuid.uuid4()), request.email, request.role)


def add_user(store: TenantStore, users: UserDirectory, user_id: str, email: str, role: str) -> dict[str, Any]:
    """The USER# item and its EMAIL# marker first (uniqueness), then the Cognito user; if Cognito
    refuses, the items are removed again so nothing is half-created."""
    email = keys.normalise_email(email)
    user = store.create(
        keys.USER,
        user_id,
        {
            "userId": user_id,
            "email": email,
            "role": role,
            "GSI2PK": keys.user_tenants_pk(user_id),
            "GSI2SK": keys.tenant_pk(store.tenant_id),
        },
        Change("user.create", keys.item_sk(keys.USER, user_id)),
        unique_email=email,
    )
    try:
        users.create(user_id, email, store.tenant_id, role)
    except Exception:
        store.delete(
            keys.USER,
            user_id,
            Change("user.create.rollback", keys.item_sk(keys.USER, user_id)),
            release_email=email,
        )
        raise
    return user


def list_users(store: TenantStore, caller: TenantContext, limit: int, cursor: str | None) -> Page:
    require_admin(caller)
    return store.list_items(keys.USER, limit=limit, cursor=cursor)


def get_user(store: TenantStore, caller: TenantContext, user_id: str) -> dict[str, Any]:
    require_admin(caller)
    return store.get(keys.USER, user_id)


def update_user(
    store: TenantStore, users: UserDirectory, caller: TenantContext, user_id: str, request: UpdateUserRequest
) -> dict[str, Any]:
    require_admin(caller)
    if user_id == caller.user_id and request.role != caller.role:
        raise ConflictError("an admin cannot change their own role")
    user = store.update(
        keys.USER,
        user_id,
        {"role": str(request.role)},
        request.version,
        Change("user.update", keys.item_sk(keys.USER, user_id)),
    )
    users.set_role(user_id, str(request.role))
    return user


def delete_user(store: TenantStore, users: UserDirectory, caller: TenantContext, user_id: str) -> None:
    require_admin(caller)
    if user_id == caller.user_id:
        raise ConflictError("an admin cannot delete themselves")
    user = store.get(keys.USER, user_id)
    store.delete(
        keys.USER,
        user_id,
        Change("user.delete", keys.item_sk(keys.USER, user_id)),
        release_email=user["email"],
    )
    users.remove(user_id)


# --- agents -----------------------------------------------------------------------------------


def create_agent(store: TenantStore, request: CreateAgentRequest) -> dict[str, Any]:
    agent_id = str(uuid.uuid4())
    return store.create(
        keys.AGENT,
        agent_id,
        {"agentId": agent_id, **request.model_dump()},
        Change("agent.create", keys.item_sk(keys.AGENT, agent_id)),
    )


def update_agent(store: TenantStore, agent_id: str, request: UpdateAgentRequest) -> dict[str, Any]:
    changes = request.model_dump(exclude={"version"}, exclude_none=True)
    if not changes:
        raise InvalidRequestError(
            "nothing to change", [{"field": "body", "message": "name, description or model"}]
        )
    return store.update(
        keys.AGENT,
        agent_id,
        changes,
        request.version,
        Change("agent.update", keys.item_sk(keys.AGENT, agent_id)),
    )


def delete_agent(store: TenantStore, agent_id: str) -> None:
    store.delete(keys.AGENT, agent_id, Change("agent.delete", keys.item_sk(keys.AGENT, agent_id)))


# --- executions -------------------------------------------------------------------------------


def start_execution(
    store: TenantStore, agent_id: str, request: StartExecutionRequest, trace_id: str
) -> dict[str, Any]:
    store.get(keys.AGENT, agent_id)  # 404 for an agent this tenant does not have
    execution_id = str(uuid.uuid4())
    summary = json.dumps(request.input, sort_keys=True, separators=(",", ":"))
    if len(summary) > INPUT_SUMMARY_CHARS:
        summary = summary[: INPUT_SUMMARY_CHARS - 1] + "…"
    return store.create(
        keys.EXECUTION,
        execution_id,
        {
            "executionId": execution_id,
            "agentId": agent_id,
            "status": str(ExecutionStatus.QUEUED),
            "traceId": trace_id,
            "inputSummary": summary,
        },
        Change("execution.start", keys.item_sk(keys.EXECUTION, execution_id)),
    )


def list_executions(
    store: TenantStore, agent_id: str, status: ExecutionStatus | None, limit: int, cursor: str | None
) -> Page:
    store.get(keys.AGENT, agent_id)
    where = {"agentId": agent_id, **({"status": str(status)} if status else {})}
    return store.list_items(keys.EXECUTION, limit=limit, cursor=cursor, where=where)


def move_execution(store: TenantStore, execution_id: str, request: UpdateExecutionRequest) -> dict[str, Any]:
    """QUEUED -> RUNNING -> SUCCEEDED | FAILED, conditional on the status the move starts from."""
    sources = [s for s, targets in EXECUTION_TRANSITIONS.items() if request.status in targets]
    changes: dict[str, Any] = {"status": str(request.status)}
    if request.error is not None:
        changes["error"] = request.error
    placeholders = {f":from{i}": str(s) for i, s in enumerate(sources)}
    try:
        if not sources:
            raise ConflictError("unreachable status")
        return store.update(
            keys.EXECUTION,
            execution_id,
            changes,
            request.version,
            Change(f"execution.{request.status.lower()}", keys.item_sk(keys.EXECUTION, execution_id)),
            only_if=(f"#status IN ({', '.join(placeholders)})", {"#status": "status"}, placeholders),
        )
    except ConflictError as refused:
        if refused.code != ConflictError.code:
            raise  # a stale version stays a VERSION_CONFLICT
        current = store.get(keys.EXECUTION, execution_id)
        raise IllegalTransitionError(
            execution_id, str(current["status"]), str(request.status), "execution"
        ) from None


# --- audit ------------------------------------------------------------------------------------


def audit_trail(
    store: TenantStore, caller: TenantContext, start: str, end: str, limit: int, cursor: str | None
) -> Page:
    require_admin(caller)
    if start > end:
        raise InvalidRequestError(
            "`from` is after `to`", [{"field": "from", "message": "must not be after `to`"}]
        )
    return store.audit_trail(start, end, limit=limit, cursor=cursor)
