"""A tenant's cards (metadata: what a card computes runs in a later issue): request bodies and the
view the API answers with.

A card's `code` is text of at most 64 KiB (UTF-8) with no control characters but newline, tab and
carriage return; its `params` are a JSON object of at most 8 KiB serialized (compact, UTF-8), kept
exactly as sent (stored as its JSON text: DynamoDB numbers are not JSON's). A card reads at most
`MAX_DATASETS` datasets (distinct ids of the tenant's datasets, none being deleted: checked in the
write's transaction, a 422 naming `datasetIds.N` otherwise) and names the columns it uses
(`usedColumns`) and those a dashboard filter may apply to (`filterColumns`), each at most
`MAX_COLUMNS` distinct column names.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from tenancy.common.fields import (
    NAME_PATTERN,
    Description,
    IdRef,
    Name,
    Request,
    Version,
    Versioned,
    changes_and_version,
    not_null,
)

MAX_CODE_BYTES = 64 * 1024
MAX_PARAMS_BYTES = 8 * 1024
MAX_DATASETS = 10
MAX_COLUMNS = 100
COLUMN_MAX_LENGTH = 128

# Code: no control characters (C0, DEL, C1: fields.CONTROL) except tab, newline and carriage return.
CODE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"

Code = Annotated[
    str,
    StringConstraints(max_length=MAX_CODE_BYTES, pattern=CODE_PATTERN),
    Field(description="at most 65536 UTF-8 bytes; no control characters but tab, newline and CR"),
]
# A column name: a name (no control characters, no leading or trailing space), 1..128 characters.
ColumnName = Annotated[
    str, StringConstraints(min_length=1, max_length=COLUMN_MAX_LENGTH, pattern=NAME_PATTERN)
]
_DISTINCT = {"uniqueItems": True}
DatasetIds = Annotated[
    list[IdRef],
    Field(max_length=MAX_DATASETS, description="distinct dataset ids", json_schema_extra=_DISTINCT),
]
Columns = Annotated[
    list[ColumnName],
    Field(max_length=MAX_COLUMNS, description="distinct column names", json_schema_extra=_DISTINCT),
]
Params = Annotated[
    dict[str, Any], Field(description="a JSON object of at most 8192 bytes serialized (compact, UTF-8)")
]


# The fields a PATCH may change.
CHANGES = ("name", "description", "datasetIds", "code", "params", "usedColumns", "filterColumns", "ownerId")


def params_text(params: dict[str, Any]) -> str:
    """`params` as stored: compact JSON (non-finite numbers refused: JSON has none)."""
    return json.dumps(params, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _has_non_finite(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _distinct(value: list[str]) -> list[str]:
    seen: set[str] = set()
    repeated = [item for item in value if item in seen or seen.add(item)]  # type: ignore[func-returns-value]
    if repeated:
        raise ValueError(f"must not repeat a value ({repeated[0]})")
    return value


class CardFieldChecks(Request):
    """The checks a card's fields take in every body (a field left out is not checked)."""

    @field_validator("code", check_fields=False)
    @classmethod
    def _code_size(cls, value: str) -> str:
        if len(value.encode("utf-8", "surrogatepass")) > MAX_CODE_BYTES:
            raise ValueError(f"must be at most {MAX_CODE_BYTES} bytes (UTF-8)")
        return value

    @field_validator("params", check_fields=False)
    @classmethod
    def _params_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _has_non_finite(value):
            raise ValueError("numbers must be finite (JSON has no NaN or Infinity)")
        if len(params_text(value).encode("utf-8", "surrogatepass")) > MAX_PARAMS_BYTES:
            raise ValueError(f"must be at most {MAX_PARAMS_BYTES} bytes serialized (compact JSON, UTF-8)")
        return value

    @field_validator("datasetIds", "usedColumns", "filterColumns", check_fields=False)
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for item in value:
            if item in seen:
                raise ValueError(f"must not repeat a value ({item})")
            seen.add(item)
        return value


class CreateCardRequest(CardFieldChecks):
    name: Name
    description: Description = ""
    datasetIds: DatasetIds = Field(default_factory=list)
    code: Code = ""
    params: Params = Field(default_factory=dict)
    usedColumns: Columns = Field(default_factory=list)
    filterColumns: Columns = Field(default_factory=list)


class UpdateCardRequest(CardFieldChecks):
    # A field left out is unchanged; null is not a value here (refused with 422, as documented).
    model_config = ConfigDict(json_schema_extra=changes_and_version)

    name: Name | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    datasetIds: DatasetIds | SkipJsonSchema[None] = None
    code: Code | SkipJsonSchema[None] = None
    params: Params | SkipJsonSchema[None] = None
    usedColumns: Columns | SkipJsonSchema[None] = None
    filterColumns: Columns | SkipJsonSchema[None] = None
    ownerId: Annotated[
        IdRef | SkipJsonSchema[None],
        Field(description="a user of the tenant: the card's owner or a tenant admin hands it over"),
    ] = None
    version: Version

    @field_validator(*CHANGES, mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return not_null(value)


class Card(Versioned):
    cardId: str
    ownerId: str
    name: str
    description: str
    datasetIds: list[str]
    code: str
    params: dict[str, Any]
    usedColumns: list[str]
    filterColumns: list[str]
    dashboardCount: int = Field(ge=0, description="how many dashboards' layouts hold the card")
    copiedFrom: str | None = Field(
        default=None, description="the card this one was copied from, when a clone made it"
    )
