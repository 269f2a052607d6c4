"""A tenant's secrets: who may do what, and the order of the writes.

- Every route needs the tenant's `secrets` flag (plan or override): 403 FEATURE_DISABLED otherwise.
- Members may list the secrets and read their metadata (to know which integrations are set up);
  only admins put, delete, or read a value (`reveal`), which is always fetched fresh.
- A put writes Secrets Manager first, then the metadata (a retry of a half-done put completes it);
  a delete schedules the value's deletion first, then removes the metadata (404 when there was
  none: a second delete). Both drop this process's cached value at once.
"""

from __future__ import annotations

from tenancy.application.secrets.accessor import SecretAccessor
from tenancy.application.secrets.models import PutSecretRequest, Secret
from tenancy.application.secrets.repository import SecretIndex
from tenancy.application.secrets.vault import SecretVault
from tenancy.common.dynamo import Page
from tenancy.common.errors import FeatureDisabledError, NotFoundError
from tenancy.common.observability import logger
from tenancy.contracts.context import TenantContext, require_admin
from tenancy.contracts.plans import Flag


def require_secrets(caller: TenantContext) -> None:
    if not caller.effective_config().flag(Flag.SECRETS):
        raise FeatureDisabledError("this tenant's plan does not include secrets", {"flag": str(Flag.SECRETS)})


def put_secret(
    caller: TenantContext,
    vault: SecretVault,
    index: SecretIndex,
    accessor: SecretAccessor,
    name: str,
    request: PutSecretRequest,
) -> Secret:
    require_secrets(caller)
    require_admin(caller)
    value = request.value.get_secret_value()
    try:
        stored = vault.put(name, value, request.description)
    finally:
        accessor.invalidate(caller.tenant_id, name)
    secret = index.record(
        name,
        {
            "description": request.description,
            "versionId": stored.version_id,
            "length": len(value.encode("utf-8")),
        },
    )
    logger.info("secret put", secret=name, version_id=stored.version_id, user_id=caller.user_id)
    return secret


def list_secrets(caller: TenantContext, index: SecretIndex, limit: int, cursor: str | None) -> Page[Secret]:
    require_secrets(caller)
    return index.page(limit=limit, cursor=cursor)


def get_secret(
    caller: TenantContext, index: SecretIndex, accessor: SecretAccessor, name: str, reveal: bool
) -> Secret:
    require_secrets(caller)
    if reveal:
        require_admin(caller)
    secret = index.get(name)
    if not reveal:
        return secret
    value = accessor.get(caller.tenant_id, name, force_fetch=True)
    logger.info("secret revealed", secret=name, user_id=caller.user_id)
    if value is None:  # the metadata outlived the value (a delete that stopped half-way)
        raise NotFoundError(f"secret {name} not found")
    return Secret.model_construct(**secret.model_dump(exclude_unset=True), value=value)


def delete_secret(
    caller: TenantContext, vault: SecretVault, index: SecretIndex, accessor: SecretAccessor, name: str
) -> None:
    require_secrets(caller)
    require_admin(caller)
    try:
        vault.delete(name)
    finally:
        accessor.invalidate(caller.tenant_id, name)
    index.remove(name)
    logger.info("secret deleted", secret=name, user_id=caller.user_id)
