"""The secrets routes of the app API (`/secrets`): see service.py for who may do what."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from tenancy.application.access.dependencies import Caller, Store, tenant_data
from tenancy.application.access.tenant_data import TenantData
from tenancy.application.secrets import service
from tenancy.application.secrets.accessor import SecretAccessor
from tenancy.application.secrets.models import (
    MAX_VALUE_BYTES,
    SECRET_NAME_MAX_LENGTH,
    SECRET_NAME_PATTERN,
    PutSecretRequest,
)
from tenancy.application.secrets.repository import SecretIndex
from tenancy.application.secrets.vault import SecretVault
from tenancy.common import http
from tenancy.common.config import Settings, get_settings
from tenancy.common.http import Cursor, Limit

router = http.router()
LINKS = ("getSecret", "putSecret", "deleteSecret")
SECRET_ROUTE = "/secrets/{name}"  # noqa: S105 (a route, not a password)
# A value may be up to MAX_VALUE_BYTES, and JSON may spell each byte as a six-character escape.
http.allow_body(SECRET_ROUTE, 6 * MAX_VALUE_BYTES + 4096)

SecretNamePath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=SECRET_NAME_MAX_LENGTH,
        pattern=SECRET_NAME_PATTERN,
        description="letters, digits, '-', '_' and '.' (never '..' nor '/'), 1 to 64 characters",
    ),
]
Reveal = Annotated[bool, Query(description="admins only: answer the value too (always read fresh)")]


@lru_cache(maxsize=1)
def _accessor_for(data: TenantData, settings: Settings) -> SecretAccessor:
    return SecretAccessor(
        lambda tenant_id: data.credentials.client("secretsmanager", tenant_id),
        settings.app_name,
        settings.stage,
        ttl_seconds=settings.secrets_cache_seconds,
    )


def secret_accessor() -> SecretAccessor:
    """The execution environment's accessor (one per environment, as the tenant credentials are):
    what any code reading a tenant's secret value at run time calls."""
    return _accessor_for(tenant_data(), get_settings())


def vault(caller: Caller) -> SecretVault:
    settings = get_settings()
    client = tenant_data().credentials.client("secretsmanager", caller.tenant_id)
    return SecretVault(
        client, settings.app_name, settings.stage, caller.tenant_id, settings.secrets_kms_key_id
    )


def index(store: Store) -> SecretIndex:
    return SecretIndex(store)


TenantVault = Annotated[SecretVault, Depends(vault)]
TenantIndex = Annotated[SecretIndex, Depends(index)]
Accessor = Annotated[SecretAccessor, Depends(secret_accessor)]


@router.put(
    "/secrets/<name>",
    operation_id="putSecret",
    responses=http.responses(200, "Secret", errors=[403], body=True, links={"name": LINKS}),
)
def put_secret(
    name: SecretNamePath,
    body: PutSecretRequest,
    caller: Caller,
    vault: TenantVault,
    index: TenantIndex,
    accessor: Accessor,
) -> Response[str]:
    return http.ok(service.put_secret(caller, vault, index, accessor, name, body))


@router.get(
    "/secrets",
    operation_id="listSecrets",
    responses=http.responses(200, "Secret", errors=[400, 403], page=True),
)
def list_secrets(
    caller: Caller, index: TenantIndex, limit: Limit = 20, cursor: Cursor = None
) -> Response[str]:
    return http.page(service.list_secrets(caller, index, limit, cursor), limit=limit)


@router.get(
    "/secrets/<name>",
    operation_id="getSecret",
    responses=http.responses(200, "Secret", errors=[403, 404]),
)
def get_secret(
    name: SecretNamePath, caller: Caller, index: TenantIndex, accessor: Accessor, reveal: Reveal = False
) -> Response[str]:
    return http.ok(service.get_secret(caller, index, accessor, name, reveal))


@router.delete(
    "/secrets/<name>", operation_id="deleteSecret", responses=http.responses(204, errors=[403, 404])
)
def delete_secret(
    name: SecretNamePath, caller: Caller, vault: TenantVault, index: TenantIndex, accessor: Accessor
) -> Response[str]:
    service.delete_secret(caller, vault, index, accessor, name)
    return http.no_content()
