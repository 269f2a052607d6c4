"""A dataset's import: the uploaded CSV of one upload to Parquet (Snappy) in the tenant's storage, and
the dataset item `IMPORTING → READY | FAILED`, every object and item reached as the tenant.

The lifecycle (docs: the datasets spec, "the dataset lifecycle"), on the S3 `Object Created` event of
`tenants/<T>/datasets/<D>/uploads/<U>.csv`:
1. the event's bucket must be T's (its route), else the event is ignored; the item is read
   (consistently): gone, being deleted or waiting for another upload → this upload is superseded, its
   object is deleted (unless it is still the current import's source); already READY from U → a
   duplicate, nothing to do (but collect, below).
2. `IMPORTING` (conditional on `uploadId = U` and UPLOADING/IMPORTING), the upload's key recorded in
   `pending` by the same write.
3. the CSV is checked (size against the item's `maxBytes`), parsed, typed, and written as Parquet under
   `imports/<U>/` with its `preview.json` — after their keys are recorded on the item (`pending`,
   conditional on `uploadId = U`, IMPORTING, not being deleted): no object is written unrecorded.
4. one conditional write (`uploadId = U`, IMPORTING, not being deleted) switches the item to the new
   import (`importId = U`, its files, schema and counts), takes its keys out of `pending` and records
   the previous import's objects (files, preview, source if another key) in `garbage`; then those go.
   A refused switch deletes what this import wrote, unless a twin delivery of U already switched.
5. a CSV that cannot be imported is `FAILED` with a `DatasetError` (conditional on `uploadId = U`,
   IMPORTING); the previous import stays readable. An unexpected error is `FAILED IMPORT_FAILED` too
   (no retry storm); only when that write itself fails does the invocation raise, and Lambda's retry
   runs it again: every step is idempotent (fixed object names per upload, conditional writes).

No object is left behind by a crash: every exit (READY, duplicate, superseded, not importable,
FAILED) ends by collecting (`_collect`): the objects `garbage` lists, the `pending` keys of an import
that can no longer switch, and this upload's own objects, each deleted unless the item still refers
to it (`live_keys`), then removed from the sets (`DELETE` of exactly those keys: nothing recorded
meanwhile is lost). A crash anywhere leaves its record on the item, so the redelivery (Lambda's
retry), the next import's switch or the dataset's DELETE finishes the job. (A partition file a
delivery writes after a DELETE read its record and removed the item — a delete racing a running
import — that delivery deletes itself when its switch is refused; only a crash in that very window
leaks it: its key depends on the data, and no record is left to find it by.)

The engine is DuckDB (this module and `analytics/rows.py` are the only ones that import it). The CSV is
read with the dataset's dialect and no sniffing at all (every column as text, strict: a malformed row
fails with its line), then each column's type is inferred over the whole file by exact patterns
(DuckDB's casts alone are lenient: '1.5' casts to BIGINT 2, 'yes' to BOOLEAN), then written typed:
- int64: optionally signed digits that fit int64. An integer beyond int64 makes the column `string`
  (never float64: such values are identifiers far more often than quantities, and a double would
  silently lose their last digits).
- float64: decimal or scientific notation (DECIMAL values are doubles), ints mixed with decimals too;
  `nan`/`inf` are text.
- bool: `true`/`false`, any case (not 0/1, yes/no: those stay int64/string).
- date: `YYYY-MM-DD`; datetime: a date with a time (`T` or space; seconds and fractions optional; an
  offset or `Z` is converted to UTC, the value stored without zone); a mix of dates and datetimes is
  datetime.
- string: everything else (times of day, intervals, mixed columns, a column with no value at all).
Surrounding spaces are ignored when typing (a string column keeps its values as they were); an empty
field is null; every column is nullable.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from tenancy.application.access.tenant_data import TenantData
from tenancy.application.access.tenant_objects import ObjectNotFoundError, TenantObjects
from tenancy.application.datasets import layout
from tenancy.application.datasets.models import (
    MAX_COLUMNS,
    PREVIEW_ROWS,
    Column,
    ColumnType,
    DatasetError,
    DatasetStatus,
)
from tenancy.application.store import keys
from tenancy.application.store.engine import Actor, Change, TenantStore
from tenancy.application.store.kinds import DATASET
from tenancy.application.store.transaction import Transaction
from tenancy.common.dynamo import update_expression
from tenancy.common.errors import NotFoundError, TenantInactiveError
from tenancy.common.observability import bind_tenant, logger
from tenancy.common.timestamps import now_iso

SYSTEM = "system"
MAX_PARTITIONS = 1000
MEMORY_SHARE = 0.6  # of the function's memory, for DuckDB (the rest: Python, boto3, buffers)
DEFAULT_MEMORY_MB = 2048
THREADS = 2
_PARTITION = "__tenancy_partition"

# Error codes (DatasetError.code) the import sets.
CSV_MALFORMED = "CSV_MALFORMED"
CSV_ENCODING = "CSV_ENCODING"
EMPTY_FILE = "EMPTY_FILE"
TOO_LARGE = "TOO_LARGE"
TOO_MANY_COLUMNS = "TOO_MANY_COLUMNS"
TOO_MANY_PARTITIONS = "TOO_MANY_PARTITIONS"
PARTITION_COLUMN_UNKNOWN = "PARTITION_COLUMN_UNKNOWN"
IMPORT_FAILED = "IMPORT_FAILED"

# The exact forms each type accepts (RE2, full match, on the trimmed value).
_INT = r"[+-]?[0-9]+"
_FLOAT = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DATETIME = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?"
)

# DuckDB's type names → the dataset's column types (what a Parquet file's columns read back as).
_DUCKDB_TYPES: dict[str, ColumnType] = {
    "BIGINT": ColumnType.INT64,
    "INTEGER": ColumnType.INT64,
    "SMALLINT": ColumnType.INT64,
    "TINYINT": ColumnType.INT64,
    "UINTEGER": ColumnType.INT64,
    "USMALLINT": ColumnType.INT64,
    "UTINYINT": ColumnType.INT64,
    "DOUBLE": ColumnType.FLOAT64,
    "FLOAT": ColumnType.FLOAT64,
    "BOOLEAN": ColumnType.BOOL,
    "DATE": ColumnType.DATE,
    "TIMESTAMP": ColumnType.DATETIME,
    "TIMESTAMP_S": ColumnType.DATETIME,
    "TIMESTAMP_MS": ColumnType.DATETIME,
    "TIMESTAMP_NS": ColumnType.DATETIME,
    "TIMESTAMP WITH TIME ZONE": ColumnType.DATETIME,
    "VARCHAR": ColumnType.STRING,
}


def column_type_of(duckdb_type: str) -> ColumnType:
    """A DuckDB type as a column type: integers up to 64 bits are int64 (HUGEINT, UBIGINT and beyond
    are string: values past int64 are kept exactly, as text); DECIMAL is float64; TIME, INTERVAL and
    every other type are string."""
    name = duckdb_type.upper()
    if name.startswith("DECIMAL"):
        return ColumnType.FLOAT64
    return _DUCKDB_TYPES.get(name, ColumnType.STRING)


# --- the event --------------------------------------------------------------------------------


class _Bucket(BaseModel):
    name: str


class _Object(BaseModel):
    key: str
    size: int | None = None


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bucket: _Bucket
    object: _Object


class ObjectCreated(BaseModel):
    """EventBridge's S3 `Object Created` event (the fields the import reads). `time` is ISO text from
    EventBridge and a number from moto: either is accepted, neither is used."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    source: Literal["aws.s3"]
    detail_type: Literal["Object Created"] = Field(alias="detail-type")
    time: str | float | None = None
    detail: _Detail


