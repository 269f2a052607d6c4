"""API Gateway on localhost: each HTTP request becomes the REST proxy event API Gateway would send,
runs the route's function in-process, and its response is returned as API Gateway returns it.

IAM-authorized routes require a valid SigV4 signature for the local credentials (403 otherwise),
exactly as the deployed control plane does.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localcloud.apigateway import AuthorizerCache, apply_authorizer, match_route, rest_proxy_event
from localcloud.runtime import FunctionRuntime, Invocation
from localcloud.sigv4 import SignatureError, verify
from tenancy_infra.topology import FUNCTIONS, ApiTrigger, AuthorizerTrigger, FunctionSpec

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's own limit
Observer = Callable[[Invocation, str, Any], None]
AdminHandler = Callable[[str, str, bytes], tuple[int, dict[str, Any]]]


def api_functions() -> list[FunctionSpec]:
    return [spec for spec in FUNCTIONS if isinstance(spec.trigger, ApiTrigger)]


class Gateway:
    def __init__(
        self,
        runtime: FunctionRuntime,
        secrets: Mapping[str, str],
        observe: Observer,
        admin: AdminHandler | None = None,
        stage: str = "local",
    ) -> None:
        self.runtime = runtime
        self.secrets = secrets
        self.observe = observe
        self.admin = admin
        self.stage = stage
        self.functions = api_functions()
        # As deployed: each authorizer's answers are cached per token for its result TTL.
        self.authorizer_caches = {
            spec.name: AuthorizerCache(spec.trigger.result_ttl_seconds)
            for spec in FUNCTIONS
            if isinstance(spec.trigger, AuthorizerTrigger)
        }

    def observe_failure(self, method: str, path: str, error: Exception) -> None:
        import traceback

        traceback.print_exception(error)

    def _authorize(self, authorizer: str, event: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """Run the route's REQUEST authorizer as API Gateway does (None: allowed)."""

        def invoke(authorizer_event: dict[str, Any]) -> tuple[Any, BaseException | None]:
            invocation = self.runtime.invoke(authorizer, authorizer_event, 10)
            self.observe(invocation, "authorizer", authorizer_event)
            return invocation.result, invocation.error

        return apply_authorizer(invoke, event, self.authorizer_caches.get(authorizer))

    def handle(
        self, method: str, raw_path: str, headers: Mapping[str, list[str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        split = urlsplit(raw_path)
        if split.path.startswith("/_localcloud/") and self.admin is not None:
            status, payload = self.admin(method, split.path, body)
            return _json(status, payload)
        if len(body) > MAX_PAYLOAD_BYTES:
            return _json(413, {"message": "Request Too Long"})
        path = split.path
        for spec in self.functions:
            trigger = spec.trigger
            assert isinstance(trigger, ApiTrigger)
            matched = match_route(trigger.routes, method, path)
            if matched is None:
                continue
            route, params = matched
            single = {name: values[-1] for name, values in headers.items()}
            identity: dict[str, Any] = {}
            if trigger.authorization == "IAM":
                host = single.get("Host") or single.get("host") or "localhost"
                try:
                    caller = verify(
                        method=method,
                        url=f"http://{host}{raw_path}",
                        headers=single,
                        body=body,
                        secrets=self.secrets,
                    )
                except SignatureError as bad_signature:
                    return _json(403, {"message": str(bad_signature)})
                identity = {
                    "accessKey": caller.access_key,
                    "accountId": caller.account_id,
                    "caller": caller.access_key,
                    "user": caller.access_key,
                    "userArn": caller.user_arn,
                }
            event = rest_proxy_event(
                method=method,
                path=path,
                resource=route.path,
                path_parameters=params,
                query=parse_qs(split.query, keep_blank_values=True),
                headers=headers,
                body=body or None,
                stage=self.stage,
                identity=identity,
            )
            if trigger.authorization == "CUSTOM" and trigger.authorizer:
                refused = self._authorize(trigger.authorizer, event)
                if refused is not None:
                    return _json(*refused)
            invocation = self.runtime.invoke(spec.name, event, spec.timeout_seconds)
            self.observe(invocation, f"{method} {path}", event)
            if invocation.error is not None or not isinstance(invocation.result, dict):
                return _json(502, {"message": "Internal server error"})
            return _proxy_response(invocation.result)
        # API Gateway answers an unknown resource or method this way, before any authorization.
        return _json(403, {"message": "Missing Authentication Token"})


def _json(status: int, payload: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json")], json.dumps(payload).encode()


def _proxy_response(result: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    for name, values in multi.items():
        headers += [(name, str(v)) for v in values]
    for name, value in (result.get("headers") or {}).items():
        if name not in multi:
            headers.append((name, str(value)))
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return int(result.get("statusCode", 200)), headers, raw


class _Handler(BaseHTTPRequestHandler):
    gateway: Gateway
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, a kept-alive connection
    # waits out the client's delayed ACK (about 40 ms) on every response.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name, []).append(value)
        try:
            status, response_headers, payload = self.gateway.handle(self.command, self.path, headers, body)
        except Exception as error:  # the gateway itself failed: answer as API Gateway would, and say why
            self.gateway.observe_failure(self.command, self.path, error)
            status, response_headers, payload = _json(500, {"message": "Internal server error"})
        self.send_response(status)
        for name, value in response_headers:
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the gateway (http.server would answer one it has no do_<METHOD> for,
        # TRACE or QUERY, with its own 501 HTML page); API Gateway answers a method no route
        # declares with its JSON 403, like an unknown path.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a burst of concurrent clients saw connection resets
    # (API Gateway never refuses a connection); moto's port listens with 128.
    request_queue_size = 128


def serve(gateway: Gateway, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("GatewayHandler", (_Handler,), {"gateway": gateway})
    server = _Server((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="api-gateway", daemon=True).start()
    return server
