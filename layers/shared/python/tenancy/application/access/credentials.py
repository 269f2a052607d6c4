"""Tenant-scoped credentials: STS AssumeRole with a `TenantId` session tag on the tenant-access role,
whose policy allows DynamoDB only where `dynamodb:LeadingKeys` is `TENANT#${aws:PrincipalTag/TenantId}`.
A bug that builds another tenant's key is then refused by IAM, not only by the code."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from tenancy.common.keys import checked_id

REFRESH_BEFORE_EXPIRY_SECONDS = 300
SESSION_SECONDS = 3600


@dataclass
class _Session:
    client: Any
    expires_at: float


class TenantCredentials:
    """DynamoDB clients acting as one tenant, cached per tenant until shortly before expiry."""

    def __init__(self, sts: Any, role_arn: str, make_client: Any) -> None:
        self._sts = sts
        self._role_arn = role_arn
        self._make_client = make_client  # (service, access_key, secret_key, token) -> client
        self._sessions: dict[tuple[str, str], _Session] = {}
        self._lock = threading.Lock()

    def client(self, service: str, tenant_id: str) -> Any:
        checked_id(tenant_id, "tenantId")
        key = (service, tenant_id)
        with self._lock:
            session = self._sessions.get(key)
            if session and session.expires_at - REFRESH_BEFORE_EXPIRY_SECONDS > time.time():
                return session.client
        assumed = self._sts.assume_role(
            RoleArn=self._role_arn,
            RoleSessionName=f"tenant-{tenant_id}"[:64],
            DurationSeconds=SESSION_SECONDS,
            Tags=[{"Key": "TenantId", "Value": tenant_id}],
        )["Credentials"]
        client = self._make_client(
            service, assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"]
        )
        with self._lock:
            self._sessions[key] = _Session(client, assumed["Expiration"].timestamp())
        return client
