"""What the card executor takes and answers (the `card_executor` function's event and result).

The executor has no AWS permissions and no secrets: everything a card may read comes in the
request. `data` is columnar: per dataset id, per column, the values as JSON (dates and datetimes as
ISO-8601 text; the child turns them back into `datetime.date`/`datetime.datetime` by `columns`).
The result is HTML text, untrusted: the API serves it as data in JSON, and the console renders it
in a sandboxed iframe (docs/architecture.md, "Card execution").
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

# The defaults of one execution (the request may lower them, never raise them).
TIMEOUT_MS = 5000
MEMORY_MB = 256
OUTPUT_BYTES = 1024 * 1024  # the HTML, UTF-8
# Lambda's synchronous payload is 6 MB; the API refuses (413 CARD_INPUT_TOO_LARGE) a request whose
# projected, filtered rows are larger than this once serialized.
MAX_REQUEST_BYTES = 5 * 1024 * 1024


class ErrorCode(StrEnum):
    TIMEOUT = "CARD_TIMEOUT"
    MEMORY = "CARD_MEMORY"
    OUTPUT_TOO_LARGE = "CARD_OUTPUT_TOO_LARGE"
    ERROR = "CARD_ERROR"  # the code raised (message: the traceback's last line), or set no `html`


class ColumnSpec(BaseModel):
    name: str
    type: str  # tenancy.application.datasets.models.ColumnType values


class DatasetInput(BaseModel):
    datasetId: str
    columns: list[ColumnSpec]
    data: dict[str, list[Any]]  # column name -> values (same length)
    rowCount: int


class Limits(BaseModel):
    timeoutMs: int = Field(default=TIMEOUT_MS, ge=100, le=TIMEOUT_MS)
    memoryMb: int = Field(default=MEMORY_MB, ge=64, le=MEMORY_MB)
    outputBytes: int = Field(default=OUTPUT_BYTES, ge=1, le=OUTPUT_BYTES)


class ExecutionRequest(BaseModel):
    code: str
    params: dict[str, Any] = Field(default_factory=dict)
    filters: list[dict[str, Any]] = Field(default_factory=list)  # the filters applied (for display)
    datasets: list[DatasetInput] = Field(default_factory=list)  # the first one is `rows`
    limits: Limits = Field(default_factory=Limits)


class ExecutionError(BaseModel):
    code: ErrorCode
    message: str


class ExecutionResult(BaseModel):
    ok: bool
    html: str | None = None
    error: ExecutionError | None = None
    executionTimeMs: int
