"""Where a provisioned tenant's data lives, as the provisioner reports it and the control plane
keeps it on the tenant (`resources`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ProvisionedResources(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    s3_prefix: str | None = Field(None, alias="s3Prefix")
    dedicated_bucket: str | None = Field(None, alias="dedicatedBucket")
    dedicated_table: str | None = Field(None, alias="dedicatedTable")
