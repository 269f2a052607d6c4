"""The OpenAPI documents of the two APIs, complete: what `make openapi` writes and the e2e fuzzing
run tests against.

Powertools generates each operation from its handler (parameters, request body, and the statuses
`tenancy.common.http.responses` declares). This adds what the handlers do not hold: the envelope and view
schemas those statuses refer to, API Gateway's own answers (401/403 `{"message"}`, before any
handler runs), the security scheme, and the notes on where the API departs from REST habits.
Never imported by a handler (no cold-start cost).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from tenancy.common.http import (
    COMPONENTS,
    JSON,
    RATE_LIMIT_HEADERS,
    RETRY_AFTER_HEADER,
    TOO_MANY_REQUESTS,
)

ENVELOPES: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "stable, e.g. VALIDATION_ERROR, SLUG_TAKEN"},
            "message": {"type": "string"},
            "details": {"description": "which field, and why: a list of {field, location?, message}"},
        },
    },
    "ErrorResponse": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"$ref": COMPONENTS + "Error"}},
        "additionalProperties": False,
    },
    "Pagination": {
        "type": "object",
        "required": ["limit", "next_cursor", "has_next"],
        "properties": {
            "limit": {"type": "integer", "minimum": 1},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "pass it as `cursor` for the next page; opaque, bound to this query",
            },
            "has_next": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    "GatewayError": {
        "type": "object",
        "required": ["message"],
        "properties": {"message": {"type": ["string", "null"]}},
        "description": "API Gateway's own answer, before any handler runs",
    },
}
# API Gateway's answers on every route, by authorization type.
GATEWAY_STATUSES = {
    "IAM": {403: "Missing, invalid or expired SigV4 signature"},
    "CUSTOM": {
        401: "No token, or not a valid one",
        403: "The token's tenant is not PROVISIONED, or its policy denies this route",
    },
}
SECURITY = {
    "IAM": {
        "sigv4": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "description": "AWS Signature Version 4 for the service execute-api (IAM authorization)",
            "x-amazon-apigateway-authtype": "awsSigv4",
        }
    },
    "CUSTOM": {
        "idToken": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "the Cognito ID token of a user of the tenant",
        }
    },
}
NOTES = (
    "Success: `{data}`; lists `{data, pagination}`; errors `{error: {code, message, details}}`. "
    "A request body must be `application/json` in UTF-8 (415 otherwise), at most 16 KiB (413), "
    "valid JSON nested at most 32 levels (400); text fields refuse control characters (422). "
    "Like every API Gateway REST API, a method a path does not declare (PUT, TRACE, ...) is "
    "answered 403 `Missing Authentication Token`, not 405."
)


def _view_schemas(views: Mapping[str, type[BaseModel]]) -> dict[str, Any]:
    _, top = models_json_schema(
        [(model, "serialization") for model in views.values()], ref_template=COMPONENTS + "{model}"
    )
    schemas: dict[str, Any] = top["$defs"]
    return schemas


def _referenced(root: Any, schemas: dict[str, Any]) -> set[str]:
    """The component schemas `root` refers to, directly or through other components."""
    found: set[str] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(COMPONENTS):
                name = ref.removeprefix(COMPONENTS)
                if name not in found:
                    found.add(name)
                    pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def _headers(described: Mapping[str, str]) -> dict[str, Any]:
    return {name: {"description": text, "schema": {"type": "string"}} for name, text in described.items()}


def _add_rate_limits(answers: dict[str, Any]) -> None:
    for status, answer in answers.items():
        if status.startswith("2"):
            answer.setdefault("headers", {}).update(_headers(RATE_LIMIT_HEADERS))
    answers["429"] = {
        "description": TOO_MANY_REQUESTS,
        "headers": _headers({**RETRY_AFTER_HEADER, **RATE_LIMIT_HEADERS}),
        "content": {JSON: {"schema": {"$ref": COMPONENTS + "ErrorResponse"}}},
    }


def document(
    app: APIGatewayRestResolver,
    *,
    title: str,
    authorization: str,
    views: Mapping[str, type[BaseModel]],
    rate_limited: bool = False,
) -> dict[str, Any]:
    """The OpenAPI document of an API function's resolver; `authorization` is its trigger's (IAM or
    CUSTOM), which decides the security scheme and API Gateway's own answers. `views` are the
    models its answers are documented with, by the name `http.responses` gives them.
    `rate_limited`: every request passes a limiter before its route (the app API's
    `tenancy.application.quotas.middleware`), so every operation answers 429, and its successes
    carry the `RateLimit-*` headers."""
    doc: dict[str, Any] = json.loads(app.get_openapi_json_schema(title=title, description=NOTES))
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in {**ENVELOPES, **_view_schemas(views)}.items():
        if name in schemas and schemas[name] != schema:
            raise ValueError(f"two different schemas are named {name}")
        schemas[name] = schema
    gateway = {"$ref": COMPONENTS + "GatewayError"}
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            answers = operation["responses"]
            for answer in answers.values():
                if answer.get("content") == {}:
                    del answer["content"]  # no body (204)
            for status, description in GATEWAY_STATUSES[authorization].items():
                declared = answers.get(str(status))
                if declared is None:
                    answers[str(status)] = {
                        "description": description,
                        "content": {JSON: {"schema": gateway}},
                    }
                else:  # the handler answers it too (a member on an admin route): either shape
                    declared["description"] += f"; or API Gateway's: {description}"
                    handler = declared["content"][JSON]["schema"]
                    declared["content"][JSON]["schema"] = {"anyOf": [handler, gateway]}
            if rate_limited:
                _add_rate_limits(answers)
            operation["responses"] = dict(sorted(answers.items()))
    # Only what this API's operations use (Powertools' own 422 shapes are replaced by the envelope).
    used = _referenced(doc["paths"], schemas)
    doc["components"]["schemas"] = {name: schemas[name] for name in sorted(used)}
    doc["components"]["securitySchemes"] = SECURITY[authorization]
    doc["security"] = [{name: []} for name in SECURITY[authorization]]
    return doc
