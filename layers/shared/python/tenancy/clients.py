"""AWS clients, created once per process on first use (never at import time).

boto3 honours AWS_ENDPOINT_URL, which is how the local cloud points every client at its server.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


@cache
def client(service: str) -> Any:
    import boto3

    return boto3.session.Session().client(service, config=_CONFIG)  # type: ignore[call-overload]
