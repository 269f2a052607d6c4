"""API envelopes and error mapping for Powertools REST resolvers.

Success: {"data": ...}; lists add {"pagination": {...}}; errors: {"error": {"code", "message", "details"?}}.

Bad input is a 4xx, never a 500: a request body is checked here, once, before any handler reads it
(size 413, media type 415, UTF-8 and JSON 400, nesting 400), and `responses()` declares each route's
statuses and envelopes for the OpenAPI documents (`tenancy.common.openapi` completes them).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from re import Match
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel

from tenancy.common.dynamo import Page
from tenancy.common.errors import (
    PayloadTooLargeError,
    TenancyError,
    TooManyRequestsError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)
from tenancy.common.fields import EMAIL_PATTERN, NAME_PATTERN, TEXT_PATTERN
from tenancy.common.keys import ID_MAX_LENGTH, ID_PATTERN
from tenancy.common.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

JSON = "application/json"
MAX_BODY_BYTES = 16 * 1024
# Deeper JSON is refused (DynamoDB stores documents at most 32 levels deep; no body here needs more).
MAX_BODY_DEPTH = 32
_LOCATIONS = {"body": "body", "query": "query", "path": "path", "header": "header"}
# What a refused pattern means, said in words instead of the regular expression.
_PATTERN_MESSAGES = {
    TEXT_PATTERN: "must not contain control characters",
    NAME_PATTERN: "must not contain control characters nor start or end with a space",
    EMAIL_PATTERN: "must be an email address (no spaces or control characters)",
}


class RestResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, handing routes their path parameters as API Gateway decoded them.

    Powertools matches routes against `event.path`, which API Gateway leaves percent-encoded
    (`/tenants/abc%2B2p`), and would pass the still-encoded text to the route; API Gateway's own
    `pathParameters` hold the decoded values (`abc+2p`), and those are what the route gets.
    """

    def _convert_matches_into_route_keys(self, match: Match[str]) -> dict[str, str]:
        decoded = self.current_event.path_parameters or {}
        return {name: decoded.get(name, unquote(value)) for name, value in match.groupdict().items()}


def _json(status: int, payload: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=json.dumps(payload, separators=(",", ":")))


def router() -> Router:
    """One domain's routes, included by its API's resolver (`include_router`)."""
    return Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


# Parameters every API declares the same way: an id in a path, and a page's size and cursor.
PathId = Annotated[str, Path(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2048)]


def _plain(data: Any) -> Any:
    """A model as the API shows it: the attributes it holds (stored ones included), JSON-typed."""
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json", by_alias=True, exclude_unset=True, warnings=False)
    return data


def ok(data: Any, status: int = 200) -> Response[str]:
    return _json(status, {"data": _plain(data)})


def no_content() -> Response[str]:
    return Response(status_code=204, body="")


def page(found: Page[Any], *, limit: int) -> Response[str]:
    return _json(
        200,
        {
            "data": [_plain(item) for item in found.items],
            "pagination": {"limit": limit, "next_cursor": found.next_cursor, "has_next": found.has_next},
        },
    )


