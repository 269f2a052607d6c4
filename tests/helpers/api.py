"""Call an API handler in-process the way API Gateway would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localcloud.apigateway import match_route, rest_proxy_event
from tenancy_infra.topology import function
from tests.helpers.cloud import FakeLambdaContext


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
    def __init__(self, handler: ModuleType, function_name: str) -> None:
        self._handler = handler
        self._routes = function(function_name).trigger.routes  # type: ignore[union-attr]

    def request(self, method: str, url: str, body: Any = None, raw: str | bytes | None = None) -> ApiResponse:
        parts = urlsplit(url)
        matched = match_route(self._routes, method, parts.path)
        resource, params = (matched[0].path, matched[1]) if matched else (parts.path, {})
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        event = rest_proxy_event(
            method=method,
            path=parts.path,
            resource=resource,
            path_parameters=params,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={"Content-Type": ["application/json"]},
            body=payload,
        )
        result = self._handler.lambda_handler(event, FakeLambdaContext())
        text = result.get("body") or "null"
        return ApiResponse(result["statusCode"], json.loads(text), result.get("headers") or {})

    def post(self, url: str, body: Any = None, **kw: Any) -> ApiResponse:
        return self.request("POST", url, body, **kw)

    def get(self, url: str) -> ApiResponse:
        return self.request("GET", url)

    def patch(self, url: str, body: Any = None, **kw: Any) -> ApiResponse:
        return self.request("PATCH", url, body, **kw)

    def delete(self, url: str) -> ApiResponse:
        return self.request("DELETE", url)
