"""A tenant's secrets: the request body, the view (metadata only: a value is never part of a view),
and the name rule."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, StringConstraints

from tenancy.common.fields import Description, Request, View

# Letters, digits, `-`, `_`, `.`; 1-64 characters; never `/` (the name is the last segment of the
# Secrets Manager path) and never `..`.
SECRET_NAME_PATTERN = r"^\.?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$"  # noqa: S105 (a name rule, not a password)
SECRET_NAME_MAX_LENGTH = 64
# Secrets Manager's limit on a secret value (SecretString), in bytes of its UTF-8 encoding.
MAX_VALUE_BYTES = 65_536


def _within_limit(value: SecretStr) -> SecretStr:
    size = len(value.get_secret_value().encode("utf-8"))
    if size == 0:
        raise ValueError("must not be empty")
    if size > MAX_VALUE_BYTES:
        raise ValueError(f"must be at most {MAX_VALUE_BYTES} bytes (UTF-8); this one is {size}")
    return value


# The value as a SecretStr: its repr, str and every log or error built from the model show `**********`.
SecretValue = Annotated[
    SecretStr,
    AfterValidator(_within_limit),
    # The document says what it can: not empty, and at most as many characters as bytes (the byte
    # limit itself, for characters beyond ASCII, is checked above and named in the 422).
    Field(min_length=1, max_length=MAX_VALUE_BYTES, description=f"1 to {MAX_VALUE_BYTES} bytes (UTF-8)"),
]
SecretName = Annotated[
    str, StringConstraints(min_length=1, max_length=SECRET_NAME_MAX_LENGTH, pattern=SECRET_NAME_PATTERN)
]


class PutSecretRequest(Request):
    value: SecretValue
    description: Description = ""


class Secret(View):
    """A secret's metadata. `versionId` is Secrets Manager's id of the current value; `length` its size
    in bytes. The value itself is answered only to an admin who asks (`?reveal=true`)."""

    name: str
    description: str = ""
    versionId: str
    length: int
    version: int = Field(ge=1, description="how many times the value was put")
    createdAt: str
    updatedAt: str
    value: str = Field("", description="present only when an admin asked for it (`?reveal=true`)")
