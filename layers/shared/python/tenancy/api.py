"""API envelopes and error mapping for Powertools REST resolvers.

Success: {"data": ...}; lists add {"pagination": {...}}; errors: {"error": {"code", "message", "details"?}}.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from tenancy.errors import PayloadTooLargeError, TenancyError
from tenancy.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

JSON = "application/json"
MAX_BODY_BYTES = 16 * 1024
_LOCATIONS = {"body": "body", "query": "query", "path": "path", "header": "header"}


def _json(status: int, payload: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=json.dumps(payload, separators=(",", ":")))


def ok(data: Any, status: int = 200) -> Response[str]:
    return _json(status, {"data": data})


def no_content() -> Response[str]:
    return Response(status_code=204, body="")


def page(items: list[Any], *, limit: int, next_cursor: str | None) -> Response[str]:
    return _json(
        200,
        {
            "data": items,
            "pagination": {"limit": limit, "next_cursor": next_cursor, "has_next": next_cursor is not None},
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
    for item in errors:
        loc = [str(part) for part in item.get("loc", ())]
        location = _LOCATIONS.get(loc[0], "body") if loc else "body"
        field = ".".join(loc[1:]) or location
        details.append({"field": field, "location": location, "message": str(item.get("msg", "invalid"))})
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
    return error(exc.status_code, exc.code, exc.message, exc.details)


def _on_unexpected(exc: Exception) -> Response[str]:
    logger.exception("unhandled error")
    return error(500, "INTERNAL_ERROR", "internal error")


def too_large(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 413 proxy response when the body exceeds MAX_BODY_BYTES (checked before any parsing)."""
    body = event.get("body") or ""
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
    if size <= MAX_BODY_BYTES:
        return None
    response = error(413, PayloadTooLargeError.code, f"request body is larger than {MAX_BODY_BYTES} bytes")
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": JSON},
        "multiValueHeaders": {"Content-Type": [JSON]},
        "body": response.body,
        "isBase64Encoded": False,
    }


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve a REST proxy event, refusing oversized bodies before validation reads them."""
    return too_large(event) or app.resolve(event, context)


def install(app: APIGatewayRestResolver) -> None:
    """Wire the envelope-producing error handlers and the body-size limit into a resolver."""
    app.exception_handler(RequestValidationError)(_on_validation_error)
    app.exception_handler(TenancyError)(_on_tenancy_error)
    app.exception_handler(Exception)(_on_unexpected)
    app.not_found()(lambda _exc: error(404, "NOT_FOUND", "no such route"))
