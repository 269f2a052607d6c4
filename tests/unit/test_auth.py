"""Token verification: only a Cognito ID token of this pool and client, signed RS256, unexpired."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tenancy.application.access.tokens import (
    JwksCache,
    TokenVerifier,
    api_wide_resource,
    bearer_token,
    context_from_claims,
)
from tenancy.common.errors import Forbidden, Unauthenticated
from tenancy.contracts.context import TenantContext

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
CLIENT = "client-1"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(private: Any, kid: str) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return {**public, "kid": kid, "alg": "RS256", "use": "sig"}


JWKS = {"keys": [jwk(KEY, "k1")]}


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": CLIENT,
        "token_use": "id",
        "iat": now,
        "exp": now
        + 86_400,  # a day: tokens are made when tests are collected, long before a slow run uses them
        "cognito:username": "user-1",
        "custom:tenantId": "tenant-1",
        "custom:role": "admin",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], key: Any = KEY, kid: str = "k1", alg: str = "RS256") -> str:
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(ISSUER, CLIENT, JwksCache(lambda: JWKS))


def test_a_valid_id_token_gives_the_tenant_context(verifier: TokenVerifier) -> None:
    context = context_from_claims(verifier.verify(sign(claims())))
    assert context == TenantContext("tenant-1", "user-1", "admin")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (sign(claims(exp=int(time.time()) - 1)), "expired"),
        (sign(claims(iss="https://cognito-idp.us-east-1.amazonaws.com/other_pool")), "issuer"),
        (sign(claims(aud="other-client")), "(?i)audience"),
        (sign(claims(token_use="access")), "ID token"),
        (sign(claims(token_use=None)), "token_use"),
        (sign(claims(), key=OTHER_KEY), "Signature"),
        (sign(claims(), key=OTHER_KEY, kid="unknown"), "unknown key"),
        ("not.a.jwt", "malformed"),
    ],
    ids=[
        "expired",
        "other-pool",
        "other-client",
        "access-token",
        "no-token-use",
        "forged",
        "unknown-kid",
        "garbage",
    ],
)
def test_tokens_that_must_not_pass(verifier: TokenVerifier, token: str, reason: str) -> None:
    with pytest.raises(Unauthenticated, match=reason):
        verifier.verify(token)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_alg_none_and_hs256_with_the_public_key_are_refused(verifier: TokenVerifier) -> None:
    unsigned = f"{_b64({'alg': 'none', 'kid': 'k1'})}.{_b64(claims())}."
    with pytest.raises(Unauthenticated, match="algorithm 'none'"):
        verifier.verify(unsigned)
    # the classic confusion attack: HS256 "signed" with the RSA public key as the HMAC secret
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    body = f"{_b64({'alg': 'HS256', 'kid': 'k1', 'typ': 'JWT'})}.{_b64(claims())}"
    signature = (
        base64.urlsafe_b64encode(hmac.new(public_pem, body.encode(), hashlib.sha256).digest())
        .decode()
        .rstrip("=")
    )
    with pytest.raises(Unauthenticated, match="algorithm 'HS256'"):
        verifier.verify(f"{body}.{signature}")


def test_keys_are_fetched_once_and_refreshed_for_an_unknown_kid() -> None:
    fetches: list[int] = []

    def fetch() -> dict[str, Any]:
        fetches.append(1)
        return JWKS

    cache = JwksCache(fetch)
    cache.key("k1")
    cache.key("k1")
    assert len(fetches) == 1
    with pytest.raises(Unauthenticated):
        cache.key("rotated")
    assert len(fetches) == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"custom:tenantId": None},
        {"cognito:username": None},
        {"custom:role": "owner"},
        {"custom:role": None},
    ],
)
def test_a_token_without_a_tenant_membership_is_forbidden(bad: dict[str, Any]) -> None:
    with pytest.raises(Forbidden):
        context_from_claims(claims(**bad))


def test_bearer_header_parsing() -> None:
    assert bearer_token({"Authorization": "Bearer abc"}) == "abc"
    assert bearer_token({"authorization": "abc"}) == "abc"
    with pytest.raises(Unauthenticated):
        bearer_token({})


def test_the_policy_covers_every_route_of_the_stage() -> None:
    arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/agents/a1"
    assert api_wide_resource(arn) == "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*/*"


def test_the_app_api_refuses_a_request_without_authorizer_context() -> None:
    with pytest.raises(Unauthenticated):
        TenantContext.from_authorizer_context({})
    assert TenantContext.from_authorizer_context(
        {"tenantId": "t", "userId": "u", "role": "member", "tier": "PRO", "principalId": "u"}
    ) == TenantContext("t", "u", "member", "PRO")
