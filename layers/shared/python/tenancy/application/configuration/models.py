"""The view `GET /config` answers with: the caller's tenant's effective limits and flags."""

from __future__ import annotations

from pydantic import Field

from tenancy.common.fields import View
from tenancy.contracts.plans import Source
from tenancy.contracts.tiers import Tier


class ConfigLimit(View):
    value: int = Field(description="the limit that applies to the tenant")
    source: Source = Field(description="where the value came from: the plan, the stage or the tenant")
    used: int | None = Field(
        None,
        description="how many the tenant holds now, for the limits enforced at create (users, agents); "
        "absent where not counted",
    )


class ConfigFlag(View):
    value: bool
    source: Source


class Config(View):
    """The caller's tenant's effective configuration (plan, then the stage's and the tenant's
    overrides), as the authorizer computed it for this request."""

    tenantId: str
    tier: Tier
    version: int = Field(description="the tenant's version the configuration was computed from")
    limits: dict[str, ConfigLimit]
    flags: dict[str, ConfigFlag]