def error(status: int, code: str, message: str, details: Any = None) -> Response[str]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return _json(status, {"error": body})


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic errors as [{field, location, message}], the field named as the client spelled it."""
    details = []
    # An optional field (`X | None`, "leave it out to keep it") that fails reports one error per
    # branch of the union, located at `field.<branch>`: the None branch's is noise, and the other
    # is about the field itself.
    optional = {
        tuple(str(part) for part in item["loc"][:-1])
        for item in errors
        if item.get("type") == "none_required" and item.get("loc") and str(item["loc"][-1]) == "none"
    }
    for item in errors:
        loc = [str(part) for part in item.get("loc", ())]
        if tuple(loc[:-1]) in optional:
            if item.get("type") == "none_required":
                continue
            loc = loc[:-1]
        location = _LOCATIONS.get(loc[0], "body") if loc else "body"
        field = ".".join(loc[1:]) or location
        message = str(item.get("msg", "invalid"))
        if item.get("type") == "string_pattern_mismatch":
            message = _PATTERN_MESSAGES.get(str((item.get("ctx") or {}).get("pattern")), message)
        details.append({"field": field, "location": location, "message": message})
    return details


def _on_validation_error(exc: RequestValidationError) -> Response[str]:
    errors = list(exc.errors())
    if any(item.get("type") == "json_invalid" for item in errors):
        return error(
            400,
            "BAD_REQUEST",
            "request body is not valid JSON",
            [{"field": "body", "message": "invalid JSON"}],
        )
    details = validation_details(errors)
    fields = ", ".join(sorted({d["field"] for d in details}))
    return error(422, "VALIDATION_ERROR", f"invalid request: {fields}", details)


def _on_tenancy_error(exc: TenancyError) -> Response[str]:
    if exc.status_code >= 500:
        logger.exception("request failed")
    response = error(exc.status_code, exc.code, exc.message, exc.details)
    if isinstance(exc, TooManyRequestsError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _on_unexpected(exc: Exception) -> Response[str]:
    logger.exception("unhandled error")
    return error(500, "INTERNAL_ERROR", "internal error")


def _bad_request(message: str, detail: str) -> Response[str]:
    return error(400, "BAD_REQUEST", message, [{"field": "body", "message": detail}])


def _header(event: Mapping[str, Any], name: str) -> str | None:
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == name), None)


def _too_deep(document: Any) -> bool:
    stack = [(document, 1)] if isinstance(document, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > MAX_BODY_DEPTH:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


# Routes (API Gateway resource paths) whose bodies may be larger than MAX_BODY_BYTES, and how large.
_LARGER_BODIES: dict[str, int] = {}


def allow_body(resource: str, max_bytes: int) -> None:
    """Let the route `resource` (e.g. `/secrets/{name}`) take bodies up to `max_bytes`."""
    _LARGER_BODIES[resource] = max_bytes


def check_body(event: dict[str, Any]) -> Response[str] | None:
    """The refusal of a request body no handler should read, or None (the body is JSON text, and
    the event now carries it decoded). API Gateway passes any body through, so this is where a body
    that is too large (413), not JSON by its Content-Type (415), not UTF-8 or not JSON (400) or
    nested deeper than MAX_BODY_DEPTH (400) stops, before validation or a handler sees it."""
    body = event.get("body")
    if not body:
        return None
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return _bad_request("request body is not valid base64", "invalid base64")
    else:
        raw = str(body).encode("utf-8", "surrogatepass")
    max_bytes = _LARGER_BODIES.get(str(event.get("resource") or ""), MAX_BODY_BYTES)
    if len(raw) > max_bytes:
        return error(413, PayloadTooLargeError.code, f"request body is larger than {max_bytes} bytes")
    content_type = _header(event, "content-type")
    if content_type is not None:
        media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
        charset = next(
            (p.partition("=")[2].strip('"') for p in parameters if p.startswith("charset=")), "utf-8"
        )
        if media_type != JSON or charset != "utf-8":
            return error(
                415,
                UnsupportedMediaTypeError.code,
                "request body must be application/json (UTF-8)",
                [{"field": "Content-Type", "location": "header", "message": "must be application/json"}],
            )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _bad_request("request body is not valid UTF-8", "not valid UTF-8")
    try:
        parsed = json.loads(text)
        too_deep = _too_deep(parsed)
    except RecursionError:  # deeper than the parser goes: far deeper than MAX_BODY_DEPTH
        parsed, too_deep = None, True
    except ValueError:
        return _bad_request("request body is not valid JSON", "invalid JSON")
    if too_deep:
        return _bad_request(
            f"request body is nested more than {MAX_BODY_DEPTH} levels deep",
            f"nested more than {MAX_BODY_DEPTH} levels",
        )
    if not isinstance(parsed, dict):  # every body of both APIs is one object; Powertools took an
        return error(  # array's first element for it, silently dropping the rest
            422,
            ValidationFailedError.code,
            "request body must be a JSON object",
            [{"field": "body", "location": "body", "message": "must be a JSON object"}],
        )
    # What validation reads next: the text, and the media type as Powertools spells it.
    event["body"], event["isBase64Encoded"] = text, False
    for field, value in (("headers", JSON), ("multiValueHeaders", [JSON])):
        for key in list(event.get(field) or {}):
            if key.lower() == "content-type":
                event[field][key] = value
    return None


def _proxy(response: Response[str]) -> dict[str, Any]:
    content_type = response.headers.get("Content-Type", JSON)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": content_type},
        "multiValueHeaders": {"Content-Type": [content_type]},
        "body": response.body,
        "isBase64Encoded": False,
    }


# Every answer of both APIs is JSON: a browser must never sniff one into HTML (a card's rendered
# HTML, a name a user chose), nor run anything if an answer is opened as a page.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
}


def _secured(result: dict[str, Any]) -> dict[str, Any]:
    multi = result.get("multiValueHeaders")
    for name, value in SECURITY_HEADERS.items():
        if isinstance(multi, dict):
            multi[name] = [value]
        else:
            result.setdefault("headers", {})[name] = value
    return result


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve a REST proxy event, refusing a bad body before validation reads it; every answer
    carries SECURITY_HEADERS."""
    refused = check_body(event)
    return _secured(_proxy(refused) if refused is not None else app.resolve(event, context))