# --- the conversion (local files only) --------------------------------------------------------


class ImportFailure(Exception):
    """A CSV that cannot be imported: the dataset is FAILED with `error`."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.error = DatasetError(code=code, message=message, line=line)


@dataclass(frozen=True)
class CsvFormat:
    has_header: bool = True
    delimiter: str = ","
    encoding: str = "utf-8"  # utf-8, utf-16, latin-1 (DuckDB's names, and Python's)


@dataclass
class Converted:
    """What one conversion wrote: Parquet files (relative name in the import → local path), the
    preview document and the schema and counts."""

    columns: list[Column]
    row_count: int
    parquet: list[tuple[str | None, Path]]  # (partition value or None, file); unpartitioned: one
    partitioned: bool
    preview: dict[str, Any]
    size_bytes: int = 0
    partitions: list[str | None] = field(default_factory=list)


def memory_limit_mb() -> int:
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or DEFAULT_MEMORY_MB)
    return max(64, int(memory * MEMORY_SHARE))


def connect(work_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for one invocation: 2 threads, ~60% of the function's memory, spilling to
    `work_dir` (under /tmp, Lambda's only writable place), no extension installed or loaded."""
    spill = work_dir / "duckdb-spill"
    spill.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(
        ":memory:",
        config={
            "threads": THREADS,
            "memory_limit": f"{memory_limit_mb()}MB",
            "temp_directory": str(spill),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    connection.execute("SET home_directory = '/tmp'")
    return connection


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _python_encoding(path: Path, encoding: str) -> str:
    """Python's codec reading the file as DuckDB does: a UTF-8 BOM skipped, UTF-16 by its BOM or
    else little-endian."""
    if encoding == "utf-8":
        return "utf-8-sig"
    if encoding == "utf-16":
        with open(path, "rb") as raw:
            start = raw.read(2)
        return "utf-16" if start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-16-le"
    return encoding


def _records(path: Path, fmt: CsvFormat) -> Iterator[tuple[list[str], int]]:
    """The file's records as Python's csv module reads them (blank lines as empty records), each with
    the number of physical lines read so far: for the header and for a malformed row's line."""
    with open(path, encoding=_python_encoding(path, fmt.encoding), errors="replace", newline="") as text:
        reader = csv.reader(text, delimiter=fmt.delimiter, quotechar='"', doublequote=True, strict=False)
        for record in reader:
            yield record, reader.line_num


def first_record(path: Path, fmt: CsvFormat) -> list[str]:
    """The first record (the header, or the first row): how many columns the file has."""
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    try:
        for record, _ in _records(path, fmt):
            if not record:
                raise ImportFailure(CSV_MALFORMED, "the file starts with an empty line", 1)
            return record
    except csv.Error as error:
        raise ImportFailure(CSV_MALFORMED, f"the first line cannot be parsed: {error}", 1) from None
    raise ImportFailure(EMPTY_FILE, "the file is empty")


def physical_line(path: Path, fmt: CsvFormat, record_line: int) -> int:
    """DuckDB numbers a failing row by records and blank lines (header included), which differs from
    the file's line when an earlier quoted value spans lines: the line where that row starts."""
    if record_line <= 1:
        return record_line
    try:
        for index, (_, lines_read) in enumerate(_records(path, fmt), start=1):
            if index == record_line - 1:
                return lines_read + 1
    except csv.Error:
        pass
    return record_line


def column_names(first: list[str], has_header: bool) -> list[str]:
    """Header names (trimmed; blank → `column_<n>`; at most 128 characters; a name met again, in any
    case, gets `_2`, `_3`… as DuckDB's names are case-insensitive) or `column_1..n` without a header."""
    if len(first) > MAX_COLUMNS:
        raise ImportFailure(
            TOO_MANY_COLUMNS, f"the file has {len(first)} columns, more than {MAX_COLUMNS}", 1
        )
    if not has_header:
        return [f"column_{n}" for n in range(1, len(first) + 1)]
    names: list[str] = []
    taken: set[str] = set()
    for n, raw in enumerate(first, start=1):
        base = raw.strip().replace("\x00", "")[:120] or f"column_{n}"
        name, suffix = base, 1
        while name.casefold() in taken:
            suffix += 1
            name = f"{base}_{suffix}"
        taken.add(name.casefold())
        names.append(name)
    return names


def _csv_failure(error: duckdb.Error, path: Path, fmt: CsvFormat) -> ImportFailure:
    message = str(error)
    found = re.search(r"CSV Error on Line: (\d+)", message)
    line = physical_line(path, fmt, int(found[1])) if found else None
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if "Invalid unicode" in message or "nvalid UTF" in message:
        return ImportFailure(CSV_ENCODING, f"line {line}: the text is not valid {fmt.encoding}", line)
    if counts:
        reason = f"expected {counts[1]} fields, found {counts[2]}"
    elif "unterminated quote" in message:
        reason = "a quoted value is not terminated"
    elif found:
        reason = "the row cannot be parsed"
    else:
        return ImportFailure(CSV_MALFORMED, "the file cannot be parsed as CSV with its settings")
    return ImportFailure(CSV_MALFORMED, f"line {line}: {reason}", line)


def _load(connection: duckdb.DuckDBPyConnection, path: Path, fmt: CsvFormat, width: int) -> None:
    """Every row into `raw` (c1..cn, text), strictly: a row with more or fewer fields, an unterminated
    quote or undecodable text fails with its line."""
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(1, width + 1))
    query = (
        "CREATE TABLE raw AS SELECT * FROM read_csv($path, auto_detect = false, header = $header, "  # noqa: S608
        "delim = $delimiter, quote = '\"', escape = '\"', comment = '', encoding = $encoding, "
        "strict_mode = true, null_padding = false, ignore_errors = false, parallel = true, "
        f"columns = {{{columns}}})"
    )
    parameters = {
        "path": str(path),
        "header": fmt.has_header,
        "delimiter": fmt.delimiter,
        "encoding": fmt.encoding,
    }
    try:
        connection.execute(query, parameters)
    except (duckdb.InvalidInputException, duckdb.ConversionException) as error:
        raise _csv_failure(error, path, fmt) from None


# The forms a value can have, as bits: a column's forms are the bitwise OR of its values'.
_INT_FORM, _HUGE_FORM, _FLOAT_FORM, _BOOL_FORM, _DATE_FORM, _DATETIME_FORM, _TEXT_FORM = (
    1 << n for n in range(7)
)
_FORM = (
    f"CASE WHEN regexp_full_match(v, '{_INT}') THEN "
    f"CASE WHEN TRY_CAST(v AS BIGINT) IS NOT NULL THEN {_INT_FORM} ELSE {_HUGE_FORM} END "
    f"WHEN regexp_full_match(v, '{_FLOAT}') THEN {_FLOAT_FORM} "
    f"WHEN lower(v) IN ('true', 'false') THEN {_BOOL_FORM} "
    f"WHEN v LIKE '____-__-__' AND regexp_full_match(v, '{_DATE}') "
    f"AND TRY_CAST(v AS DATE) IS NOT NULL THEN {_DATE_FORM} "
    f"WHEN v LIKE '____-__-__%' AND regexp_full_match(v, '{_DATETIME}') "
    f"AND TRY_CAST(v AS TIMESTAMP) IS NOT NULL THEN {_DATETIME_FORM} "
    f"ELSE {_TEXT_FORM} END"
)
# Each type and the forms its values may have, most specific first.
_FITS = (
    (ColumnType.INT64, _INT_FORM),
    (ColumnType.FLOAT64, _INT_FORM | _FLOAT_FORM),
    (ColumnType.BOOL, _BOOL_FORM),
    (ColumnType.DATE, _DATE_FORM),
    (ColumnType.DATETIME, _DATE_FORM | _DATETIME_FORM),
)


def _type_of(forms: int | None) -> ColumnType:
    """A column's type from the forms of its values (None: a column without a value is text)."""
    if not forms:
        return ColumnType.STRING
    return next((kind for kind, fits in _FITS if forms & ~fits == 0), ColumnType.STRING)


def _infer(connection: duckdb.DuckDBPyConnection, width: int) -> list[ColumnType]:
    """Each column's type from every one of its values: per column, one scan classifying each value
    by its most specific form (one CASE: a value is tested only until a form fits, cheap tests
    first, as DuckDB's failing casts are its slowest path). One query per column: a single query of
    every column's aggregate is planned in time quadratic in its size (1000 columns: minutes)."""
    types = []
    for i in range(1, width + 1):
        found = connection.execute(
            f"SELECT bit_or({_FORM}) FROM (SELECT trim(c{i}) AS v FROM raw WHERE c{i} IS NOT NULL)"  # noqa: S608
        ).fetchone()
        types.append(_type_of(found[0] if found else None))
    return types


# Every query here is built from internal names (c1..cn), quoted identifiers (_quoted) and the
# module's own patterns and temporary paths (_literal); values from the file never enter SQL text.


def _typed(index: int, column_type: ColumnType) -> str:
    value = f"trim(c{index})"
    match column_type:
        case ColumnType.INT64:
            return f"CAST({value} AS BIGINT)"
        case ColumnType.FLOAT64:
            return f"CAST({value} AS DOUBLE)"
        case ColumnType.BOOL:
            return f"(lower({value}) = 'true')"
        case ColumnType.DATE:
            return f"CAST({value} AS DATE)"
        case ColumnType.DATETIME:
            return f"CAST({value} AS TIMESTAMP)"
        case _:
            return f"c{index}"


def json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def convert(
    connection: duckdb.DuckDBPyConnection,
    source: Path,
    fmt: CsvFormat,
    out_dir: Path,
    partition_column: str | None = None,
) -> Converted:
    """The CSV at `source` as Parquet files under `out_dir` (one file, or one per value of
    `partition_column`), with its schema, row count and preview."""
    if source.stat().st_size == 0:
        raise ImportFailure(EMPTY_FILE, "the file is empty")
    names = column_names(first_record(source, fmt), fmt.has_header)
    width = len(names)
    _load(connection, source, fmt, width)
    counted = connection.execute("SELECT count(*) FROM raw").fetchone()
    row_count = int(counted[0]) if counted else 0
    if row_count == 0:
        raise ImportFailure(EMPTY_FILE, "the file has no data rows")
    types = _infer(connection, width)
    columns = [Column(name=name, type=kind, nullable=True) for name, kind in zip(names, types, strict=True)]
    selected = ", ".join(
        f"{_typed(i, kind)} AS {_quoted(name)}"
        for i, (name, kind) in enumerate(zip(names, types, strict=True), start=1)
    )
    preview_rows = connection.execute(f"SELECT {selected} FROM raw ORDER BY rowid LIMIT {PREVIEW_ROWS}")  # noqa: S608
    preview = {
        "columns": [column.model_dump(mode="json") for column in columns],
        "rows": [
            {n: json_safe(v) for n, v in zip(names, row, strict=True)} for row in preview_rows.fetchall()
        ],
        "totalRows": row_count,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    options = "FORMAT parquet, COMPRESSION snappy"
    converted = Converted(columns, row_count, [], partition_column is not None, preview)
    if partition_column is None:
        target = out_dir / layout.PART
        connection.execute(
            f"COPY (SELECT {selected} FROM raw ORDER BY rowid) TO {_literal(str(target))} ({options})"  # noqa: S608
        )
        converted.parquet.append((None, target))
    else:
        if partition_column not in names:
            raise ImportFailure(
                PARTITION_COLUMN_UNKNOWN, f"the file has no column {partition_column!r} to partition by"
            )
        index = names.index(partition_column) + 1
        key = _typed(index, types[index - 1])
        connection.execute(
            f"CREATE TABLE parts AS SELECT v AS value, row_number() OVER (ORDER BY v NULLS LAST) AS part "  # noqa: S608
            f"FROM (SELECT DISTINCT {key} AS v FROM raw)"
        )
        values = connection.execute(
            "SELECT part, CAST(value AS VARCHAR) FROM parts ORDER BY part LIMIT ?", [MAX_PARTITIONS + 1]
        ).fetchall()
        if len(values) > MAX_PARTITIONS:
            raise ImportFailure(
                TOO_MANY_PARTITIONS,
                f"column {partition_column!r} has more than {MAX_PARTITIONS} distinct values",
            )
        parts_dir = out_dir / "parts"
        connection.execute(
            f"COPY (SELECT {selected}, parts.part AS {_PARTITION} FROM raw JOIN parts "  # noqa: S608
            f"ON {key} IS NOT DISTINCT FROM parts.value ORDER BY parts.part, raw.rowid) "
            f"TO {_literal(str(parts_dir))} ({options}, PARTITION_BY ({_PARTITION}))"
        )
        for part, value in values:
            written = sorted((parts_dir / f"{_PARTITION}={part}").glob("*.parquet"))
            if len(written) != 1:
                raise RuntimeError(f"partition {part} was written as {len(written)} files")
            converted.parquet.append((value, written[0]))
            converted.partitions.append(value)
    converted.size_bytes = sum(path.stat().st_size for _, path in converted.parquet)
    return converted


# --- the lifecycle -----------------------------------------------------------------------------


class DatasetImporter:
    """Handles one upload's event (docstring above); `data` opens the tenant's store and objects."""

    def __init__(self, data: TenantData, work_root: str | None = None) -> None:
        self.data = data
        self.work_root = work_root or tempfile.gettempdir()

    def handle(self, event: dict[str, Any], request_id: str) -> dict[str, Any]:
        created = ObjectCreated.model_validate(event)
        ref = layout.parse_upload_key(created.detail.object.key)
        if ref is None:
            return {"ignored": "not an upload"}
        bind_tenant(ref.tenant_id)
        try:
            objects = self.data.objects(ref.tenant_id)
            store = self.data.store(ref.tenant_id, Actor(SYSTEM, request_id))
        except NotFoundError as error:  # no route: the tenant is not (or no longer) provisioned
            return {"ignored": str(error)}
        if objects.bucket != created.detail.bucket.name:
            logger.warning("an upload key outside its tenant's bucket", bucket=created.detail.bucket.name)
            return {"ignored": "not the tenant's bucket"}
        try:
            return _Import(store, objects, ref, self.work_root).run()
        except TenantInactiveError as error:  # the partition is closed (offboarding)
            return {"ignored": str(error)}


class _Refused(Exception):
    """A conditional write of the import was refused: another upload, a delete or a twin came first."""


GARBAGE = "garbage"  # string set: objects no reader uses any more, to delete (then removed from it)
PENDING = "pending"  # string set: objects an import records before writing them


def _imports_of(dataset_id: str, upload_id: str, key: str) -> bool:
    return key.startswith(layout.import_prefix(dataset_id, upload_id))


def _may_still_switch(item: dict[str, Any]) -> bool:
    """The upload the item waits for may still become its import (or be imported at all)."""
    return (
        item.get("status") in (DatasetStatus.UPLOADING, DatasetStatus.IMPORTING)
        and "deletingAt" not in item
        and bool(item.get("uploadId"))
    )


def live_keys(dataset_id: str, item: dict[str, Any]) -> set[str]:
    """The objects no collector may delete: what readers use (the current import's files and
    preview, its source, which a re-import copies) and, while the dataset still waits for or
    imports an upload, that upload's object and what its import records or may write."""
    live = {str(key) for key in item.get("files") or ()}
    if item.get("importId"):
        live.add(layout.preview_key(dataset_id, str(item["importId"])))
    if item.get("sourceKey"):
        live.add(str(item["sourceKey"]))
    if _may_still_switch(item):
        upload = str(item["uploadId"])
        live.add(layout.upload_key(dataset_id, upload))
        live.add(layout.data_key(dataset_id, upload))
        live.add(layout.preview_key(dataset_id, upload))
        live.update(str(key) for key in item.get(PENDING) or () if _imports_of(dataset_id, upload, str(key)))
    return live


class _Import:
    def __init__(
        self, store: TenantStore, objects: TenantObjects, ref: layout.UploadRef, work_root: str
    ) -> None:
        self.store = store
        self.objects = objects
        self.dataset_id = ref.dataset_id
        self.upload_id = ref.upload_id
        self.source = layout.upload_key(ref.dataset_id, ref.upload_id)
        self.work_root = work_root
        self.written: list[str] = []

    def _answer(self, outcome: str, **more: Any) -> dict[str, Any]:
        return {"datasetId": self.dataset_id, "uploadId": self.upload_id, "outcome": outcome, **more}

    def _sk(self) -> str:
        return keys.item_sk(DATASET.prefix, self.dataset_id)

    def _item(self) -> dict[str, Any] | None:
        return self.store.get_item(self._sk())

    def _superseded(self, item: dict[str, Any] | None) -> bool:
        return item is None or bool(item.get("deletingAt")) or item.get("uploadId") != self.upload_id

    def _own(self) -> set[str]:
        """This upload's objects: its CSV, the keys its import has for sure (the partitions' depend
        on the data: `pending` records them) and whatever this delivery wrote."""
        return {
            self.source,
            layout.data_key(self.dataset_id, self.upload_id),
            layout.preview_key(self.dataset_id, self.upload_id),
            *self.written,
        }

    def _finish(self, outcome: str, item: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
        """Every way out: collect (the item read again unless given), then answer."""
        self._collect(self._item() if item is None else item)
        return self._answer(outcome, **more)

    def _collect(self, item: dict[str, Any] | None) -> None:
        """Delete what nothing refers to any more — the objects `garbage` lists, the `pending` keys
        of an import that can no longer switch, this upload's own objects — except what the item
        still refers to (live_keys), then take those keys out of the sets (only them: a key
        recorded meanwhile stays). A crash at any point leaves the record for the next collector."""
        if item is None:  # the dataset is gone (its DELETE deleted what the item recorded)
            self.objects.delete(sorted(self._own()))
            return
        live = live_keys(self.dataset_id, item)
        garbage = {str(key) for key in item.get(GARBAGE) or ()}
        pending = {str(key) for key in item.get(PENDING) or ()} - live
        self.objects.delete(sorted((garbage | pending | self._own()) - live))
        clauses, names, values = [], {}, {}
        for name, done in ((GARBAGE, garbage), (PENDING, pending)):
            if done:
                clauses.append(f"#{name} :{name}")
                names[f"#{name}"], values[f":{name}"] = name, done
        if not clauses:
            return
        transaction = Transaction().update(
            self._sk(),
            "DELETE " + ", ".join(clauses),
            names=names,
            values=values,
            on_fail=lambda _: _Refused(),
        )
        # bookkeeping: no version, no audit; refused when the item is gone meanwhile (its DELETE
        # deleted what it recorded)
        with contextlib.suppress(_Refused):
            self.store.commit(transaction, None)

    def run(self) -> dict[str, Any]:
        item = self._item()
        if self._superseded(item):
            return self._finish("superseded", item)
        assert item is not None
        if item.get("importId") == self.upload_id and item.get("status") == DatasetStatus.READY:
            return self._finish("duplicate", item)
        if not self._start():
            return self._finish("not importable", status=item.get("status"))
        try:
            return self._import(item)
        except ImportFailure as failure:
            return self._fail(failure.error)
        except Exception:
            logger.exception("dataset import failed")
            return self._fail(DatasetError(code=IMPORT_FAILED, message="the import failed unexpectedly"))

    def _update(
        self,
        verb: str,
        changes: dict[str, Any],
        condition: str,
        values: dict[str, Any],
        sets: str = "",
        set_values: dict[str, Any] | None = None,
    ) -> bool:
        """A conditional change of the item (`version` + 1) with its audit item, in one transaction;
        None-valued changes remove the attribute; `sets` are ADD/DELETE clauses of the string sets
        (`set_values` their values). False when the condition is refused."""
        removed = [name for name, value in changes.items() if value is None]
        assignment = update_expression(
            {name: value for name, value in changes.items() if value is not None},
            raw=["version = version + :one", "updatedAt = :now"],
            remove_fields=removed,
        )
        transaction = Transaction().update(
            self._sk(),
            f"{assignment.expression} {sets}".strip(),
            condition=condition,
            names={
                **assignment.names,
                **({"#status": "status"} if "#status" in condition else {}),
                **{f"#{name}": name for name in (GARBAGE, PENDING) if f"#{name}" in sets},
            },
            values={
                **assignment.values,
                ":one": 1,
                ":now": now_iso(),
                ":upload": self.upload_id,
                **values,
                **(set_values or {}),
            },
            on_fail=lambda _old: _Refused(),
        )
        try:
            self.store.commit(transaction, Change(f"dataset.import.{verb}", self._sk()))
        except _Refused:
            return False
        return True

    def _start(self) -> bool:
        return self._update(
            "start",
            {"status": DatasetStatus.IMPORTING.value, "importStartedAt": int(time.time())},
            "uploadId = :upload AND #status IN (:uploading, :importing)",
            {":uploading": DatasetStatus.UPLOADING.value, ":importing": DatasetStatus.IMPORTING.value},
            "ADD #pending :source",  # the upload is this import's from now on: recorded with it
            {":source": {self.source}},
        )

    def _record(self, planned: list[str]) -> bool:
        """The keys this import is about to write, on the item (`pending`) before any is written, if
        it may still switch: whoever comes next (a redelivery, another import, the DELETE) finds them."""
        transaction = Transaction().update(
            self._sk(),
            "ADD #pending :pending",
            condition="uploadId = :upload AND #status = :importing AND attribute_not_exists(deletingAt)",
            names={"#pending": PENDING, "#status": "status"},
            values={
                ":pending": set(planned),
                ":upload": self.upload_id,
                ":importing": DatasetStatus.IMPORTING.value,
            },
            on_fail=lambda _old: _Refused(),
        )
        try:
            self.store.commit(transaction, None)  # bookkeeping: no version, no audit
        except _Refused:
            return False
        return True

    def _import(self, item: dict[str, Any]) -> dict[str, Any]:
        try:
            source_bytes = self.objects.size(self.source)
        except ObjectNotFoundError:
            raise ImportFailure(IMPORT_FAILED, "the uploaded file is gone") from None
        max_bytes = item.get("maxBytes")
        if max_bytes is not None and source_bytes > int(max_bytes):
            raise ImportFailure(TOO_LARGE, f"the file has {source_bytes} bytes, more than {max_bytes}")
        fmt = CsvFormat(
            bool(item.get("hasHeader", True)),
            str(item.get("delimiter") or ","),
            str(item.get("encoding") or "utf-8"),
        )
        partition_column = item.get("partitionColumn") or None
        work = Path(tempfile.mkdtemp(prefix="dataset-import-", dir=self.work_root))
        try:
            local = work / "source.csv"
            self.objects.download(self.source, str(local))
            connection = connect(work)
            try:
                converted = convert(connection, local, fmt, work / "out", partition_column)
            finally:
                connection.close()
            planned = self._planned(converted, partition_column)
            files = [relative for _, relative in planned]
            preview = layout.preview_key(self.dataset_id, self.upload_id)
            if not self._record([*files, preview]):
                return self._refused()
            self._upload(converted, planned, preview)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return self._switch(item, converted, files, source_bytes, partition_column)

    def _planned(self, converted: Converted, partition_column: str | None) -> list[tuple[Path, str]]:
        """Each Parquet file with its key under `imports/<U>/` (fixed names: a retry overwrites)."""
        return [
            (
                path,
                layout.partition_key(self.dataset_id, self.upload_id, partition_column, value)
                if partition_column is not None
                else layout.data_key(self.dataset_id, self.upload_id),
            )
            for value, path in converted.parquet
        ]

    def _upload(self, converted: Converted, planned: list[tuple[Path, str]], preview: str) -> None:
        """Every Parquet file and the preview (their keys recorded in `pending` already)."""
        for path, relative in planned:
            self.written.append(relative)
            self.objects.upload(str(path), relative)
        self.written.append(preview)
        self.objects.put_bytes(
            preview, json.dumps(converted.preview, separators=(",", ":")).encode(), "application/json"
        )

    def _switch(
        self,
        item: dict[str, Any],
        converted: Converted,
        files: list[str],
        source_bytes: int,
        partition_column: str | None,
    ) -> dict[str, Any]:
        changes = {
            "status": DatasetStatus.READY.value,
            "importId": self.upload_id,
            "files": files,
            "sourceKey": self.source,
            "rowCount": converted.row_count,
            "columnCount": len(converted.columns),
            "columns": [column.model_dump(mode="json") for column in converted.columns],
            "sizeBytes": converted.size_bytes,
            "sourceBytes": source_bytes,
            "partitions": converted.partitions if partition_column is not None else None,
            "dataVersion": int(item.get("dataVersion") or 0) + 1,
            "importedAt": now_iso(),
            "error": None,
        }
        mine = {*files, layout.preview_key(self.dataset_id, self.upload_id), self.source}
        # The previous import's objects: recorded as garbage by the switch itself, deleted after it.
        previous = {str(key) for key in item.get("files") or ()}
        if item.get("importId"):
            previous.add(layout.preview_key(self.dataset_id, str(item["importId"])))
        if item.get("sourceKey"):
            previous.add(str(item["sourceKey"]))
        previous -= mine | {self.source}
        sets = "DELETE #pending :mine" + (" ADD #garbage :previous" if previous else "")
        switched = self._update(
            "ready",
            changes,
            "uploadId = :upload AND #status = :importing AND attribute_not_exists(deletingAt)",
            {":importing": DatasetStatus.IMPORTING.value},
            sets,
            {":mine": mine, **({":previous": previous} if previous else {})},
        )
        if not switched:
            return self._refused()
        return self._finish("ready", rowCount=converted.row_count, files=len(files))

    def _refused(self) -> dict[str, Any]:
        """The record or the switch was refused: a twin delivery of this upload switched (its
        objects are the item's now: kept), or another upload or a delete took over (what this one
        wrote, and its upload, go)."""
        current = self._item()
        if current is not None and current.get("importId") == self.upload_id:
            return self._finish("duplicate", current)
        return self._finish("superseded", current)

    def _fail(self, error: DatasetError) -> dict[str, Any]:
        failed = self._update(
            "failed",
            {"status": DatasetStatus.FAILED.value, "error": error.model_dump(mode="json", exclude_none=True)},
            "uploadId = :upload AND #status = :importing",
            {":importing": DatasetStatus.IMPORTING.value},
        )
        return self._finish("failed" if failed else "superseded", error=error.model_dump(mode="json"))
