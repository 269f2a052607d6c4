"""The local cloud's emulation of API Gateway's authorizer results cache (per token, for the TTL)."""

from __future__ import annotations

from typing import Any

from localcloud.apigateway import AuthorizerCache, apply_authorizer, rest_proxy_event

API_WIDE = "arn:aws:execute-api:us-east-1:123456789012:local/local/*/*"


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class Authorizer:
    """A stand-in authorizer function answering `effect` (or failing with `error`), counting calls."""

    def __init__(self, effect: str = "Allow", error: BaseException | None = None) -> None:
        self.effect = effect
        self.error = error
        self.calls = 0

    def __call__(self, event: dict[str, Any]) -> tuple[Any, BaseException | None]:
        self.calls += 1
        if self.error is not None:
            return None, self.error
        statement = {"Action": "execute-api:Invoke", "Effect": self.effect, "Resource": API_WIDE}
        return {
            "principalId": "u1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            "context": {"tenantId": "t1", "userId": "u1", "role": "member", "tier": "PRO"},
        }, None


def request(token: str = "Bearer one", method: str = "GET", path: str = "/agents") -> dict[str, Any]:
    return rest_proxy_event(method=method, path=path, resource=path, headers={"Authorization": [token]})


def test_an_allow_is_served_from_the_cache_until_the_ttl_has_passed() -> None:
    clock, authorizer = Clock(), Authorizer()
    cache = AuthorizerCache(60, clock)
    assert apply_authorizer(authorizer, request(), cache) is None
    authorizer.effect = "Deny"  # what the function would answer now
    clock.now += 59.9
    event = request(method="POST", path="/agents")
    assert apply_authorizer(authorizer, event, cache) is None  # the cached, API-wide Allow
    assert event["requestContext"]["authorizer"]["tenantId"] == "t1"
    assert authorizer.calls == 1
    clock.now += 0.1
    refused = apply_authorizer(authorizer, request(), cache)
    assert refused is not None
    assert refused[0] == 403
    assert authorizer.calls == 2


def test_a_deny_is_cached_too_and_each_token_has_its_own_entry() -> None:
    clock, authorizer = Clock(), Authorizer("Deny")
    cache = AuthorizerCache(60, clock)
    assert apply_authorizer(authorizer, request(), cache) == (
        403,
        {"message": "User is not authorized to access this resource with an explicit deny"},
    )
    authorizer.effect = "Allow"
    assert apply_authorizer(authorizer, request(), cache) is not None
    assert apply_authorizer(authorizer, request("Bearer two"), cache) is None
    assert authorizer.calls == 2


def test_unauthorized_and_failures_are_not_cached() -> None:
    cache = AuthorizerCache(60, Clock())
    unauthorized = Authorizer(error=Exception("Unauthorized"))
    for _ in range(2):
        assert apply_authorizer(unauthorized, request(), cache) == (401, {"message": "Unauthorized"})
    assert unauthorized.calls == 2
    broken = Authorizer(error=RuntimeError("boom"))
    for _ in range(2):
        failed = apply_authorizer(broken, request(), cache)
        assert failed is not None
        assert failed[0] == 500
    assert broken.calls == 2


def test_a_ttl_of_zero_calls_the_authorizer_every_time() -> None:
    authorizer = Authorizer()
    cache = AuthorizerCache(0, Clock())
    for _ in range(3):
        assert apply_authorizer(authorizer, request(), cache) is None
    assert authorizer.calls == 3


def test_without_an_identity_source_the_authorizer_is_not_called() -> None:
    authorizer = Authorizer()
    event = rest_proxy_event(method="GET", path="/agents", resource="/agents", headers={})
    assert apply_authorizer(authorizer, event, AuthorizerCache(60)) == (401, {"message": "Unauthorized"})
    assert authorizer.calls == 0
