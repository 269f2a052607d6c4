"""Per-tenant secrets on the app API (moto): the lifecycle, who may do what, the plan flag, bad input
that writes nothing, tags and key, cross-tenant isolation, logs without values, offboarding."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tenancy.application.secrets.models import MAX_VALUE_BYTES
from tenancy.application.secrets.vault import purge_tenant_secrets
from tenancy.common.observability import logger
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.integration.conftest import admin_of, token_for

VALUE = "sk-live-0123456789abcdef-never-shown"


def tenant_secrets(cloud: Cloud, tenant_id: str) -> list[dict[str, Any]]:
    """Every secret Secrets Manager holds under the tenant's path (scheduled deletions included)."""
    prefix = f"/{cloud.settings.app_name}/{cloud.settings.stage}/tenants/{tenant_id}/"
    found = boto3.client("secretsmanager").list_secrets(IncludePlannedDeletion=True, MaxResults=100)
    return [s for s in found["SecretList"] if s["Name"].startswith(prefix)]


@pytest.fixture
def acme(
    cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]]
) -> tuple[dict[str, Any], ApiClient]:
    tenant = onboard("acme", "PRO")
    return tenant, admin_of(cloud, app, "acme")


def test_put_get_reveal_replace_delete(cloud: Cloud, acme: tuple[dict[str, Any], ApiClient]) -> None:
    tenant, admin = acme
    put = admin.request("PUT", "/secrets/llm-key", {"value": VALUE, "description": "the LLM key"})
    assert put.status == 200, put.body
    assert put.data["name"] == "llm-key"
    assert put.data["description"] == "the LLM key"
    assert put.data["length"] == len(VALUE)
    assert put.data["version"] == 1
    assert put.data["versionId"]
    assert "value" not in put.data
    assert VALUE not in str(put.body)

    listed = admin.get("/secrets")
    assert listed.status == 200
    assert [s["name"] for s in listed.data] == ["llm-key"]
    assert VALUE not in str(listed.body)
    assert listed.body["pagination"]["has_next"] is False

    metadata = admin.get("/secrets/llm-key")
    assert metadata.status == 200
    assert "value" not in metadata.data
    assert VALUE not in str(metadata.body)
    revealed = admin.get("/secrets/llm-key?reveal=true")
    assert revealed.status == 200
    assert revealed.data["value"] == VALUE

    replaced = admin.request("PUT", "/secrets/llm-key", {"value": "second"})
    assert replaced.status == 200
    assert replaced.data["version"] == 2
    assert replaced.data["versionId"] != put.data["versionId"]
    assert admin.get("/secrets/llm-key?reveal=true").data["value"] == "second"

    assert admin.delete("/secrets/llm-key").status == 204
    again = admin.delete("/secrets/llm-key")
    assert again.status == 404
    assert again.error["code"] == "NOT_FOUND"
    assert admin.get("/secrets/llm-key").status == 404
    assert admin.get("/secrets").data == []
    [scheduled] = tenant_secrets(cloud, tenant["tenantId"])
    assert "DeletedDate" in scheduled  # in its recovery window, not gone

    # A name in its recovery window can be put again (restored, then the new value).
    reput = admin.request("PUT", "/secrets/llm-key", {"value": "third"})
    assert reput.status == 200, reput.body
    assert admin.get("/secrets/llm-key?reveal=true").data["value"] == "third"
    [restored] = tenant_secrets(cloud, tenant["tenantId"])
    assert "DeletedDate" not in restored


def test_the_secret_is_tagged_and_encrypted_with_our_key(
    cloud: Cloud, acme: tuple[dict[str, Any], ApiClient]
) -> None:
    tenant, admin = acme
    assert admin.request("PUT", "/secrets/db.url", {"value": "postgres://x"}).status == 200
    described = boto3.client("secretsmanager").describe_secret(
        SecretId=f"/tenancy/{cloud.settings.stage}/tenants/{tenant['tenantId']}/db.url"
    )
    assert cloud.settings.secrets_kms_key_id.startswith("arn:aws:kms:")
    assert described["KmsKeyId"] == cloud.settings.secrets_kms_key_id
    assert {t["Key"]: t["Value"] for t in described["Tags"]} == {
        "TenantId": tenant["tenantId"],
        "Application": cloud.settings.app_name,
        "Stage": cloud.settings.stage,
    }


