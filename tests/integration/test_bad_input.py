"""Bad input is a 4xx, never a 500, on both APIs: what fuzzing the OpenAPI documents and hand-made
requests found (issue 9). Each refusal has its exact status and envelope, and writes nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from tests.helpers import api as api_helper
from tests.helpers.api import ApiClient, ApiResponse
from tests.helpers.cloud import Cloud
from tests.integration.conftest import admin_of, new_tenant

VALID = {"name": "Acme", "slug": "acme", "tier": "PRO", "adminEmail": "admin@acme.example"}
NOT_UTF8 = {
    "code": "BAD_REQUEST",
    "message": "request body is not valid UTF-8",
    "details": [{"field": "body", "message": "not valid UTF-8"}],
}
TOO_DEEP = {
    "code": "BAD_REQUEST",
    "message": "request body is nested more than 32 levels deep",
    "details": [{"field": "body", "message": "nested more than 32 levels"}],
}
NOT_JSON_MEDIA = {
    "code": "UNSUPPORTED_MEDIA_TYPE",
    "message": "request body must be application/json (UTF-8)",
    "details": [{"field": "Content-Type", "location": "header", "message": "must be application/json"}],
}
CONTROL = "must not contain control characters"
NAME = "must not contain control characters nor start or end with a space"
# Bytes no UTF-8 decoder accepts: Latin-1 text, a lone continuation byte, an overlong "/" (C0 AF),
# an overlong NUL (C0 80, "modified UTF-8"), and a UTF-8-encoded surrogate (ED A0 80).
NOT_UTF8_BODIES = [
    b'{"name": "Caf\xe9", "version": 1}',
    b'{"name": "\x80", "version": 1}',
    b'{"name": "\xc0\xaf", "version": 1}',
    b'{"name": "a\xc0\x80b", "version": 1}',
    b'{"name": "\xed\xa0\x80", "version": 1}',
]


def request(
    client: ApiClient, method: str, url: str, raw: str | bytes, headers: dict[str, str] | None = None
) -> ApiResponse:
    """`client.request`, with `headers` replacing the ones the helper sends (Content-Type)."""
    if not headers:
        return client.request(method, url, raw=raw)
    build = api_helper.rest_proxy_event

    def with_headers(**fields: Any) -> dict[str, Any]:
        fields["headers"] = {**fields["headers"], **{name: [value] for name, value in headers.items()}}
        return build(**fields)

    api_helper.rest_proxy_event = with_headers  # type: ignore[assignment]
    try:
        return client.request(method, url, raw=raw)
    finally:
        api_helper.rest_proxy_event = build


def nested(depth: int) -> str:
    """A JSON object whose `name` holds lists `depth` levels deep in all (the object is level 1)."""
    return '{"name": ' + "[" * (depth - 1) + "]" * (depth - 1) + ', "version": 1}'


# --- the control plane ---------------------------------------------------------------------------


@pytest.fixture
def target(request: pytest.FixtureRequest, api: ApiClient) -> str:
    """POST /tenants, or PATCH of an existing tenant."""
    if request.param == "POST":
        return "/tenants"
    return f"/tenants/{new_tenant(api, 'existing')['tenantId']}"


def send(api: ApiClient, url: str, raw: str | bytes, headers: dict[str, str] | None = None) -> ApiResponse:
    method = "POST" if url == "/tenants" else "PATCH"
    return request(api, method, url, raw, headers)


BOTH = pytest.mark.parametrize("target", ["POST", "PATCH"], indirect=True)


@BOTH
@pytest.mark.parametrize(
    "raw", NOT_UTF8_BODIES, ids=["latin1", "continuation", "overlong", "nul", "surrogate"]
)
def test_a_body_that_is_not_utf8_is_400_naming_the_body(
    api: ApiClient, cloud: Cloud, target: str, raw: bytes
) -> None:
    before = cloud.control_items()
    response = send(api, target, raw)
    assert (response.status, response.error) == (400, NOT_UTF8)
    assert cloud.control_items() == before


@BOTH
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
    ],
)
def test_a_body_that_is_not_json_by_content_type_is_415(
    api: ApiClient, cloud: Cloud, target: str, content_type: str
) -> None:
    before = cloud.control_items()
    body = json.dumps({**VALID, "version": 1} if target != "/tenants" else VALID)
    response = send(api, target, body, {"Content-Type": content_type})
    assert (response.status, response.error) == (415, NOT_JSON_MEDIA)
    assert cloud.control_items() == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_content_types_are_accepted_in_any_spelling(api: ApiClient, content_type: str) -> None:
    assert request(api, "POST", "/tenants", json.dumps(VALID), {"Content-Type": content_type}).status == 201


@BOTH
@pytest.mark.parametrize("depth", [33, 5_000])
def test_a_body_nested_too_deeply_is_400(api: ApiClient, cloud: Cloud, target: str, depth: int) -> None:
    before = cloud.control_items()
    response = send(api, target, nested(depth))
    assert (response.status, response.error) == (400, TOO_DEEP)
    assert cloud.control_items() == before


def test_a_body_32_levels_deep_passes_the_check_and_meets_validation(api: ApiClient) -> None:
    response = api.post("/tenants", raw=nested(32))
    assert response.status == 422
    assert "name" in [d["field"] for d in response.error["details"]]


@pytest.mark.parametrize(
    "version", ["1e40", "1e16", "1.5", '"3"', "true", "100000000000000000000000000000000000000000"]
)
def test_version_must_be_a_json_integer_in_range(api: ApiClient, cloud: Cloud, version: str) -> None:
    tenant = new_tenant(api)
    before = cloud.control_items()
    response = api.patch(f"/tenants/{tenant['tenantId']}", raw=f'{{"name": "Renamed", "version": {version}}}')
    assert response.status == 422
    assert response.error["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in response.error["details"]] == ["version"]
    assert cloud.control_items() == before


def test_an_integral_number_is_an_integer_as_json_schema_says(api: ApiClient) -> None:
    tenant = new_tenant(api)
    renamed = api.patch(f"/tenants/{tenant['tenantId']}", raw='{"name": "Renamed", "version": 1.0}')
    assert (renamed.status, renamed.data["version"]) == (200, 2)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "Ac\x00me", NAME),
        ("name", "Ac\x1bme", NAME),
        ("name", "Acme\x7f", NAME),
        ("name", "Ac\x85me", NAME),
        ("name", "Ac\tme", NAME),
        ("name", "Ac\nme", NAME),
        ("name", " Acme", NAME),
        ("name", "Acme ", NAME),
        (
            "adminEmail",
            "ad\x00min@acme.example",
            "must be an email address (no spaces or control characters)",
        ),
    ],
)
def test_control_characters_are_refused_in_text_fields(
    api: ApiClient, cloud: Cloud, field: str, value: str, message: str
) -> None:
    response = api.post("/tenants", {**VALID, field: value})
    assert response.status == 422
    assert response.error["details"] == [{"field": field, "location": "body", "message": message}]
    assert cloud.control_items() == []


def test_a_rename_to_a_control_character_is_refused(api: ApiClient, cloud: Cloud) -> None:
    tenant = new_tenant(api)
    before = cloud.control_items()
    response = api.patch(f"/tenants/{tenant['tenantId']}", {"name": "x\x00", "version": 1})
    assert response.status == 422
    assert response.error["details"] == [{"field": "name", "location": "body", "message": NAME}]
    assert cloud.control_items() == before


def test_a_lone_surrogate_escape_is_refused(api: ApiClient, cloud: Cloud) -> None:
    response = api.post("/tenants", raw=json.dumps(VALID).replace('"Acme"', '"Ac\\ud800me"'))
    assert response.status == 422
    assert [d["field"] for d in response.error["details"]] == ["name"]
    assert cloud.control_items() == []


def test_printable_unicode_names_are_kept_as_sent(api: ApiClient) -> None:
    assert new_tenant(api, "unicode", name="Café Zürich 東京 \u3000x")["name"] == "Café Zürich 東京 \u3000x"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/tenants/abc%2B2p"), ("POST", "/tenants/abc%2B2p/retry"), ("DELETE", "/tenants/abc%2B2p")],
)
def test_percent_encoded_path_ids_reach_the_handler_decoded(api: ApiClient, method: str, path: str) -> None:
    response = api.request(method, path)
    assert response.status == 404
    assert response.error == {
        "code": "NOT_FOUND",
        "message": "tenant abc+2p not found",
        "details": {"tenantId": "abc+2p"},
    }


def test_a_cursor_holding_deeply_nested_json_is_400(api: ApiClient) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * 1500).decode().rstrip("=")
    response = api.get(f"/tenants?cursor={cursor}")
    assert response.status == 400
    assert response.error["details"] == [{"field": "cursor", "message": "cursor is invalid"}]


# --- the application plane ---------------------------------------------------------------------


@pytest.fixture
def admin(cloud: Cloud, app: ApiClient, onboard: Any) -> ApiClient:
    onboard("acme")
    return admin_of(cloud, app, "acme")


def app_items(cloud: Cloud) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=cloud.settings.app_table_name)["Items"]


def test_the_app_api_refuses_bad_bodies_with_4xx_and_writes_nothing(cloud: Cloud, admin: ApiClient) -> None:
    agent = admin.post("/agents", {"name": "triage"}).data
    executions = f"/agents/{agent['agentId']}/executions"
    before = app_items(cloud)
    for path in ("/agents", executions):
        for raw in NOT_UTF8_BODIES:
            refused = admin.post(path, raw=raw)
            assert (refused.status, refused.error) == (400, NOT_UTF8), (path, raw)
        refused = request(admin, "POST", path, "{}", {"Content-Type": "text/plain"})
        assert (refused.status, refused.error) == (415, NOT_JSON_MEDIA), path
        refused = admin.post(path, raw='{"input": ' + "[" * 5_000 + "]" * 5_000 + "}")
        assert (refused.status, refused.error) == (400, TOO_DEEP), path
    assert app_items(cloud) == before


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "tri\x00age"}, "name", NAME),
        ({"name": "triage", "description": "sorts\x07tickets"}, "description", CONTROL),
        ({"name": "triage", "description": "line\nbreak"}, "description", CONTROL),
        ({"name": "triage", "model": "gpt\x1b[31m"}, "model", CONTROL),
    ],
)
def test_the_app_api_refuses_control_characters(
    cloud: Cloud, admin: ApiClient, body: dict[str, Any], field: str, message: str
) -> None:
    before = app_items(cloud)
    response = admin.post("/agents", body)
    assert response.status == 422
    assert response.error["details"] == [{"field": field, "location": "body", "message": message}]
    assert app_items(cloud) == before


def test_the_app_api_versions_are_json_integers(cloud: Cloud, admin: ApiClient) -> None:
    agent = admin.post("/agents", {"name": "triage"}).data
    url = f"/agents/{agent['agentId']}"
    execution = admin.post(f"{url}/executions", {}).data
    before = app_items(cloud)
    for version in ('"1"', "1.5", "1e40", "true"):
        response = admin.patch(url, raw=f'{{"name": "renamed", "version": {version}}}')
        assert response.status == 422, version
        assert [d["field"] for d in response.error["details"]] == ["version"]
        moved = admin.patch(
            f"/executions/{execution['executionId']}", raw=f'{{"status": "RUNNING", "version": {version}}}'
        )
        assert moved.status == 422, version
        assert [d["field"] for d in moved.error["details"]] == ["version"]
    assert admin.patch(url, {"name": None, "version": 1}).status == 422  # a change is never null
    assert app_items(cloud) == before


def test_app_api_path_ids_reach_the_handler_decoded(admin: ApiClient) -> None:
    response = admin.get("/agents/abc%2B2p")
    assert response.status == 404
    assert response.error["code"] == "NOT_FOUND"
    assert "abc+2p" in response.error["message"]


@pytest.mark.parametrize(
    "raw",
    [
        "[]",
        '[{"name": "Acme", "slug": "acme", "tier": "PRO", "adminEmail": "a@acme.example"}]',
        '"hello"',
        "42",
        "null",
    ],
)
def test_a_body_that_is_not_one_json_object_is_422_and_creates_nothing(
    api: ApiClient, cloud: Cloud, raw: str
) -> None:
    """An array holding a valid tenant used to create it (Powertools read the first element)."""
    response = api.post("/tenants", raw=raw)
    assert response.status == 422, response.body
    assert response.error["code"] == "VALIDATION_ERROR"
    assert response.error["details"] == [
        {"field": "body", "location": "body", "message": "must be a JSON object"}
    ]
    assert cloud.control_items() == []
