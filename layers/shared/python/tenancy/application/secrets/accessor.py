"""The one cached way to read a tenant's secret value at run time.

Powertools Parameters' `SecretsProvider`, one per tenant, on the tenant-scoped Secrets Manager
client. An entry is fetched again when:

- it is older than the TTL (`ttl_seconds`, default DEFAULT_TTL_SECONDS = 300: a value changed in
  another execution environment is seen within five minutes);
- the caller asks (`force_fetch=True`: an admin's explicit reveal is always fresh);
- the caller's tenant configuration version (`TenantContext.effective_config().version`, handed on
  by the authorizer) differs from the one the entry was filled under: a tenant change is seen at once;
- this process put or deleted the secret (`invalidate`, called by the secrets service).

A missing secret (never put, or deleted) answers `default`; a missing secret is not cached.
The Powertools module is imported on first use: it imports boto3, which the app API's cold start
does not otherwise pay for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tenancy.application.secrets.vault import tenant_secrets_prefix

DEFAULT_TTL_SECONDS = 300
_MISSING = ("ResourceNotFoundException", "InvalidRequestException")  # never put / scheduled for deletion


@dataclass(frozen=True)
class _Filled:
    at: float
    config_version: int | None


class SecretAccessor:
    """`clients(tenant_id)`: a Secrets Manager client acting as that tenant."""

    def __init__(
        self,
        clients: Callable[[str], Any],
        app_name: str,
        stage: str,
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = clients
        self._app_name = app_name
        self._stage = stage
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._providers: dict[str, Any] = {}
        self._filled: dict[tuple[str, str], _Filled] = {}
        self._lock = threading.Lock()

    def get(
        self,
        tenant_id: str,
        name: str,
        *,
        default: str | None = None,
        config_version: int | None = None,
        force_fetch: bool = False,
    ) -> str | None:
        """The secret's value (or `default` when the tenant has no such secret)."""
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        provider = self._provider(tenant_id)
        key = (tenant_id, name)
        now = self._clock()
        with self._lock:
            filled = self._filled.get(key)
        stale = (
            force_fetch
            or filled is None
            or now - filled.at >= self.ttl_seconds
            or (config_version is not None and filled.config_version != config_version)
        )
        secret_id = tenant_secrets_prefix(self._app_name, self._stage, tenant_id) + name
        try:
            value = provider.get(secret_id, max_age=self.ttl_seconds, force_fetch=stale)
        except GetParameterError as error:
            cause = error.__context__
            if isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") in _MISSING:
                self.invalidate(tenant_id, name)
                return default
            raise
        if stale:
            with self._lock:
                self._filled[key] = _Filled(now, config_version)
        return None if value is None else str(value)

    def invalidate(self, tenant_id: str, name: str) -> None:
        """Forget the cached value: the next read fetches it (a put or delete in this process)."""
        secret_id = tenant_secrets_prefix(self._app_name, self._stage, tenant_id) + name
        with self._lock:
            self._filled.pop((tenant_id, name), None)
            provider = self._providers.get(tenant_id)
            if provider is not None:
                for cache_key in [k for k in provider.store if k and k[0] == secret_id]:
                    provider.store.pop(cache_key, None)

    def _provider(self, tenant_id: str) -> Any:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        client = self._clients(tenant_id)  # cached per tenant, renewed before its credentials expire
        with self._lock:
            provider = self._providers.get(tenant_id)
            if provider is None:
                provider = SecretsProvider(boto3_client=client)
                self._providers[tenant_id] = provider
            elif provider.client is not client:
                provider.client = client
            return provider
