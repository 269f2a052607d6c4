"""The one cached accessor of tenant secret values: TTL (fake clock), forced refresh, the default for
a missing secret, invalidation by this process's writes, and the tenant-config version check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tenancy.application.secrets.accessor import DEFAULT_TTL_SECONDS, SecretAccessor
from tenancy.application.secrets.vault import SecretVault

TENANT, OTHER = "tenant-a", "tenant-b"


class Counting:
    """A Secrets Manager client that counts GetSecretValue calls."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.reads = 0

    def get_secret_value(self, **request: Any) -> Any:
        self.reads += 1
        return self._client.get_secret_value(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client() -> Iterator[Counting]:
    with mock_aws():
        yield Counting(boto3.client("secretsmanager", region_name="us-east-1"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accessor(client: Counting, clock: Clock) -> SecretAccessor:
    return SecretAccessor(lambda tenant_id: client, "tenancy", "test", ttl_seconds=60, clock=clock)


def vault(client: Counting, tenant_id: str = TENANT) -> SecretVault:
    return SecretVault(client, "tenancy", "test", tenant_id)


def test_the_default_ttl_is_five_minutes() -> None:
    assert DEFAULT_TTL_SECONDS == 300
    assert SecretAccessor(lambda tenant_id: None, "tenancy", "test").ttl_seconds == 300


def test_a_value_is_served_from_the_cache_within_the_ttl_and_fetched_after(
    client: Counting, clock: Clock, accessor: SecretAccessor
) -> None:
    vault(client).put("llm-key", "v1", "")
    assert accessor.get(TENANT, "llm-key") == "v1"
    vault(client).put("llm-key", "v2", "")  # written elsewhere: this process does not know
    clock.now += 59
    assert accessor.get(TENANT, "llm-key") == "v1"
    assert client.reads == 1
    clock.now += 1  # the TTL has passed
    assert accessor.get(TENANT, "llm-key") == "v2"
    assert client.reads == 2
    assert accessor.get(TENANT, "llm-key") == "v2"
    assert client.reads == 2


def test_force_fetch_always_reads_fresh(client: Counting, accessor: SecretAccessor) -> None:
    vault(client).put("llm-key", "v1", "")
    assert accessor.get(TENANT, "llm-key") == "v1"
    vault(client).put("llm-key", "v2", "")
    assert accessor.get(TENANT, "llm-key", force_fetch=True) == "v2"
    assert accessor.get(TENANT, "llm-key") == "v2"  # and the cache now holds the fresh value
    assert client.reads == 2


def test_a_missing_secret_answers_the_default_and_is_not_cached(
    client: Counting, accessor: SecretAccessor
) -> None:
    assert accessor.get(TENANT, "absent") is None
    assert accessor.get(TENANT, "absent", default="fallback") == "fallback"
    vault(client).put("absent", "now-here", "")
    assert accessor.get(TENANT, "absent", default="fallback") == "now-here"


def test_a_deleted_secret_answers_the_default(client: Counting, accessor: SecretAccessor) -> None:
    vault(client).put("llm-key", "v1", "")
    assert accessor.get(TENANT, "llm-key") == "v1"
    vault(client).delete("llm-key")  # scheduled for deletion
    accessor.invalidate(TENANT, "llm-key")
    assert accessor.get(TENANT, "llm-key", default="fallback") == "fallback"


def test_invalidation_drops_the_entry_at_once(client: Counting, accessor: SecretAccessor) -> None:
    vault(client).put("llm-key", "v1", "")
    vault(client).put("other", "o1", "")
    assert accessor.get(TENANT, "llm-key") == "v1"
    assert accessor.get(TENANT, "other") == "o1"
    vault(client).put("llm-key", "v2", "")
    vault(client).put("other", "o2", "")
    accessor.invalidate(TENANT, "llm-key")
    assert accessor.get(TENANT, "llm-key") == "v2"
    assert accessor.get(TENANT, "other") == "o1"  # only that entry was dropped


def test_a_new_tenant_config_version_refetches(client: Counting, accessor: SecretAccessor) -> None:
    vault(client).put("llm-key", "v1", "")
    assert accessor.get(TENANT, "llm-key", config_version=3) == "v1"
    vault(client).put("llm-key", "v2", "")
    assert accessor.get(TENANT, "llm-key", config_version=3) == "v1"  # same version: cached
    assert accessor.get(TENANT, "llm-key", config_version=4) == "v2"  # the tenant changed
    assert client.reads == 2
    assert accessor.get(TENANT, "llm-key", config_version=4) == "v2"
    assert client.reads == 2


def test_each_tenant_reads_its_own_path(client: Counting, accessor: SecretAccessor) -> None:
    vault(client, TENANT).put("llm-key", "of-a", "")
    vault(client, OTHER).put("llm-key", "of-b", "")
    assert accessor.get(TENANT, "llm-key") == "of-a"
    assert accessor.get(OTHER, "llm-key") == "of-b"
    assert accessor.get(OTHER, "missing", default="d") == "d"


def test_the_tenant_client_is_asked_for_each_read(client: Counting, clock: Clock) -> None:
    """The accessor uses the client the credentials cache hands it now (renewed before expiry)."""
    asked: list[str] = []

    def clients(tenant_id: str) -> Counting:
        asked.append(tenant_id)
        return client

    accessor = SecretAccessor(clients, "tenancy", "test", ttl_seconds=60, clock=clock)
    vault(client).put("llm-key", "v1", "")
    accessor.get(TENANT, "llm-key")
    accessor.get(TENANT, "llm-key")
    assert asked == [TENANT, TENANT]