# --- OpenAPI -----------------------------------------------------------------------------------

COMPONENTS = "#/components/schemas/"
# What each status means, for every route that answers it.
_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    202: "Accepted: the change has started; the resource shows its progress",
    204: "Done; no content",
    400: "Bad request: the body is not UTF-8 or not JSON, is nested too deeply, or a cursor or a "
    "value is invalid for this request (details name it)",
    401: "No valid token",
    403: "Not allowed",
    404: "No such resource (or not this caller's)",
    409: "Conflict with the current state (the error code says which)",
    413: f"Request body larger than {MAX_BODY_BYTES} bytes",
    415: "Request body is not application/json (UTF-8)",
    422: "Invalid request: details name each field, its location and what is wrong",
}
TOO_MANY_REQUESTS = (
    "Too many requests: the tenant's request rate (`RATE_LIMITED`) or its daily quota "
    "(`QUOTA_EXCEEDED`) is spent; nothing was done. Retry after `Retry-After` seconds"
)
# What every response of a rate-limited API carries once its limiter admitted the request (IETF
# draft "RateLimit header fields for HTTP"), and what a 429 adds.
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "The limit closest to exhaustion: the tenant's burst (requests at once) or its "
    "daily quota (requests per UTC day), whichever has fewer requests left",
    "RateLimit-Remaining": "Requests that limit still admits now",
    "RateLimit-Reset": "Seconds until that limit is whole again (the burst refilled, or 00:00 UTC)",
}
RETRY_AFTER_HEADER = {
    "Retry-After": "Seconds to wait: until a request fits the rate again (`RATE_LIMITED`), or "
    "until 00:00 UTC (`QUOTA_EXCEEDED`)"
}


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {JSON: {"schema": schema}}


def with_headers(
    documented: dict[int, OpenAPIResponse], status: int, headers: Mapping[str, str]
) -> dict[int, OpenAPIResponse]:
    """`documented` with string response headers (name: description) declared on `status`."""
    documented[status].setdefault("headers", {}).update(
        {name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()}
    )
    return documented


def responses(
    status: int,
    data: str | None = None,
    *,
    errors: Iterable[int] = (),
    body: bool = False,
    page: bool = False,
    links: Mapping[str, Iterable[str]] | None = None,
) -> dict[int, OpenAPIResponse]:
    """A route's documented answers: `status` with `{"data": <data>}` (`{"data": [...],
    "pagination"}` when `page`; no content when `data` is None), then `{"error"}` for each of
    `errors`, 422 always (validation), and 400/413/415 when the route reads a `body`.

    `data` names a schema under components (see tenancy.common.openapi). `links` maps a field of the
    returned data to the operation ids that take it as their path parameter of the same name.
    """
    documented: dict[int, OpenAPIResponse] = {}
    if data is None:  # an empty content map: Powertools would otherwise document the return type
        documented[status] = {"description": _DESCRIPTIONS[status], "content": {}}
    else:
        item: dict[str, Any] = {"$ref": COMPONENTS + data}
        properties: dict[str, Any] = {"data": item}
        if page:
            properties = {
                "data": {"type": "array", "items": item},
                "pagination": {"$ref": COMPONENTS + "Pagination"},
            }
        envelope = {"type": "object", "required": sorted(properties), "properties": properties}
        documented[status] = {"description": _DESCRIPTIONS[status], "content": _json_content(envelope)}
    if links:
        documented[status]["links"] = {
            operation[0].upper() + operation[1:]: {
                "operationId": operation,
                "parameters": {field: f"$response.body#/data/{field}"},
            }
            for field, operations in links.items()
            for operation in operations
        }
    failures = {*errors, 422, *((400, 413, 415) if body else ())}
    for code in sorted(failures):
        documented[code] = {
            "description": _DESCRIPTIONS[code],
            "content": _json_content({"$ref": COMPONENTS + "ErrorResponse"}),
        }
    return documented


def install(app: APIGatewayRestResolver) -> None:
    """Wire the envelope-producing error handlers into a resolver (bodies are checked by resolve)."""
    app.exception_handler(RequestValidationError)(_on_validation_error)
    app.exception_handler(TenancyError)(_on_tenancy_error)
    app.exception_handler(Exception)(_on_unexpected)
    app.not_found()(lambda _exc: error(404, "NOT_FOUND", "no such route"))
