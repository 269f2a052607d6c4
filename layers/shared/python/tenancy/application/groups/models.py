"""A tenant's groups and their memberships: request bodies and the views the API answers with."""

from __future__ import annotations

from pydantic import ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from tenancy.common.fields import (
    Description,
    IdRef,
    Name,
    Request,
    Version,
    Versioned,
    View,
    changes_and_version,
    not_null,
)


class CreateGroupRequest(Request):
    name: Name = Field(description="unique in the tenant, case-insensitively")
    description: Description = ""


class UpdateGroupRequest(Request):
    # A field left out is unchanged; null is not a value here (refused with 422, as documented).
    model_config = ConfigDict(json_schema_extra=changes_and_version)

    name: Name | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    version: Version

    @field_validator("name", "description", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return not_null(value)


class AddMemberRequest(Request):
    userId: IdRef


class Group(Versioned):
    groupId: str
    name: str
    description: str
    memberCount: int = Field(ge=0, description="how many users belong to the group")


class Membership(View):
    groupId: str
    userId: str
    addedAt: str
    addedBy: str = Field(description="the admin who added the user")
