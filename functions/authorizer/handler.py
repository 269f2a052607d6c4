"""Lambda REQUEST authorizer of the app API: Cognito ID token -> tenant context (or 401/403)."""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event  # noqa: F401 (first: pauses the GC)

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.application.access.authorizer import Members, authorize
from tenancy.application.access.tenant_data import TenantData
from tenancy.application.access.tokens import JwksCache, TokenVerifier, fetch_jwks, issuer_for
from tenancy.common.clients import client, region
from tenancy.common.config import get_settings
from tenancy.common.entry import lambda_entry
from tenancy.common.errors import Unauthenticated
from tenancy.common.observability import logger
from tenancy.control.standing import ControlPlaneStandings
from tenancy.control.store import ControlStore


@lru_cache(maxsize=1)
def verifier() -> TokenVerifier:
    settings = get_settings()
    issuer = issuer_for(region(), settings.user_pool_id)
    keys = JwksCache(fetch_jwks(settings.jwks_url or f"{issuer}/.well-known/jwks.json"))
    return TokenVerifier(issuer, settings.user_pool_client_id, keys)


@lru_cache(maxsize=1)
def members() -> Members:
    """Routes and tenant credentials are cached (as in app_api); the user item itself never is."""
    return Members(TenantData.from_settings(get_settings()))


@lambda_entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return authorize(
            event,
            verifier(),
            ControlPlaneStandings(ControlStore(client("dynamodb"), get_settings().control_table_name)),
            members(),
        )
    except Unauthenticated as refused:
        logger.info("request unauthenticated", reason=refused.message)
        raise Exception("Unauthorized") from None
