"""tenancy.common.http's request checks, on proxy events as API Gateway sends them: the body a handler may
read (size, media type, UTF-8, JSON, nesting) and path parameters as API Gateway decoded them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from localcloud.apigateway import rest_proxy_event
from tenancy.common import http as api


def event(
    body: str | None, *, encoded: bool = False, content_type: str | None = "application/json"
) -> dict[str, Any]:
    headers = {"Content-Type": [content_type]} if content_type is not None else {}
    made = rest_proxy_event(method="POST", path="/things", resource="/things", headers=headers)
    made["body"], made["isBase64Encoded"] = body, encoded
    return made


def refusal(made: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    response = api.check_body(made)
    return None if response is None else (response.status_code, json.loads(str(response.body))["error"])


NOT_UTF8 = {
    "code": "BAD_REQUEST",
    "message": "request body is not valid UTF-8",
    "details": [{"field": "body", "message": "not valid UTF-8"}],
}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_no_body_and_a_json_body_pass_unchanged() -> None:
    assert refusal(event(None)) is None
    assert refusal(event("")) is None
    made = event('{"name": "Café"}')
    assert refusal(made) is None
    assert (made["body"], made["isBase64Encoded"]) == ('{"name": "Café"}', False)


def test_a_base64_body_is_handed_on_decoded() -> None:
    made = event(b64('{"name": "Café"}'.encode()), encoded=True)
    assert refusal(made) is None
    assert (made["body"], made["isBase64Encoded"]) == ('{"name": "Café"}', False)


@pytest.mark.parametrize("raw", [b"\xff", b'"\xc0\xaf"', b'"\xed\xa0\x80"', b'"caf\xe9"'])
def test_bytes_that_are_not_utf8_are_400(raw: bytes) -> None:
    assert refusal(event(b64(raw), encoded=True)) == (400, NOT_UTF8)


def test_a_text_body_holding_a_lone_surrogate_is_not_utf8() -> None:
    assert refusal(event('"\udc80"')) == (400, NOT_UTF8)


def test_broken_base64_is_400() -> None:
    assert refusal(event("not base64!", encoded=True))[0] == 400  # type: ignore[index]


def test_the_size_limit_counts_decoded_bytes() -> None:
    limit = api.MAX_BODY_BYTES
    assert refusal(event(b64(b" " * limit), encoded=True)) == (
        400,
        {
            "code": "BAD_REQUEST",
            "message": "request body is not valid JSON",
            "details": [{"field": "body", "message": "invalid JSON"}],
        },
    )
    assert refusal(event(b64(b" " * (limit + 1)), encoded=True))[0] == 413  # type: ignore[index]
    assert refusal(event("é" * (limit // 2 + 1)))[0] == 413  # type: ignore[index]


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8", None],
)
def test_json_media_types_pass_and_are_spelt_for_validation(content_type: str | None) -> None:
    made = event("{}", content_type=content_type)
    assert refusal(made) is None
    if content_type is not None:
        assert made["headers"]["Content-Type"] == "application/json"
        assert made["multiValueHeaders"]["Content-Type"] == ["application/json"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/json; charset=latin-1"],
)
def test_other_media_types_are_415(content_type: str) -> None:
    assert refusal(event("{}", content_type=content_type)) == (
        415,
        {
            "code": "UNSUPPORTED_MEDIA_TYPE",
            "message": "request body must be application/json (UTF-8)",
            "details": [
                {"field": "Content-Type", "location": "header", "message": "must be application/json"}
            ],
        },
    )


def test_nesting_is_limited_to_32_levels() -> None:
    def nested(depth: int) -> str:
        return "[" * depth + "]" * depth

    assert refusal(event('{"a": ' + nested(31) + "}")) is None
    too_deep = (
        400,
        {
            "code": "BAD_REQUEST",
            "message": "request body is nested more than 32 levels deep",
            "details": [{"field": "body", "message": "nested more than 32 levels"}],
        },
    )
    assert refusal(event(nested(33))) == too_deep
    assert refusal(event('{"a": ' + nested(32) + "}")) == too_deep
    assert refusal(event(nested(8_000))) == too_deep  # deeper than the parser recurses


def test_a_body_is_one_json_object() -> None:
    """Every body of both APIs is an object: an array used to pass with its first element read as
    the body (and the rest dropped), so anything else is refused before validation."""
    not_an_object = (
        422,
        {
            "code": "VALIDATION_ERROR",
            "message": "request body must be a JSON object",
            "details": [{"field": "body", "location": "body", "message": "must be a JSON object"}],
        },
    )
    for body in ("null", "1", '"x"', "[]", '[{"name": "a"}]'):
        assert refusal(event(body)) == not_an_object
    assert refusal(event('{"name": "a"}')) is None


def test_routes_get_path_parameters_as_api_gateway_decoded_them() -> None:
    app = api.RestResolver(enable_validation=True)
    seen: list[str] = []

    @app.get("/things/<thingId>")
    def get_thing(thingId: str) -> dict[str, str]:
        seen.append(thingId)
        return {}

    made = rest_proxy_event(
        method="GET",
        path="/things/abc%2B2p",
        resource="/things/{thingId}",
        path_parameters={"thingId": "abc+2p"},
    )
    assert app.resolve(made, None)["statusCode"] == 200
    made = rest_proxy_event(method="GET", path="/things/a%20b", resource="/things/{thingId}")
    assert app.resolve(made, None)["statusCode"] == 200  # no pathParameters: decoded from the path
    assert seen == ["abc+2p", "a b"]


def _headers(answer: dict[str, Any]) -> dict[str, str]:
    merged = dict(answer.get("headers") or {})
    merged.update({name: values[-1] for name, values in (answer.get("multiValueHeaders") or {}).items()})
    return merged


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/things", None, 200),  # a route's answer
        ("GET", "/nowhere", None, 404),  # no such route
        ("POST", "/things", "{not json", 400),  # refused before validation
        ("POST", "/things", '{"name": 3}', 422),  # refused by validation
    ],
)
def test_every_answer_is_json_a_browser_will_not_sniff_or_run(
    method: str, path: str, body: str | None, status: int
) -> None:
    """A card's rendered HTML travels inside JSON; opened as a page, no answer may run as HTML."""
    from pydantic import BaseModel

    app = api.RestResolver(enable_validation=True)
    api.install(app)

    class Thing(BaseModel):
        name: str

    @app.get("/things")
    def things() -> dict[str, Any]:
        return {"html": "<script>alert(1)</script>"}

    @app.post("/things")
    def add(thing: Thing) -> dict[str, Any]:
        return {"name": thing.name}

    made = rest_proxy_event(
        method=method, path=path, resource=path, headers={"Content-Type": ["application/json"]}, body=body
    )
    answer = api.resolve(app, made, None)
    assert answer["statusCode"] == status
    headers = _headers(answer)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'; sandbox"
    assert headers["Content-Type"].startswith("application/json")