def test_the_key_the_local_cloud_creates_has_rotation_and_the_alias(cloud: Cloud) -> None:
    kms = boto3.client("kms")
    key = cloud.settings.secrets_kms_key_id
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases[f"alias/tenancy-{cloud.settings.stage}-tenant-secrets"] == key.rsplit("/", 1)[1]


def test_members_read_metadata_but_never_write_or_reveal(
    cloud: Cloud, app: ApiClient, acme: tuple[dict[str, Any], ApiClient]
) -> None:
    tenant, admin = acme
    assert admin.request("PUT", "/secrets/llm-key", {"value": VALUE}).status == 200
    assert admin.post("/users", {"email": "member@acme.example", "role": "member"}).status == 201
    member = app.as_user(token_for(cloud, "member@acme.example"))
    before = tenant_secrets(cloud, tenant["tenantId"])

    for response in (
        member.request("PUT", "/secrets/llm-key", {"value": "hijacked"}),
        member.request("PUT", "/secrets/new-one", {"value": "x"}),
        member.delete("/secrets/llm-key"),
        member.get("/secrets/llm-key?reveal=true"),
    ):
        assert response.status == 403, response.body
        assert response.error["code"] == "FORBIDDEN"
        assert VALUE not in str(response.body)
    assert member.get("/secrets").status == 200
    assert member.get("/secrets/llm-key").status == 200
    assert tenant_secrets(cloud, tenant["tenantId"]) == before
    assert admin.get("/secrets/llm-key?reveal=true").data["value"] == VALUE


def test_a_tenant_without_the_flag_is_refused_and_nothing_is_written(
    cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]]
) -> None:
    tenant = onboard("cheap", "FREE")
    admin = admin_of(cloud, app, "cheap")
    for response in (
        admin.request("PUT", "/secrets/llm-key", {"value": VALUE}),
        admin.get("/secrets"),
        admin.get("/secrets/llm-key"),
        admin.delete("/secrets/llm-key"),
    ):
        assert response.status == 403, response.body
        assert response.error["code"] == "FEATURE_DISABLED"
    assert tenant_secrets(cloud, tenant["tenantId"]) == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/secrets/a%2Fb", 422),  # a/b once API Gateway decodes it
        ("/secrets/..", 422),
        ("/secrets/a..b", 422),
        ("/secrets/" + "x" * 65, 422),
        ("/secrets/sp%20ace", 422),
        ("/secrets/", None),  # empty: no such route
    ],
)
def test_bad_names_are_refused_naming_the_field_and_write_nothing(
    cloud: Cloud, acme: tuple[dict[str, Any], ApiClient], path: str, status: int | None
) -> None:
    tenant, admin = acme
    response = admin.request("PUT", path, {"value": VALUE})
    assert 400 <= response.status < 500, response.body
    if status is not None:
        assert response.status == status
        assert [d["field"] for d in response.error["details"]] == ["name"]
    assert VALUE not in str(response.body)
    assert tenant_secrets(cloud, tenant["tenantId"]) == []
    assert admin.get("/secrets").data == []


