"""Authentication of tenant users: Cognito ID tokens, verified, become a TenantContext.

The tenant is taken only from the verified token (`custom:tenantId`), never from a request body
or path. The authorizer adds the tenant's tier and refuses tenants that are not PROVISIONED; the
app API reads the context the authorizer handed to API Gateway.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from tenancy.common.errors import Forbidden, Unauthenticated
from tenancy.contracts.context import TenantContext

ALGORITHMS = ["RS256"]
JWKS_CACHE_SECONDS = 3600.0


def issuer_for(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


class JwksCache:
    """The pool's signing keys, fetched once and refreshed when a token names an unknown key."""

    def __init__(
        self, fetch: Callable[[], Mapping[str, Any]], ttl_seconds: float = JWKS_CACHE_SECONDS
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._keys: dict[str, Any] = {}
        self._loaded_at = 0.0

    def key(self, kid: str) -> Any:
        import jwt  # only the authorizer verifies tokens: the app API need not pay for the import

        expired = time.monotonic() - self._loaded_at > self._ttl
        if kid not in self._keys or expired:
            self._keys = {
                k["kid"]: jwt.PyJWK(dict(k)).key for k in self._fetch().get("keys", []) if "kid" in k
            }
            self._loaded_at = time.monotonic()
        if kid not in self._keys:
            raise Unauthenticated("token signed by an unknown key")
        return self._keys[kid]


def fetch_jwks(url: str) -> Callable[[], Mapping[str, Any]]:
    def fetch() -> Mapping[str, Any]:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (a configured https URL)
            return dict(json.load(response))

    return fetch


class TokenVerifier:
    """Verifies a Cognito ID token: RS256 signature, issuer, audience (the app client), token_use, expiry."""

    def __init__(self, issuer: str, client_id: str, keys: JwksCache, leeway_seconds: int = 0) -> None:
        self._issuer = issuer
        self._client_id = client_id
        self._keys = keys
        self._leeway = leeway_seconds

    def verify(self, token: str) -> dict[str, Any]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("malformed token") from None
        if header.get("alg") not in ALGORITHMS:  # never `none`, never HS256 with the public key
            raise Unauthenticated(f"token algorithm {header.get('alg')!r} is not accepted")
        key = self._keys.key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self._client_id,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "aud", "token_use"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"invalid token: {error}") from None
        if claims.get("token_use") != "id":
            raise Unauthenticated("an ID token is required")
        return claims


def context_from_claims(claims: Mapping[str, Any]) -> TenantContext:
    tenant_id = claims.get("custom:tenantId")
    user_id = claims.get("cognito:username")
    role = claims.get("custom:role")
    if not tenant_id or not user_id or role not in ("admin", "member"):
        raise Forbidden("the token carries no tenant membership")
    return TenantContext(str(tenant_id), str(user_id), str(role))


def bearer_token(headers: Mapping[str, str] | None) -> str:
    for name, value in (headers or {}).items():
        if name.lower() == "authorization" and value:
            scheme, _, token = value.partition(" ")
            return token.strip() if scheme.lower() == "bearer" else value.strip()
    raise Unauthenticated("missing Authorization header")


def api_wide_resource(method_arn: str) -> str:
    """`arn:aws:execute-api:<region>:<account>:<api>/<stage>/*/*` from one method's ARN: API Gateway
    caches the policy per token, so it must cover every route the token may call."""
    prefix, _, path = method_arn.partition(":execute-api:")
    region_account_api, *_ = path.split("/", 2)
    stage = path.split("/")[1] if path.count("/") >= 1 else "*"
    return f"{prefix}:execute-api:{region_account_api}/{stage}/*/*"


def policy(
    principal_id: str, effect: str, resource: str, context: Mapping[str, str] | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context:
        response["context"] = dict(context)
    return response
