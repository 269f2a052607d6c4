"""Lambda REQUEST authorizer of the app API: Cognito ID token -> tenant context (or 401/403)."""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.application.access.authorizer import Members, authorize
from tenancy.application.access.credentials import TenantCredentials
from tenancy.application.access.routing import Router, RouteStore
from tenancy.application.access.tokens import JwksCache, TokenVerifier, fetch_jwks, issuer_for
from tenancy.common.clients import client, client_with_credentials, region
from tenancy.common.config import get_settings
from tenancy.common.errors import Unauthenticated
from tenancy.common.observability import logger, metrics, tracer
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
    settings = get_settings()
    router = Router(
        RouteStore(client("ssm"), settings.app_name, settings.stage), settings.route_cache_seconds
    )
    credentials = TenantCredentials(client("sts"), settings.tenant_access_role_arn, client_with_credentials)
    return Members(router, credentials)


@collector_resumes_after_first_event
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return authorize(
            event,
            verifier(),
            ControlStore(client("dynamodb"), get_settings().control_table_name),
            members(),
        )
    except Unauthenticated as refused:
        logger.info("request unauthenticated", reason=refused.message)
        raise Exception("Unauthorized") from None
