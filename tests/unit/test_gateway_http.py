"""The local API Gateway over HTTP: any method reaches it and gets API Gateway's JSON answer, and
path parameters are decoded as API Gateway decodes them."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from localcloud.apigateway import match_route
from localcloud.gateway import Gateway, serve
from localcloud.runtime import FunctionRuntime
from tenancy_infra.topology import ApiTrigger, function

MISSING_TOKEN = {"message": "Missing Authentication Token"}


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    gateway = Gateway(FunctionRuntime(), {"test": "test"}, lambda *_: None)
    server = serve(gateway, "127.0.0.1", 0)
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def call(port: int, method: str, path: str) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path)
        reply = connection.getresponse()
        return reply.status, reply.getheader("Content-Type") or "", reply.read()
    finally:
        connection.close()


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "PUT", "CONNECT", "PROPFIND", "OPTIONS"])
@pytest.mark.parametrize("path", ["/tenants", "/tenants/abc", "/agents", "/nowhere"])
def test_a_method_no_route_declares_is_api_gateways_json_403(port: int, method: str, path: str) -> None:
    status, content_type, body = call(port, method, path)
    assert (status, content_type, json.loads(body)) == (403, "application/json", MISSING_TOKEN)


def test_head_gets_the_headers_and_no_body(port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("HEAD", "/tenants")
        reply = connection.getresponse()
        assert (reply.status, reply.read()) == (403, b"")
        # the connection is still usable: no stray body was sent after the headers
        connection.request("TRACE", "/tenants")
        assert json.loads(connection.getresponse().read()) == MISSING_TOKEN
    finally:
        connection.close()


def test_the_gateway_sends_without_waiting_for_delayed_acks() -> None:
    """Nagle's algorithm held each kept-alive answer for about 40 ms (a delayed ACK); the latency
    itself is a benchmark's business, the socket option is what this checks."""
    from localcloud.gateway import _Handler

    assert _Handler.disable_nagle_algorithm is True


@pytest.mark.parametrize(
    ("path", "decoded"),
    [
        ("/tenants/abc%2B2p/retry", "abc+2p"),
        ("/tenants/abc+2p/retry", "abc+2p"),  # `+` is not a space in a path
        ("/tenants/a%23b/retry", "a#b"),
        ("/tenants/a%2Fb/retry", "a/b"),
        ("/tenants/caf%C3%A9/retry", "café"),
    ],
)
def test_path_parameters_are_decoded_as_api_gateway_decodes_them(path: str, decoded: str) -> None:
    trigger = function("tenant_api").trigger
    assert isinstance(trigger, ApiTrigger)
    matched = match_route(trigger.routes, "POST", path)
    assert matched is not None
    assert matched[1] == {"tenantId": decoded}


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/cards/preview", ("POST", "/cards/preview", {})),  # static over {cardId}
        ("PATCH", "/cards/c1", ("PATCH", "/cards/{cardId}", {"cardId": "c1"})),
        ("POST", "/cards/c1/execute", ("POST", "/cards/{cardId}/execute", {"cardId": "c1"})),
    ],
)
def test_the_most_specific_resource_is_chosen_across_the_apis_functions(
    method: str, path: str, expected: tuple[str, str, dict[str, str]]
) -> None:
    routes = [route for name in ("app_api", "analytics_api") for route in function(name).trigger.routes]  # type: ignore[union-attr]
    matched = match_route(routes, method, path)
    assert matched is not None
    assert (matched[0].method, matched[0].path, matched[1]) == expected


def test_a_method_the_chosen_resource_lacks_is_no_route() -> None:
    """API Gateway picks the resource first: PATCH /cards/preview is not PATCH /cards/{cardId}."""
    routes = [route for name in ("app_api", "analytics_api") for route in function(name).trigger.routes]  # type: ignore[union-attr]
    assert match_route(routes, "PATCH", "/cards/preview") is None
    assert match_route(routes, "DELETE", "/cards/preview") is None
    assert match_route(routes, "GET", "/cards/preview") is None  # a card id "preview" is unreachable


def test_a_burst_of_connections_is_queued_not_reset(port: int) -> None:
    """socketserver's default backlog of 5 reset connections of 30 concurrent clients."""
    from concurrent.futures import ThreadPoolExecutor

    from localcloud.gateway import _Server

    assert _Server.request_queue_size >= 128

    def ask(_: int) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/nowhere")
            return connection.getresponse().status
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=60) as pool:
        assert set(pool.map(ask, range(120))) == {403}