def test_values_up_to_the_limit_are_kept_and_larger_ones_refused(
    cloud: Cloud, acme: tuple[dict[str, Any], ApiClient]
) -> None:
    tenant, admin = acme
    over = admin.request("PUT", "/secrets/big", {"value": "v" * (MAX_VALUE_BYTES + 1)})
    assert over.status == 422
    assert [d["field"] for d in over.error["details"]] == ["value"]
    assert "vvvvvvvv" not in str(over.body)
    multibyte = admin.request("PUT", "/secrets/big", {"value": "é" * (MAX_VALUE_BYTES // 2 + 1)})
    assert multibyte.status == 422  # bytes of UTF-8, not characters
    empty = admin.request("PUT", "/secrets/big", {"value": ""})
    assert empty.status == 422
    assert tenant_secrets(cloud, tenant["tenantId"]) == []

    exact = admin.request("PUT", "/secrets/big", {"value": "v" * MAX_VALUE_BYTES})
    assert exact.status == 200
    assert exact.data["length"] == MAX_VALUE_BYTES
    assert len(tenant_secrets(cloud, tenant["tenantId"])) == 1


def test_unknown_fields_are_refused(cloud: Cloud, acme: tuple[dict[str, Any], ApiClient]) -> None:
    tenant, admin = acme
    response = admin.request("PUT", "/secrets/k", {"value": VALUE, "tenantId": "other"})
    assert response.status == 422
    assert tenant_secrets(cloud, tenant["tenantId"]) == []


def test_another_tenant_never_sees_nor_deletes_a_secret_of_the_same_name(
    cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]]
) -> None:
    a, b = onboard("tenant-a", "PRO"), onboard("tenant-b", "ENTERPRISE")
    admin_a, admin_b = admin_of(cloud, app, "tenant-a"), admin_of(cloud, app, "tenant-b")
    assert admin_a.request("PUT", "/secrets/llm-key", {"value": "value-of-a"}).status == 200
    assert admin_b.get("/secrets").data == []
    assert admin_b.get("/secrets/llm-key").status == 404
    assert admin_b.get("/secrets/llm-key?reveal=true").status == 404
    assert admin_b.delete("/secrets/llm-key").status == 404
    assert admin_a.get("/secrets/llm-key?reveal=true").data["value"] == "value-of-a"

    assert admin_b.request("PUT", "/secrets/llm-key", {"value": "value-of-b"}).status == 200
    assert admin_a.get("/secrets/llm-key?reveal=true").data["value"] == "value-of-a"
    assert admin_b.get("/secrets/llm-key?reveal=true").data["value"] == "value-of-b"
    [secret_a] = tenant_secrets(cloud, a["tenantId"])
    [secret_b] = tenant_secrets(cloud, b["tenantId"])
    assert secret_a["ARN"] != secret_b["ARN"]
    assert f"/tenants/{a['tenantId']}/llm-key" in secret_a["ARN"]
    assert f"/tenants/{b['tenantId']}/llm-key" in secret_b["ARN"]

    assert admin_b.delete("/secrets/llm-key").status == 204
    assert admin_a.get("/secrets/llm-key?reveal=true").data["value"] == "value-of-a"
    assert "DeletedDate" not in tenant_secrets(cloud, a["tenantId"])[0]


def test_no_value_in_any_log_line(
    cloud: Cloud, acme: tuple[dict[str, Any], ApiClient], caplog: pytest.LogCaptureFixture
) -> None:
    _, admin = acme
    caplog.set_level(logging.INFO)
    caplog.clear()
    assert admin.request("PUT", "/secrets/llm-key", {"value": VALUE}).status == 200
    assert admin.get("/secrets/llm-key?reveal=true").data["value"] == VALUE
    assert admin.request("PUT", "/secrets/llm-key", {"value": VALUE, "bogus": 1}).status == 422
    assert admin.request("PUT", "/secrets/a..b", {"value": VALUE}).status == 422
    assert admin.delete("/secrets/llm-key").status == 204
    # Every record as the function's log would show it (Powertools' JSON, extra keys included).
    lines = [logger.registered_formatter.format(record) for record in caplog.records]
    assert any('"secret put"' in line for line in lines)
    assert any('"secret revealed"' in line for line in lines)
    assert any('"secret deleted"' in line for line in lines)
    assert not [line for line in lines if VALUE in line]
    assert VALUE not in caplog.text


def test_offboarding_deletes_every_secret_of_the_tenant_only(
    cloud: Cloud, api: ApiClient, app: ApiClient, onboard: Callable[..., dict[str, Any]]
) -> None:
    gone, kept = onboard("leaving", "PRO"), onboard("staying", "ENTERPRISE")
    leaving, staying = admin_of(cloud, app, "leaving"), admin_of(cloud, app, "staying")
    for name in ("one", "two", "three"):
        assert leaving.request("PUT", f"/secrets/{name}", {"value": name}).status == 200
    assert leaving.delete("/secrets/three").status == 204  # scheduled for deletion: purged too
    assert staying.request("PUT", "/secrets/one", {"value": "kept"}).status == 200
    assert len(tenant_secrets(cloud, gone["tenantId"])) == 3

    assert api.delete(f"/tenants/{gone['tenantId']}").status == 202
    cloud.drain()
    assert api.get(f"/tenants/{gone['tenantId']}").data["provisioningStatus"] == "DEPROVISIONED"
    assert tenant_secrets(cloud, gone["tenantId"]) == []
    assert len(tenant_secrets(cloud, kept["tenantId"])) == 1
    assert staying.get("/secrets/one?reveal=true").data["value"] == "kept"
    # A redelivered offboarding finds nothing left to delete.
    settings = cloud.settings
    client = boto3.client("secretsmanager")
    assert purge_tenant_secrets(client, settings.app_name, settings.stage, gone["tenantId"]) == 0
