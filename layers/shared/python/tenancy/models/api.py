"""Request and response bodies of the control-plane API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tenancy.models.domain import Tier

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^[^@\s]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$"

TenantName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CreateTenantRequest(_Request):
    name: TenantName
    slug: Slug = Field(description="3-63 lowercase letters, digits and inner hyphens; unique")
    tier: Tier
    admin_email: Email = Field(alias="adminEmail")


class UpdateTenantRequest(_Request):
    name: TenantName
    version: int = Field(ge=1, description="the version you read; a stale one is refused with 409")
