"""Call an API function in-process the way API Gateway would (authorizer included)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localcloud.apigateway import AuthorizerCache, apply_authorizer, match_route, rest_proxy_event
from localcloud.runtime import FunctionRuntime
from tenancy_infra.topology import ApiTrigger, function


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def data(self) -> Any:
        return self.body["data"]

    @property
    def error(self) -> dict[str, Any]:
        return self.body["error"]


class ApiClient:
    def __init__(
        self,
        runtime: FunctionRuntime,
        function_name: str,
        token: str | None = None,
        authorizer_cache: AuthorizerCache | None = None,
    ) -> None:
        """`authorizer_cache`: API Gateway's cache of the authorizer's answers, shared by every
        client made from this one with as_user; None (the default) calls the authorizer every time."""
        self._runtime = runtime
        self._name = function_name
        trigger = function(function_name).trigger
        assert isinstance(trigger, ApiTrigger)
        self._trigger = trigger
        self.token = token
        self.authorizer_cache = authorizer_cache

    def as_user(self, token: str | None) -> ApiClient:
        return ApiClient(self._runtime, self._name, token, self.authorizer_cache)

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        raw: str | bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        parts = urlsplit(url)
        matched = match_route(self._trigger.routes, method, parts.path)
        resource, params = (matched[0].path, matched[1]) if matched else (parts.path, {})
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        sent = {"Content-Type": ["application/json"]}
        if self.token is not None:
            sent["Authorization"] = [f"Bearer {self.token}"]
        sent.update({name: [value] for name, value in (headers or {}).items()})
        event = rest_proxy_event(
            method=method,
            path=parts.path,
            resource=resource,
            path_parameters=params,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=sent,
            body=payload,
        )
        if self._trigger.authorization == "CUSTOM" and self._trigger.authorizer:
            authorizer = self._trigger.authorizer

            def invoke(authorizer_event: dict[str, Any]) -> tuple[Any, BaseException | None]:
                invocation = self._runtime.invoke(authorizer, authorizer_event)
                return invocation.result, invocation.error

            refused = apply_authorizer(invoke, event, self.authorizer_cache)
            if refused is not None:
                return ApiResponse(refused[0], refused[1], {})
        invocation = self._runtime.invoke(self._name, event)
        if invocation.error is not None:
            raise invocation.error
        result = invocation.result
        text = result.get("body") or "null"
        headers = {
            name: values[-1] for name, values in (result.get("multiValueHeaders") or {}).items() if values
        }
        return ApiResponse(
            result["statusCode"], json.loads(text), {**headers, **(result.get("headers") or {})}
        )

    def post(self, url: str, body: Any = None, **kw: Any) -> ApiResponse:
        return self.request("POST", url, body, **kw)

    def get(self, url: str) -> ApiResponse:
        return self.request("GET", url)

    def put(self, url: str, body: Any = None, **kw: Any) -> ApiResponse:
        return self.request("PUT", url, body, **kw)

    def patch(self, url: str, body: Any = None, **kw: Any) -> ApiResponse:
        return self.request("PATCH", url, body, **kw)

    def delete(self, url: str) -> ApiResponse:
        return self.request("DELETE", url)
