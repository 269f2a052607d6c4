"""Field types every API shares: text without control characters, names, emails, versions."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from tenancy.common.keys import ID_MAX_LENGTH, ID_PATTERN

# Text fields refuse control characters (C0, DEL, C1): NUL and friends are never meaningful in a
# name and break the clients, logs and terminals that show it. The patterns are what the OpenAPI
# documents declare and what validation checks (pydantic's regex engine, like JSON Schema's, reads
# `\xNN` and `\uNNNN`), so a client or a fuzzer knows exactly what is accepted.
CONTROL = r"\x00-\x1f\x7f-\x9f"
_SPACE = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
TEXT_PATTERN = rf"^[^{CONTROL}]*$"
# A name: no control characters, and neither starts nor ends with a space (refused, not trimmed, so
# what is stored is what was sent, and the documented pattern is the whole rule).
NAME_PATTERN = rf"^[^{CONTROL}{_SPACE}](?:[^{CONTROL}]*[^{CONTROL}{_SPACE}])?$"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^[^@{CONTROL}{_SPACE}]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$"
MAX_VERSION = 2**53 - 1  # the largest integer every JSON client reads exactly


Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN)]
# An id a body refers to (a user, group, card, dataset): what a key may hold (tenancy.common.keys).
IdRef = Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NAME_PATTERN)]
Description = Annotated[str, StringConstraints(max_length=1000, pattern=TEXT_PATTERN)]


def _a_date(value: str) -> str:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date that exists (YYYY-MM-DD)") from None
    return value


# A calendar date that exists: the documented shape, then the calendar (`2026-02-31` is refused).
IsoDate = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"),
    AfterValidator(_a_date),
    Field(description="a calendar date, YYYY-MM-DD"),
]


def _json_integer(value: object) -> object:
    """An integer as JSON Schema means it: a JSON number with no fraction (3 or 3.0), never a string
    ("3") or a boolean (true), which pydantic's lax mode would turn into one."""
    if isinstance(value, str | bytes | bool):
        raise ValueError("must be a JSON integer, not a string or a boolean")
    return value


# An integer where the schema says integer, in a range every client reads exactly (so 1e40 is a
# 422, not a number too large to store).
Version = Annotated[int, Field(ge=1, le=MAX_VERSION), BeforeValidator(_json_integer)]


class Request(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def not_null(value: object) -> object:
    """An update body's field may be left out (unchanged) but never null (a `mode="before"` check)."""
    if value is None:
        raise ValueError("must not be null (leave the field out to keep its value)")
    return value


def changes_and_version(schema: dict[str, Any]) -> None:
    """An update body's documented shape (`json_schema_extra`): `version` and at least one change;
    a change is never null."""
    schema["minProperties"] = 2
    for field in schema["properties"].values():
        field.pop("default", None)


class View(BaseModel):
    """What an API answers, for its OpenAPI document: fields may be added, never renamed or removed."""

    model_config = ConfigDict(extra="allow")


class Versioned(View):
    version: int = Field(ge=1, description="optimistic locking: send it back on PATCH")
    createdAt: str
    updatedAt: str
