"""API Gateway on localhost: each HTTP request becomes the REST proxy event API Gateway would send,
runs the route's function in-process, and its response is returned as API Gateway returns it.

IAM-authorized routes require a valid SigV4 signature for the local credentials (403 otherwise),
exactly as the deployed control plane does.

The same port serves Lambda's Invoke API (`POST /2015-03-31/functions/<name>/invocations`,
RequestResponse) for the functions with an InvokeTrigger (the card executor): the local cloud sets
AWS_ENDPOINT_URL_LAMBDA to it, so `client("lambda").invoke(...)` runs the function in-process as
Lambda would run it. SigV4 (service `lambda`) is checked; an unknown function, or one not invoked
that way, is Lambda's 404 ResourceNotFoundException; a function error is a 200 with
`X-Amz-Function-Error: Unhandled` and Lambda's error payload.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import traceback
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from localcloud.apigateway import AuthorizerCache, apply_authorizer, match_route, rest_proxy_event
from localcloud.runtime import FunctionRuntime, Invocation
from localcloud.sigv4 import SignatureError, verify
from tenancy_infra.topology import (
    FUNCTIONS,
    ApiRoute,
    ApiTrigger,
    AuthorizerTrigger,
    FunctionSpec,
    InvokeTrigger,
    function,
)

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's own limit
# Lambda's synchronous invocation payloads (request and response): 6 MB.
MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
ACCOUNT_ID = "123456789012"
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
        invoked_functions: Mapping[str, str] | None = None,
        region: str = "us-east-1",
    ) -> None:
        self.runtime = runtime
        self.secrets = secrets
        self.observe = observe
        self.admin = admin
        self.stage = stage
        self.region = region
        # Lambda Invoke: deployed function name -> topology name, for InvokeTrigger functions only.
        self.invoked_functions = dict(invoked_functions or {})
        for name in self.invoked_functions.values():
            if not isinstance(function(name).trigger, InvokeTrigger):
                raise ValueError(f"{name} is not invoked directly (no InvokeTrigger)")
        self.functions = api_functions()
        self.route_owners = {
            (route.method, route.path): spec
            for spec in self.functions
            if isinstance(spec.trigger, ApiTrigger)
            for route in spec.trigger.routes
        }
        self.routes = [ApiRoute(method, path) for method, path in self.route_owners]
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
        invoke = _INVOKE_PATH.match(split.path)
        if invoke is not None and method == "POST":
            return self._invoke(unquote(invoke["name"]), raw_path, headers, body)
        if len(body) > MAX_PAYLOAD_BYTES:
            return _json(413, {"message": "Request Too Long"})
        path = split.path
        # One API's resources may be split among functions (the app API's: app_api and
        # analytics_api): the resource is chosen among all of them, then the function serving it.
        matched = match_route(self.routes, method, path)
        if matched is None:
            # API Gateway answers an unknown resource or method this way, before any authorization.
            return _json(403, {"message": "Missing Authentication Token"})
        route, params = matched
        spec = self.route_owners[(route.method, route.path)]
        trigger = spec.trigger
        assert isinstance(trigger, ApiTrigger)
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

    def _invoke(
        self, name: str, raw_path: str, headers: Mapping[str, list[str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Lambda's Invoke (RequestResponse) of an InvokeTrigger function, run in-process."""
        single = {header: values[-1] for header, values in headers.items()}
        lowered = {header.lower(): value for header, value in single.items()}
        try:
            verify(
                method="POST",
                url=f"http://{lowered.get('host', 'localhost')}{raw_path}",
                headers=single,
                body=body,
                secrets=self.secrets,
                service="lambda",
            )
        except SignatureError as bad_signature:
            return _lambda_error(403, "InvalidSignatureException", str(bad_signature))
        # A name, or an ARN (arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]).
        short = name.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in name else name
        spec_name = self.invoked_functions.get(short)
        if spec_name is None:
            arn = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{short}"
            return _lambda_error(404, "ResourceNotFoundException", f"Function not found: {arn}")
        invocation_type = lowered.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type != "RequestResponse":
            return _lambda_error(
                400,
                "InvalidParameterValueException",
                "the local cloud serves RequestResponse invocations only",
            )
        if len(body) > MAX_INVOKE_PAYLOAD_BYTES:
            return _lambda_error(
                413,
                "RequestTooLargeException",
                f"{len(body)} byte payload is too large for the RequestResponse invocation type "
                f"(limit {MAX_INVOKE_PAYLOAD_BYTES} bytes)",
            )
        try:
            event = json.loads(body or b"{}")
        except ValueError:
            return _lambda_error(
                400, "InvalidRequestContentException", "Could not parse request body into json"
            )
        spec = function(spec_name)
        invocation = self.runtime.invoke(spec.name, event, spec.timeout_seconds)
        self.observe(invocation, "lambda invoke", event)
        response_headers = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", "$LATEST")]
        if invocation.error is not None:
            error = invocation.error
            payload = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "requestId": "",
                "stackTrace": traceback.format_tb(error.__traceback__),
            }
            response_headers.append(("X-Amz-Function-Error", "Unhandled"))
            return 200, response_headers, json.dumps(payload).encode()
        result = json.dumps(invocation.result).encode()
        if len(result) > MAX_INVOKE_PAYLOAD_BYTES:
            payload = {
                "errorMessage": f"Response payload size ({len(result)} bytes) exceeded maximum allowed "
                f"payload size ({MAX_INVOKE_PAYLOAD_BYTES} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
            response_headers.append(("X-Amz-Function-Error", "Unhandled"))
            return 200, response_headers, json.dumps(payload).encode()
        return 200, response_headers, result


def _lambda_error(status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """An error of the Lambda API itself (botocore raises it as `code`)."""
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    return status, headers, json.dumps({"Type": "User", "message": message}).encode()


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
