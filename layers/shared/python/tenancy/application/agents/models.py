"""A tenant's agents: request bodies and the view the API answers with."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from tenancy.common.fields import (
    TEXT_PATTERN,
    Description,
    Name,
    Request,
    Version,
    Versioned,
    changes_and_version,
    not_null,
)

ModelName = Annotated[str, StringConstraints(max_length=100, pattern=TEXT_PATTERN)]


class CreateAgentRequest(Request):
    name: Name
    description: Description = ""
    model: ModelName = "default"


class UpdateAgentRequest(Request):
    # A field left out is unchanged; null is not a value here (refused with 422, as documented).
    model_config = ConfigDict(json_schema_extra=changes_and_version)

    name: Name | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    model: ModelName | SkipJsonSchema[None] = None
    version: Version

    @field_validator("name", "description", "model", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return not_null(value)


class Agent(Versioned):
    agentId: str
    name: str
    description: str
    model: str
