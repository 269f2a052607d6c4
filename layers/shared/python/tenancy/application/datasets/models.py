"""A tenant's datasets: the request bodies, the view the API answers with, and the schema an import
infers. The item (`SK=DATASET#<datasetId>`) holds the view's fields plus the bookkeeping below.

Status: `UPLOADING` (waiting for the file of `uploadId`) → `IMPORTING` → `READY` | `FAILED`. A new
upload or a re-import (PATCH of the partition column) starts again from `UPLOADING`/`IMPORTING`
while the previous import's data (`importId`, `files`) stays readable until the next one is READY.

Bookkeeping attributes (not in the view): `files` (relative keys of the current import's Parquet
objects), `sourceKey` (the relative key of the current import's CSV, which a re-import copies),
`uploadExpiresAt` (epoch seconds), `importStartedAt`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from tenancy.common.fields import (
    NAME_PATTERN,
    Description,
    Name,
    Request,
    Version,
    Versioned,
    View,
    changes_and_version,
    not_null,
)

COLUMN_MAX_LENGTH = 128
MAX_COLUMNS = 1000  # an import with more columns fails (FAILED, TOO_MANY_COLUMNS)
PREVIEW_ROWS = 100  # rows kept in preview.json; `?rows=` is 1..PREVIEW_ROWS (default 20)
DEFAULT_PREVIEW_ROWS = 20
UPLOAD_SECONDS = 900  # a presigned upload's life, and how long the dataset waits for its file
IMPORT_TIMEOUT_SECONDS = 20 * 60  # an import still IMPORTING this long after it started has failed
# The codes of a dataset's `error` the API itself sets (the import's are in DatasetError's).
UPLOAD_EXPIRED = "UPLOAD_EXPIRED"  # the view of an UPLOADING dataset past `uploadExpiresAt`
IMPORT_TIMED_OUT = "IMPORT_TIMED_OUT"  # the view of an import IMPORTING for too long
COPY_FAILED = "COPY_FAILED"  # a re-import's copy of the source (PATCH partitionColumn) failed


class DatasetStatus(StrEnum):
    UPLOADING = "UPLOADING"
    IMPORTING = "IMPORTING"
    READY = "READY"
    FAILED = "FAILED"


class ColumnType(StrEnum):
    """The types an import infers (every column is nullable: an empty field is null)."""

    INT64 = "int64"
    FLOAT64 = "float64"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    STRING = "string"


class Column(View):
    name: str
    type: ColumnType
    nullable: bool


class DatasetError(View):
    code: str = Field(description="CSV_MALFORMED, CSV_ENCODING, EMPTY_FILE, TOO_LARGE, ...")
    message: str
    line: int | None = Field(default=None, description="the CSV line (1-based) where parsing failed")


def _json_boolean(value: object) -> object:
    """A boolean as JSON Schema means it (never "yes" or 1, which pydantic's lax mode would take)."""
    if not isinstance(value, bool):
        raise ValueError("must be a JSON boolean (true or false)")
    return value


JsonBool = Annotated[bool, BeforeValidator(_json_boolean)]
Delimiter = Annotated[
    str,
    StringConstraints(min_length=1, max_length=1, pattern=r"^[^\x00-\x08\x0a-\x1f\x7f\"]$"),
    Field(description="one character (tab allowed); not a quote, newline or other control character"),
]
Encoding = Literal["utf-8", "utf-16", "latin-1"]
ColumnName = Annotated[
    str, StringConstraints(min_length=1, max_length=COLUMN_MAX_LENGTH, pattern=NAME_PATTERN)
]


class CreateDatasetRequest(Request):
    name: Name
    description: Description = ""
    hasHeader: JsonBool = True
    delimiter: Delimiter = ","
    encoding: Encoding = "utf-8"
    partitionColumn: ColumnName | None = None


class UpdateDatasetRequest(Request):
    """name and description change the metadata; partitionColumn (null: no partitioning) re-imports
    the current source into the new layout."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=changes_and_version)

    name: Name | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    partitionColumn: ColumnName | None = Field(default=None)
    version: Version

    @field_validator("name", "description", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return not_null(value)


class Dataset(Versioned):
    datasetId: str
    ownerId: str
    name: str
    description: str
    hasHeader: bool
    delimiter: str
    encoding: str
    partitionColumn: str | None = None
    status: DatasetStatus
    uploadId: str = Field(description="the upload the dataset waits for, imports, or was imported from")
    importId: str | None = Field(default=None, description="the import readers use (null: no data yet)")
    dataVersion: int = Field(default=0, ge=0, description="how many imports have completed")
    rowCount: int | None = None
    columnCount: int | None = None
    columns: list[Column] = Field(default_factory=list)
    sizeBytes: int | None = Field(default=None, description="the Parquet data's size")
    sourceBytes: int | None = Field(default=None, description="the imported CSV's size")
    partitions: list[str | None] | None = Field(
        default=None, description="the partition column's values, when partitioned"
    )
    error: DatasetError | None = None
    importedAt: str | None = None


class Upload(BaseModel):
    """A presigned S3 POST: send `fields` and then the file as multipart form data to `url`."""

    url: str
    fields: dict[str, str]
    method: Literal["POST"] = "POST"
    key: str
    maxBytes: int
    expiresAt: str


class DatasetWithUpload(BaseModel):
    dataset: Dataset
    upload: Upload


class Preview(BaseModel):
    datasetId: str
    columns: list[Column]
    rows: list[dict[str, object]]
    totalRows: int
