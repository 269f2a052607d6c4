"""AWS clients, created once per process on first use (never at import time).

Clients come from botocore directly: boto3 adds resources and S3 transfers, which Tenancy does not
use, and importing it (with s3transfer) costs tens of milliseconds of every cold start.
botocore honours AWS_ENDPOINT_URL, which is how the local cloud points every client at its server.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from botocore.config import Config

# One invocation at a time uses a client on Lambda; the local cloud runs many side by side in one
# process, and botocore's default pool of 10 connections would make each extra one connect anew.
_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=50,
)
_LOCK = threading.Lock()  # a botocore Session is not thread-safe; the clients it makes are


@cache
def _session() -> Any:
    """One session for every client: they share its loaded service models (cold start)."""
    from botocore.session import Session

    return Session()


def _make(service: str, **credentials: str) -> Any:
    with _LOCK:
        return _session().create_client(service, config=_CONFIG, **credentials)


@cache
def client(service: str) -> Any:
    return _make(service)


def region() -> str:
    """The region the functions run in (AWS_REGION in Lambda)."""
    import os

    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def client_with_credentials(service: str, access_key: str, secret_key: str, session_token: str) -> Any:
    """A client acting with temporary credentials (tenant-scoped sessions)."""
    return _make(
        service,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=session_token,
    )


class LazyClient:
    """A client created on first use: a function holds the clients it may need without paying for
    the ones a given event never touches (each costs milliseconds of cold start)."""

    def __init__(self, service: str) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(client(self._service), name)


def reset() -> None:
    """Forget every client and the session (a new execution environment; tests and the local cloud)."""
    client.cache_clear()
    _session.cache_clear()
