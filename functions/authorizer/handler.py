"""Lambda REQUEST authorizer of the app API: Cognito ID token -> tenant context (or 401/403)."""

from __future__ import annotations

from tenancy.coldstart import collector_resumes_after_first_event

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.auth import JwksCache, TokenVerifier, Unauthenticated, fetch_jwks, issuer_for
from tenancy.authorizer import authorize
from tenancy.clients import client, region
from tenancy.config import get_settings
from tenancy.observability import logger, metrics, tracer
from tenancy.store import ControlStore


@lru_cache(maxsize=1)
def verifier() -> TokenVerifier:
    settings = get_settings()
    issuer = issuer_for(region(), settings.user_pool_id)
    keys = JwksCache(fetch_jwks(settings.jwks_url or f"{issuer}/.well-known/jwks.json"))
    return TokenVerifier(issuer, settings.user_pool_client_id, keys)


@collector_resumes_after_first_event
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return authorize(
            event, verifier(), ControlStore(client("dynamodb"), get_settings().control_table_name)
        )
    except Unauthenticated as refused:
        logger.info("request unauthenticated", reason=refused.message)
        raise Exception("Unauthorized") from None
