"""The OpenAPI documents are generated from the code: every topology route is in them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from localcloud.openapi import documents
from localcloud.runtime import FunctionRuntime
from tenancy.common.fields import NAME_PATTERN
from tenancy.common.http import COMPONENTS
from tenancy_infra.topology import FUNCTIONS, ApiTrigger

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.mark.parametrize(
    "spec", [s for s in FUNCTIONS if isinstance(s.trigger, ApiTrigger)], ids=lambda s: s.name
)
def test_every_route_is_documented(spec: object) -> None:
    trigger = spec.trigger  # type: ignore[attr-defined]
    document = FunctionRuntime().module(spec.name).app.get_openapi_schema(title=spec.name)  # type: ignore[attr-defined]
    paths = document.paths or {}
    documented = {
        (method.upper(), path) for path, item in paths.items() for method in METHODS if getattr(item, method)
    }
    expected = {(route.method, route.path) for route in trigger.routes}
    assert documented == expected


# --- the documents are true: statuses, envelopes, security (issue 9) ----------------------------

API_FUNCTIONS = [s for s in FUNCTIONS if isinstance(s.trigger, ApiTrigger)]


@pytest.fixture(scope="module")
def docs() -> dict[str, dict[str, Any]]:
    return documents()


def operations(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": item[method]
        for path, item in doc["paths"].items()
        for method in METHODS
        if method in item
    }


def schema_of(answer: dict[str, Any]) -> dict[str, Any]:
    return answer["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def test_every_reference_resolves_and_every_component_is_used(docs: dict[str, dict[str, Any]]) -> None:
    for doc in docs.values():
        text = json.dumps(doc)
        refs = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
        assert refs == set(doc["components"]["schemas"])


# Each operation's documented statuses: what the handler answers, plus API Gateway's own.
STATUSES = {
    "tenant_api": {
        "POST /tenants": {201, 400, 403, 409, 413, 415, 422},
        "GET /tenants": {200, 400, 403, 422},
        "GET /tenants/{tenantId}": {200, 403, 404, 422},
        "PATCH /tenants/{tenantId}": {200, 400, 403, 404, 409, 413, 415, 422},
        "DELETE /tenants/{tenantId}": {202, 403, 404, 409, 422},
        "POST /tenants/{tenantId}/retry": {202, 403, 404, 409, 422},
        "GET /tenants/{tenantId}/config": {200, 403, 404, 422},
        "PUT /tenants/{tenantId}/config": {200, 400, 403, 404, 409, 413, 415, 422},
        "PATCH /tenants/{tenantId}/config": {200, 400, 403, 404, 409, 413, 415, 422},
        "GET /tenants/{tenantId}/usage": {200, 403, 404, 422},
    },
    "app_api": {
        "GET /me": {200, 401, 403, 404, 422},  # 404: a removed user, while a cached authorization lasts
        "GET /users": {200, 400, 401, 403, 422},
        "POST /users": {201, 400, 401, 403, 409, 413, 415, 422},
        "GET /users/{userId}": {200, 401, 403, 404, 422},
        "PATCH /users/{userId}": {200, 400, 401, 403, 404, 409, 413, 415, 422},
        "DELETE /users/{userId}": {204, 401, 403, 404, 409, 422},
        "GET /agents": {200, 400, 401, 403, 422},
        "POST /agents": {201, 400, 401, 403, 409, 413, 415, 422},  # 409: LIMIT_REACHED
        "GET /agents/{agentId}": {200, 401, 403, 404, 422},
        "PATCH /agents/{agentId}": {200, 400, 401, 403, 404, 409, 413, 415, 422},
        "DELETE /agents/{agentId}": {204, 401, 403, 404, 422},
        "POST /agents/{agentId}/executions": {201, 400, 401, 403, 404, 413, 415, 422},
        "GET /agents/{agentId}/executions": {200, 400, 401, 403, 404, 422},
        "GET /executions/{executionId}": {200, 401, 403, 404, 422},
        "PATCH /executions/{executionId}": {200, 400, 401, 403, 404, 409, 413, 415, 422},
        "GET /audit": {200, 400, 401, 403, 422},
        "GET /usage": {200, 401, 403, 422},
        "GET /config": {200, 401, 403, 422},
        # 403: FORBIDDEN (not an admin) or FEATURE_DISABLED (the plan's `secrets` flag is off)
        "GET /secrets": {200, 400, 401, 403, 422},
        "PUT /secrets/{name}": {200, 400, 401, 403, 413, 415, 422},
        "GET /secrets/{name}": {200, 401, 403, 404, 422},
        "DELETE /secrets/{name}": {204, 401, 403, 404, 422},
        # groups: members read, admins write (403); 409 GROUP_NAME_TAKEN / VERSION_CONFLICT /
        # ALREADY_MEMBER / LIMIT_REACHED; a group being deleted is a 404
        "GET /groups": {200, 400, 401, 403, 422},
        "POST /groups": {201, 400, 401, 403, 409, 413, 415, 422},
        "GET /groups/{groupId}": {200, 401, 403, 404, 422},
        "PATCH /groups/{groupId}": {200, 400, 401, 403, 404, 409, 413, 415, 422},
        "DELETE /groups/{groupId}": {204, 401, 403, 404, 422},
        "GET /groups/{groupId}/members": {200, 400, 401, 403, 404, 422},
        "POST /groups/{groupId}/members": {201, 400, 401, 403, 404, 409, 413, 415, 422},
        "DELETE /groups/{groupId}/members/{userId}": {204, 401, 403, 404, 422},
        # dashboards: 404 is also "no permission on it"; 403 readable but not enough (or the tenant
        # inactive); 409 a stale version (or a delete raced by changes, a card gone from a clone)
        "GET /dashboards": {200, 400, 401, 403, 422},  # 403: ownerId of another user, not an admin
        "POST /dashboards": {201, 400, 401, 403, 413, 415, 422},
        "GET /dashboards/{dashboardId}": {200, 401, 403, 404, 422},
        "PATCH /dashboards/{dashboardId}": {200, 400, 401, 403, 404, 409, 413, 415, 422},
        "DELETE /dashboards/{dashboardId}": {204, 401, 403, 404, 409, 422},
        "POST /dashboards/{dashboardId}/clone": {201, 400, 401, 403, 404, 409, 413, 415, 422},
        "GET /dashboards/{dashboardId}/filter-views": {200, 400, 401, 403, 404, 422},
        "POST /dashboards/{dashboardId}/filter-views": {201, 400, 401, 403, 404, 413, 415, 422},
        "GET /dashboards/{dashboardId}/filter-views/{viewId}": {200, 401, 403, 404, 422},
        "PATCH /dashboards/{dashboardId}/filter-views/{viewId}": {
            200,
            400,
            401,
            403,
            404,
            409,
            413,
            415,
            422,
        },
        "DELETE /dashboards/{dashboardId}/filter-views/{viewId}": {204, 401, 403, 404, 409, 422},
        # shares: owners write, owners and editors read (viewers 403), anyone else 404
        "GET /dashboards/{dashboardId}/shares": {200, 400, 401, 403, 404, 422},
        "POST /dashboards/{dashboardId}/shares": {201, 400, 401, 403, 404, 409, 413, 415, 422},
        "GET /dashboards/{dashboardId}/shares/{shareId}": {200, 401, 403, 404, 422},
        "PATCH /dashboards/{dashboardId}/shares/{shareId}": {200, 400, 401, 403, 404, 409, 413, 415, 422},
        "DELETE /dashboards/{dashboardId}/shares/{shareId}": {204, 401, 403, 404, 422},
        "GET /shared-with-me": {200, 400, 401, 403, 422},
        # cards: owners and admins write; readers through a dashboard 403 on writes, others 404
        "GET /cards": {200, 400, 401, 403, 422},
        "POST /cards": {201, 400, 401, 403, 413, 415, 422},
        "GET /cards/{cardId}": {200, 401, 403, 404, 422},
        "PATCH /cards/{cardId}": {200, 400, 401, 403, 404, 409, 413, 415, 422},
        "DELETE /cards/{cardId}": {204, 401, 403, 404, 409, 422},
        # datasets: every user reads, owners and admins write (others 403); 409 LIMIT_REACHED /
        # VERSION_CONFLICT / DATASET_NO_SOURCE / DATASET_IN_USE / DATASET_NOT_READY; a re-import's
        # copy refused by storage 502, storage unavailable 503
        "GET /datasets": {200, 400, 401, 403, 422},
        "POST /datasets": {201, 400, 401, 403, 409, 413, 415, 422},
        "GET /datasets/{datasetId}": {200, 401, 403, 404, 422},
        "PATCH /datasets/{datasetId}": {200, 400, 401, 403, 404, 409, 413, 415, 422, 502, 503},
        "DELETE /datasets/{datasetId}": {204, 401, 403, 404, 409, 422},
        "POST /datasets/{datasetId}/uploads": {201, 401, 403, 404, 422},
        "GET /datasets/{datasetId}/preview": {200, 401, 403, 404, 409, 422},
    },
    # card execution (analytics_api, on the app API): 404 a card or dashboard the caller may not
    # read; 409 DATASET_NOT_READY; 413 also CARD_INPUT_TOO_LARGE; 422 also the card's own error
    # (CARD_ERROR, CARD_TIMEOUT, ...); 502 EXECUTOR_FAILED. A render answers each card's error in it.
    "analytics_api": {
        "POST /cards/{cardId}/execute": {200, 400, 401, 403, 404, 409, 413, 415, 422, 502},
        "POST /cards/preview": {200, 400, 401, 403, 409, 413, 415, 422, 502},
        "POST /dashboards/{dashboardId}/render": {200, 400, 401, 403, 404, 413, 415, 422},
    },
}
RATE_LIMITED = ("app_api", "analytics_api")  # the APIs on the app API: every request is limited first


@pytest.mark.parametrize("name", list(STATUSES))
def test_every_operation_documents_the_statuses_it_answers(
    docs: dict[str, dict[str, Any]], name: str
) -> None:
    documented = {
        label: {int(code) for code in op["responses"]} for label, op in operations(docs[name]).items()
    }
    # every app API request passes the request limiter first: each operation also answers 429
    limited = {
        label: {*codes, 429} if name in RATE_LIMITED else codes for label, codes in STATUSES[name].items()
    }
    assert documented == limited


@pytest.mark.parametrize("name", list(STATUSES))
def test_answers_are_documented_with_their_envelopes(docs: dict[str, dict[str, Any]], name: str) -> None:
    error, gateway = {"$ref": COMPONENTS + "ErrorResponse"}, {"$ref": COMPONENTS + "GatewayError"}
    for label, operation in operations(docs[name]).items():
        for code, answer in operation["responses"].items():
            status = int(code)
            if status == 204:
                assert "content" not in answer, label
            elif status < 300:
                envelope = schema_of(answer)
                if "pagination" in envelope["properties"]:
                    assert envelope["required"] == ["data", "pagination"], label
                    assert envelope["properties"]["data"]["type"] == "array", label
                else:
                    assert envelope["required"] == ["data"], label
            elif status == 401 or (status == 403 and name == "tenant_api"):
                assert schema_of(answer) == gateway, label  # API Gateway's own answer
            elif status == 403:  # the authorizer, or the handler (TENANT_INACTIVE, an admin route)
                assert schema_of(answer) == {"anyOf": [error, gateway]}, label
            else:
                assert schema_of(answer) == error, (label, status)


def test_the_envelopes_are_components(docs: dict[str, dict[str, Any]]) -> None:
    schemas = docs["tenant_api"]["components"]["schemas"]
    assert schemas["ErrorResponse"]["required"] == ["error"]
    assert schemas["Error"]["required"] == ["code", "message"]
    assert schemas["Pagination"]["required"] == ["limit", "next_cursor", "has_next"]


def test_security_schemes_match_each_apis_authorization(docs: dict[str, dict[str, Any]]) -> None:
    assert docs["tenant_api"]["security"] == [{"sigv4": []}]
    assert (
        docs["tenant_api"]["components"]["securitySchemes"]["sigv4"]["x-amazon-apigateway-authtype"]
        == "awsSigv4"
    )
    assert docs["app_api"]["security"] == [{"idToken": []}]
    assert docs["app_api"]["components"]["securitySchemes"]["idToken"]["scheme"] == "bearer"


def test_text_and_integer_fields_document_what_validation_enforces(docs: dict[str, dict[str, Any]]) -> None:
    schemas = docs["tenant_api"]["components"]["schemas"]
    name = schemas["CreateTenantRequest"]["properties"]["name"]
    assert (name["pattern"], name["minLength"], name["maxLength"]) == (NAME_PATTERN, 1, 100)
    version = schemas["UpdateTenantRequest"]["properties"]["version"]
    assert (version["type"], version["minimum"], version["maximum"]) == ("integer", 1, 2**53 - 1)
    agent = docs["app_api"]["components"]["schemas"]["UpdateAgentRequest"]
    assert agent["minProperties"] == 2  # version and at least one change
    assert "default" not in agent["properties"]["name"]


def test_offboarding_says_the_tenant_stays_readable(docs: dict[str, dict[str, Any]]) -> None:
    assert "tombstone" in operations(docs["tenant_api"])["DELETE /tenants/{tenantId}"]["description"]


def test_creates_link_to_the_operations_on_what_they_created(docs: dict[str, dict[str, Any]]) -> None:
    links = operations(docs["tenant_api"])["POST /tenants"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "getTenant",
        "updateTenant",
        "offboardTenant",
        "retryTenant",
        "getTenantConfig",
    }
    assert all(link["parameters"] == {"tenantId": "$response.body#/data/tenantId"} for link in links.values())
    app = operations(docs["app_api"])
    for label in ("POST /agents", "POST /users", "POST /agents/{agentId}/executions"):
        assert app[label]["responses"]["201"]["links"], label


def test_every_app_operation_documents_the_rate_limit(docs: dict[str, dict[str, Any]]) -> None:
    ratelimit = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
    app_operations = {**operations(docs["app_api"]), **operations(docs["analytics_api"])}
    for label, operation in app_operations.items():
        answers = operation["responses"]
        assert set(answers["429"]["headers"]) == {"Retry-After", *ratelimit}, label
        assert schema_of(answers["429"]) == {"$ref": COMPONENTS + "ErrorResponse"}, label
        for code, answer in answers.items():
            if code.startswith("2"):
                assert ratelimit <= set(answer.get("headers", {})), (label, code)
    for label, operation in operations(docs["tenant_api"]).items():
        assert "429" not in operation["responses"], label  # the control API has no request limiter
