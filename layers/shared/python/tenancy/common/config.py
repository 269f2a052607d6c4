"""Settings: one pydantic model read lazily from the environment, once per process."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from tenancy.common.names import (
    APP_NAME_PATTERN,
    APP_TABLE_SUFFIX,
    APPLICATION_PLANE,
    CONTROL_PLANE,
    CONTROL_TABLE_SUFFIX,
    DEFAULT_APP_NAME,
    DEFAULT_STAGE,
    EVENT_BUS_SUFFIX,
    IDEMPOTENCY_TABLE_SUFFIX,
    STAGE_PATTERN,
    USAGE_TABLE_SUFFIX,
    event_source,
    resource_name,
)


class Settings(BaseModel):
    """Everything a function reads from its environment. Unset resource names default to the
    `<app>-<stage>-<suffix>` convention the CDK app and the local cloud both use."""

    model_config = ConfigDict(frozen=True)

    app_name: str = Field(DEFAULT_APP_NAME, pattern=APP_NAME_PATTERN)
    stage: str = Field(DEFAULT_STAGE, pattern=STAGE_PATTERN)
    control_table_name: str = ""
    app_table_name: str = ""
    idempotency_table_name: str = ""
    usage_table_name: str = ""
    # How long the control-plane API replays the first answer to an `Idempotency-Key` (24 hours, the
    # convention of payment APIs); a key seen again after that is a new request.
    idempotency_expiry_seconds: int = 86400
    event_bus_name: str = ""
    tenant_bucket_name: str = ""
    silo_template_url: str = ""
    silo_stack_role_arn: str = ""
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    tenant_access_role_arn: str = ""
    # The card executor (analytics_api invokes it): its function name; the local cloud serves the
    # Lambda Invoke API itself (AWS_ENDPOINT_URL_LAMBDA), so the same call runs locally.
    card_executor_function_name: str = ""
    # Where the authorizer reads the user pool's signing keys; empty means Cognito's public URL
    # (https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json). The local cloud
    # points it at its own server.
    jwks_url: str = ""
    route_cache_seconds: float = 60.0
    # The KMS key (id, ARN or alias) that encrypts tenant secrets; empty: Secrets Manager's default key.
    secrets_kms_key_id: str = ""
    # How long a tenant secret's value is served from the accessor's cache (application.secrets.accessor).
    secrets_cache_seconds: int = 300
    # Seconds the tenant provisioner keeps in reserve when waiting for a silo stack.
    provisioner_safety_margin_seconds: float = 30.0
    provisioner_poll_seconds: float = 5.0
    # The reconciler re-drives tenants left in PENDING/OFFBOARDING this long, and fails tenants
    # waiting in PROVISIONING/DEPROVISIONING longer than every retry of the provisioner can take.
    reconciler_redrive_after_seconds: int = 300
    reconciler_fail_after_seconds: int = 7200
    # The stage's changes to the shipped plans (tenancy.contracts.plans.StagePlans, JSON; empty:
    # none), from the CDK context `plans`.
    plans: str = ""

    def model_post_init(self, _context: object) -> None:
        defaults = {
            "control_table_name": CONTROL_TABLE_SUFFIX,
            "app_table_name": APP_TABLE_SUFFIX,
            "idempotency_table_name": IDEMPOTENCY_TABLE_SUFFIX,
            "usage_table_name": USAGE_TABLE_SUFFIX,
            "event_bus_name": EVENT_BUS_SUFFIX,
        }
        for attribute, suffix in defaults.items():
            if not getattr(self, attribute):
                object.__setattr__(self, attribute, resource_name(self.app_name, self.stage, suffix))

    @property
    def control_plane_source(self) -> str:
        return event_source(self.app_name, CONTROL_PLANE)

    @property
    def application_plane_source(self) -> str:
        return event_source(self.app_name, APPLICATION_PLANE)

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use (never at import time)."""
    return Settings.from_environ()
