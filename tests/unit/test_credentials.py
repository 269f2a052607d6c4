"""Tenant-scoped credentials: one AssumeRole per tenant with its TenantId session tag, reused until
shortly before expiry; never for an id that could break the key scheme."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tenancy.application.access.credentials import TenantCredentials


class FakeSts:
    def __init__(self, lifetime: timedelta) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lifetime = lifetime

    def assume_role(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        n = len(self.calls)
        return {
            "Credentials": {
                "AccessKeyId": f"AK{n}",
                "SecretAccessKey": f"SK{n}",
                "SessionToken": f"ST{n}",
                "Expiration": datetime.now(UTC) + self.lifetime,
            }
        }


def make_client(service: str, access_key: str, secret_key: str, token: str) -> tuple[str, str, str, str]:
    return (service, access_key, secret_key, token)


def test_assumes_the_role_with_the_tenant_tag_and_reuses_the_session() -> None:
    sts = FakeSts(timedelta(hours=1))
    credentials = TenantCredentials(sts, "arn:aws:iam::1:role/tenant-access", make_client)
    first = credentials.client("dynamodb", "tenant-a")
    assert first == ("dynamodb", "AK1", "SK1", "ST1")
    assert credentials.client("dynamodb", "tenant-a") is first
    assert sts.calls == [
        {
            "RoleArn": "arn:aws:iam::1:role/tenant-access",
            "RoleSessionName": "tenant-tenant-a",
            "DurationSeconds": 3600,
            "Tags": [{"Key": "TenantId", "Value": "tenant-a"}],
        }
    ]
    other = credentials.client("dynamodb", "tenant-b")
    assert other[1] == "AK2"
    assert sts.calls[1]["Tags"] == [{"Key": "TenantId", "Value": "tenant-b"}]


def test_a_session_close_to_expiry_is_renewed() -> None:
    sts = FakeSts(timedelta(minutes=4))
    credentials = TenantCredentials(sts, "arn", make_client)
    credentials.client("dynamodb", "t")
    credentials.client("dynamodb", "t")
    assert len(sts.calls) == 2


@pytest.mark.parametrize("bad", ["", "a#b", "a b"])
def test_ids_that_could_break_isolation_get_no_credentials(bad: str) -> None:
    sts = FakeSts(timedelta(hours=1))
    with pytest.raises(ValueError, match="tenantId"):
        TenantCredentials(sts, "arn", make_client).client("dynamodb", bad)
    assert sts.calls == []
