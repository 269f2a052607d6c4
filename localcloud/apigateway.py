"""API Gateway REST proxy emulation: route matching and the event API Gateway would send."""

from __future__ import annotations

import base64
import fnmatch
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from tenancy_infra.topology import ApiRoute

_PARAM = re.compile(r"\{(\w+)\+?\}")
_TEXT_TYPES = ("application/json", "text/", "application/xml", "application/x-www-form-urlencoded")


def _specificity(template: str) -> tuple[int, ...]:
    """API Gateway's choice among resources matching one path: at each segment a static one wins
    over a `{variable}` (so `/cards/preview` is chosen over `/cards/{cardId}`)."""
    return tuple(1 if _PARAM.fullmatch(segment) else 0 for segment in template.strip("/").split("/"))


def match_route(routes: Iterable[ApiRoute], method: str, path: str) -> tuple[ApiRoute, dict[str, str]] | None:
    """The route (resource template) matching `method path` (the path as sent, percent-encoded),
    with its path parameters decoded as API Gateway hands them over: `/tenants/abc%2B2p` gives
    `{"tenantId": "abc+2p"}`, while the event's `path` stays encoded.

    As API Gateway does, the resource is chosen first (the most specific template matching the
    path), then the method: a method the chosen resource lacks is no match, even where a less
    specific resource has it (`PATCH /cards/preview` is not `PATCH /cards/{cardId}`)."""
    matching: list[tuple[ApiRoute, dict[str, str]]] = []
    for route in routes:
        pattern = "^" + _PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", route.path) + "/?$"
        found = re.match(pattern, path)
        if found:
            matching.append((route, {name: unquote(value) for name, value in found.groupdict().items()}))
    if not matching:
        return None
    resource = min((route.path for route, _ in matching), key=_specificity)
    for route, params in matching:
        if route.path == resource and route.method == method.upper():
            return route, params
    return None


def rest_proxy_event(
    *,
    method: str,
    path: str,
    resource: str,
    path_parameters: Mapping[str, str] | None = None,
    query: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, Sequence[str]] | None = None,
    body: bytes | str | None = None,
    stage: str = "local",
    source_ip: str = "127.0.0.1",
    identity: Mapping[str, Any] | None = None,
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy event API Gateway builds for one request."""
    multi_headers = {name: list(values) for name, values in (headers or {}).items()}
    multi_query = {name: list(values) for name, values in (query or {}).items()}
    content_type = next((v[0] for k, v in multi_headers.items() if k.lower() == "content-type" and v), "")
    encoded = False
    text: str | None = None
    if isinstance(body, bytes):
        if body and not content_type.startswith(_TEXT_TYPES):
            text, encoded = base64.b64encode(body).decode(), True
        elif body:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text, encoded = base64.b64encode(body).decode(), True
    elif body:
        text = body
    request_id = str(uuid.uuid4())
    now = time.time()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method.upper(),
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "sourceIp": source_ip,
                "userAgent": next(
                    (v[0] for k, v in multi_headers.items() if k.lower() == "user-agent" and v), None
                ),
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "cognitoIdentityPoolId": None,
                "cognitoIdentityId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                **(identity or {}),
            },
            "domainName": "localhost",
            "apiId": "local",
            **({"authorizer": dict(authorizer)} if authorizer else {}),
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def method_arn(event: dict[str, Any], region: str = "us-east-1", account: str = "123456789012") -> str:
    context = event["requestContext"]
    return f"arn:aws:execute-api:{region}:{account}:{context['apiId']}/{context['stage']}/{event['httpMethod']}{event['path']}"


def authorizer_event(event: dict[str, Any]) -> dict[str, Any]:
    """The REQUEST authorizer event API Gateway builds from a proxy request."""
    return {
        "type": "REQUEST",
        "methodArn": method_arn(event),
        **{
            key: event[key]
            for key in (
                "resource",
                "path",
                "httpMethod",
                "headers",
                "multiValueHeaders",
                "queryStringParameters",
                "multiValueQueryStringParameters",
                "pathParameters",
                "stageVariables",
                "requestContext",
            )
        },
    }


class AuthorizerCache:
    """API Gateway's cache of a REQUEST authorizer's answers (its "results cache TTL"): the policy,
    Allow or Deny, with its context, kept per identity-source value (the Authorization header) for
    `ttl_seconds` and matched against each later request's method ARN without calling the function.
    A 401 or a failed invocation is not kept; a TTL of 0 turns caching off, as on API Gateway.
    `clock` is injectable so a test can step past the TTL instead of sleeping."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._results: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, identity: str) -> dict[str, Any] | None:
        with self._lock:
            cached = self._results.get(identity)
            if cached is not None and self._clock() < cached[0]:
                return cached[1]
            return None

    def put(self, identity: str, result: dict[str, Any]) -> None:
        if self.ttl_seconds <= 0:
            return
        now = self._clock()
        with self._lock:
            self._results = {key: kept for key, kept in self._results.items() if kept[0] > now}
            self._results[identity] = (now + self.ttl_seconds, result)


def apply_authorizer(
    invoke: Callable[[dict[str, Any]], tuple[Any, BaseException | None]],
    event: dict[str, Any],
    cache: AuthorizerCache | None = None,
) -> tuple[int, dict[str, str]] | None:
    """Run a REQUEST authorizer as API Gateway does (its answer taken from `cache` while cached). On
    Allow, its context and principal go into event.requestContext.authorizer and None is returned;
    otherwise API Gateway's own answer."""
    identity = next(
        (value for name, value in (event.get("headers") or {}).items() if name.lower() == "authorization"),
        None,
    )
    if not identity:
        return 401, {"message": "Unauthorized"}  # no identity source: the authorizer is not called
    result = cache.get(identity) if cache is not None else None
    if result is None:
        result, error = invoke(authorizer_event(event))
        if error is not None:
            if str(error) == "Unauthorized":
                return 401, {"message": "Unauthorized"}
            return 500, {"message": None}  # type: ignore[dict-item]
        if cache is not None and isinstance(result, dict):
            cache.put(identity, result)
    arn = method_arn(event)
    statements = (result or {}).get("policyDocument", {}).get("Statement", [])

    def matches(statement: dict[str, Any]) -> bool:
        resources = statement.get("Resource", [])
        return any(
            fnmatch.fnmatchcase(arn, r) for r in ([resources] if isinstance(resources, str) else resources)
        )

    if any(s.get("Effect") == "Deny" and matches(s) for s in statements) or not any(
        s.get("Effect") == "Allow" and matches(s) for s in statements
    ):
        return 403, {"message": "User is not authorized to access this resource with an explicit deny"}
    event["requestContext"]["authorizer"] = {
        **(result.get("context") or {}),
        "principalId": result.get("principalId"),
    }
    return None
