"""A dataset's rows, read as the tenant for one card: its current import's Parquet files (the item's
`files`, keys relative to the tenant's prefix), projected to the columns the card uses, filtered by
the filters that apply to it, as columnar JSON text (the executor contract's `DatasetInput`).

- Files are downloaded with the tenant's credentials (`TenantObjects.download`) into a local cache
  under /tmp keyed by tenant, dataset and import (the key itself names them: an import's files never
  change, a new import has new keys), bounded in size with least-recently-used eviction: a warm
  function reads a dataset again without downloading it.
- A filter applies only to a column the card names in `filterColumns` that the dataset has.
  Category: the column's value, as text, is one of the values; date range: the column's date (a
  date, the date of a datetime, or text that is a date) is within from..to, both included.
- A partitioned dataset's files (`partitions/<column>=<value>/`) that a filter on the partition
  column excludes are never downloaded.
- DuckDB writes the JSON (`to_json` of each column's list, in the rows' order), and the text is
  passed through to the executor as it is: no value becomes a Python object on this side. Values
  are typed as the schema says; dates and datetimes as ISO-8601 text (as `isoformat()` writes
  them), non-finite floats as null.
- The rows a card is given are at most `contract.MAX_REQUEST_BYTES` serialized (a Lambda payload
  is 6 MB): a read over that is refused with 413 `CARD_INPUT_TOO_LARGE` — first from a lower
  bound of the size summed by a scan that makes no text (nothing is built for rows that cannot
  fit), then from the text's own size.

This module and `datasets/importer.py` are the only ones that import duckdb (the engine layer).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from tenancy.application.access.tenant_objects import TenantObjects
from tenancy.application.analytics.errors import CardInputTooLargeError
from tenancy.application.analytics.models import AnyFilter, CategoryFilter, DateRangeFilter
from tenancy.application.datasets.models import ColumnType
from tenancy.application.sandbox.contract import MAX_REQUEST_BYTES
from tenancy.common.errors import ValidationFailedError

CACHE_BYTES = 256 * 1024 * 1024  # of Lambda's 512 MB of /tmp by default
_SQL_TYPES = {
    ColumnType.INT64: "BIGINT",
    ColumnType.FLOAT64: "DOUBLE",
    ColumnType.BOOL: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.DATETIME: "TIMESTAMP",
    ColumnType.STRING: "VARCHAR",
}
# The types a date range applies to (a date, the date of a datetime, text that is a date).
_DATED = {ColumnType.DATE, ColumnType.DATETIME, ColumnType.STRING}
# The partition column types whose key segment is exactly the value's text (pruning compares texts).
_PRUNABLE = {ColumnType.STRING, ColumnType.INT64, ColumnType.DATE}
_PARTITIONS = "/partitions/"


# --- the local file cache ----------------------------------------------------------------------


class FileCache:
    """Parquet files downloaded as their tenant, under `root/tenants/<tenantId>/datasets/<datasetId>/
    imports/<importId>/...`, at most `max_bytes` of them (least recently used go first; a file in
    use by a read is never evicted under it). Thread-safe: a dashboard's cards read concurrently."""

    def __init__(self, root: str, max_bytes: int = CACHE_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._sizes: OrderedDict[str, int] = OrderedDict()
        self._pins: dict[str, int] = {}
        self._total = 0
        self._lock = threading.Lock()
        self.downloads = 0

    def path(self, objects: TenantObjects, relative: str) -> str:
        return os.path.join(self.root, objects.key(relative))

    @contextmanager
    def files(self, objects: TenantObjects, relatives: Sequence[str]) -> Iterator[list[str]]:
        """The local paths of `relatives`, downloaded where they are not cached, kept while in use."""
        paths: list[str] = []
        try:
            for relative in relatives:
                path = self.path(objects, relative)
                with self._lock:
                    self._pins[path] = self._pins.get(path, 0) + 1
                paths.append(path)
                self._ensure(objects, relative, path)
            yield paths
        finally:
            with self._lock:
                for path in paths:
                    self._pins[path] -= 1
                    if not self._pins[path]:
                        del self._pins[path]
                self._evict()

    def _ensure(self, objects: TenantObjects, relative: str, path: str) -> None:
        with self._lock:
            if path in self._sizes:
                if os.path.exists(path):
                    self._sizes.move_to_end(path)
                    return
                self._total -= self._sizes.pop(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        partial = f"{path}.{uuid.uuid4().hex}.part"
        try:
            objects.download(relative, partial)
            os.replace(partial, path)  # readers see a whole file or none
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        size = os.path.getsize(path)
        with self._lock:
            self.downloads += 1
            if path not in self._sizes:
                self._total += size
            self._sizes[path] = size
            self._evict()

    def _evict(self) -> None:
        """Oldest first, until within `max_bytes` (files in use stay). Holds the lock."""
        for path in list(self._sizes):
            if self._total <= self.max_bytes:
                return
            if path in self._pins:
                continue
            self._total -= self._sizes.pop(path)
            with suppress(FileNotFoundError):
                os.remove(path)

    def clear(self) -> None:
        with self._lock:
            self._sizes.clear()
            self._total = 0
            shutil.rmtree(self.root, ignore_errors=True)


_cache: FileCache | None = None
_cache_lock = threading.Lock()


def cache() -> FileCache:
    """The execution environment's cache (one per process: its own directory under /tmp)."""
    global _cache
    with _cache_lock:
        if _cache is None:
            root = os.path.join(tempfile.gettempdir(), f"tenancy-datasets-{os.getpid()}")
            shutil.rmtree(root, ignore_errors=True)  # nothing of an earlier process is trusted
            _cache = FileCache(root)
        return _cache


# --- what applies to a card ----------------------------------------------------------------------


def schema_of(dataset: dict[str, Any]) -> dict[str, ColumnType]:
    """A dataset item's columns, name -> type, in the dataset's order."""
    return {str(column["name"]): ColumnType(str(column["type"])) for column in dataset.get("columns") or []}


def applicable(
    filters: Sequence[AnyFilter], filter_columns: Sequence[str], schema: dict[str, ColumnType]
) -> list[AnyFilter]:
    """The filters that apply to one dataset of a card: on a column the card lets filters apply to
    (`filterColumns`) that the dataset has (a date range: of a date, datetime or text column)."""
    allowed = set(filter_columns)
    return [
        found
        for found in filters
        if found.column in allowed
        and found.column in schema
        and (isinstance(found, CategoryFilter) or schema[found.column] in _DATED)
    ]


def projections(used_columns: Sequence[str], schemas: Sequence[dict[str, ColumnType]]) -> list[list[str]]:
    """Per dataset, the columns the card is given: those of `used_columns` it has (in that order),
    or all of them when the card names none. A used column no dataset has is a 422 naming it."""
    if not used_columns:
        return [list(schema) for schema in schemas]
    details = [
        {
            "field": f"usedColumns.{index}",
            "location": "body",
            "message": f"no dataset of the card has {name!r}",
        }
        for index, name in enumerate(used_columns)
        if not any(name in schema for schema in schemas)
    ]
    if details:
        raise ValidationFailedError("the card uses columns its datasets do not have", details)
    return [[name for name in used_columns if name in schema] for schema in schemas]


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """One dataset's input to the executor: a `contract.DatasetInput` as JSON text (its values
    written by DuckDB, passed through as they are), its size in bytes (UTF-8) and its row count."""

    text: str
    size: int
    row_count: int


def dataset_input(dataset_id: str, specs: list[dict[str, str]], data: dict[str, str], count: int) -> Rows:
    """A `DatasetInput`'s JSON text, with `data`'s columns given as JSON array texts."""
    columns = ",".join(f"{_dumps(name)}:{values}" for name, values in data.items())
    text = (
        f'{{"datasetId":{_dumps(dataset_id)},"columns":{_dumps(specs)},'
        f'"data":{{{columns}}},"rowCount":{count}}}'
    )
    return Rows(text, len(text.encode()), count)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def partition_value(relative: str) -> tuple[str, str | None] | None:
    """(column, value) of a partition file's key (`.../partitions/<column>=<value>/part-0000.parquet`),
    None for an unpartitioned file."""
    if _PARTITIONS not in relative:
        return None
    segment = relative.split(_PARTITIONS, 1)[1].split("/", 1)[0]
    column, _, value = segment.partition("=")
    if value == "__null__":
        return unquote(column), None
    return unquote(column), "" if value == "__empty__" else unquote(value)


def _keeps(value: str | None, column_type: ColumnType, filters: Sequence[AnyFilter]) -> bool:
    """Whether a partition of `value` may hold rows the filters (on its column) let through."""
    for found in filters:
        if isinstance(found, CategoryFilter):
            if column_type in _PRUNABLE and (value is None or value not in found.values):
                return False
        elif column_type == ColumnType.DATE and (value is None or not found.from_ <= value[:10] <= found.to):
            return False
    return True


def pruned(dataset: dict[str, Any], filters: Sequence[AnyFilter]) -> list[str]:
    """The dataset's files a card may need: all of them, less the partitions the filters on the
    partition column exclude (decided from the keys alone: nothing is downloaded)."""
    files = [str(key) for key in dataset.get("files") or []]
    column = dataset.get("partitionColumn")
    schema = schema_of(dataset)
    on_partition = [found for found in filters if found.column == column]
    if not column or column not in schema or not on_partition:
        return files
    kept = []
    for relative in files:
        parsed = partition_value(relative)
        if parsed is None or parsed[0] != column or _keeps(parsed[1], schema[column], on_partition):
            kept.append(relative)
    return kept


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _where(filters: Sequence[AnyFilter], schema: dict[str, ColumnType]) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for found in filters:
        column = _ident(found.column)
        if isinstance(found, CategoryFilter):
            clauses.append(f"CAST({column} AS VARCHAR) IN ({', '.join('?' for _ in found.values)})")
            params += found.values
        elif isinstance(found, DateRangeFilter):
            kind = schema[found.column]
            dated = (
                column
                if kind == ColumnType.DATE
                else f"CAST({column} AS DATE)"
                if kind == ColumnType.DATETIME
                else f"TRY_CAST({column} AS DATE)"
            )
            clauses.append(f"{dated} BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)")
            params += [found.from_, found.to]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _json_expression(column: str, column_type: ColumnType) -> str:
    """A column's values as the card is given them, for DuckDB's `to_json`: its schema's type;
    dates and datetimes as ISO-8601 text (`date.isoformat()`/`datetime.isoformat()`'s forms:
    microseconds only when there are some), non-finite floats as null."""
    name = _ident(column)
    match column_type:
        case ColumnType.INT64:
            return f"CAST({name} AS BIGINT)"
        case ColumnType.FLOAT64:
            return f"(CASE WHEN isfinite(CAST({name} AS DOUBLE)) THEN CAST({name} AS DOUBLE) END)"
        case ColumnType.BOOL:
            return f"CAST({name} AS BOOLEAN)"
        case ColumnType.DATE:
            return f"strftime(CAST({name} AS DATE), '%Y-%m-%d')"
        case ColumnType.DATETIME:
            moment = f"CAST({name} AS TIMESTAMP)"
            return (
                f"(CASE WHEN microsecond({moment}) % 1000000 = 0 "
                f"THEN strftime({moment}, '%Y-%m-%dT%H:%M:%S') "
                f"ELSE strftime({moment}, '%Y-%m-%dT%H:%M:%S.%f') END)"
            )
        case _:
            return f"CAST({name} AS VARCHAR)"


# The fewest bytes a non-null value of each type takes in JSON, its separator included ("0,",
# "0.0,", "true,", quoted ISO dates and datetimes); text is its UTF-8 length + 3, null "null,".
_LEAST_BYTES = {
    ColumnType.INT64: 2,
    ColumnType.FLOAT64: 4,
    ColumnType.BOOL: 5,
    ColumnType.DATE: 13,
    ColumnType.DATETIME: 22,
}


def _least_bytes(column: str, column_type: ColumnType) -> str:
    """A lower bound of a row's value's bytes in the columnar JSON (a cheap scan: no text is made)."""
    name = _ident(column)
    if column_type in _LEAST_BYTES:
        return f"(CASE WHEN {name} IS NULL THEN 5 ELSE {_LEAST_BYTES[column_type]} END)"
    return f"coalesce(strlen(CAST({name} AS VARCHAR)) + 3, 5)"


def _unused(name: str, taken: Sequence[str]) -> str:
    while name in taken:
        name += "_"
    return name


def _source(connection: Any, path: str, dataset: dict[str, Any], schema: dict[str, ColumnType]) -> str:
    """One file as a relation; a partition file that does not hold its partition column gets it
    from its key (typed as the dataset's schema says). Every name in the SQL is quoted (`_ident`),
    every text a quoted literal (`_literal`); filter values are bound parameters."""
    relation = f"read_parquet({_literal(path)})"
    whole = f"SELECT * FROM {relation}"  # noqa: S608 (a quoted literal)
    parsed = partition_value(path)
    column = dataset.get("partitionColumn")
    if parsed is None or not column or parsed[0] != column or column not in schema:
        return whole
    held = {str(d[0]) for d in connection.execute(f"{whole} LIMIT 0").description}
    if column in held:
        return whole
    value = "NULL" if parsed[1] is None else _literal(parsed[1])
    added = f"CAST({value} AS {_SQL_TYPES[schema[column]]}) AS {_ident(column)}"
    return f"SELECT *, {added} FROM {relation}"  # noqa: S608 (quoted literals and names)


def read(
    objects: TenantObjects,
    dataset: dict[str, Any],
    columns: Sequence[str],
    filters: Sequence[AnyFilter],
    *,
    budget: int = MAX_REQUEST_BYTES,
    files: FileCache | None = None,
) -> Rows:
    """The dataset's rows (its current import's files) for one card: `columns` (names of its
    schema), filtered by `filters` (those that apply: `applicable`), at most `budget` bytes of JSON
    (413 CARD_INPUT_TOO_LARGE beyond).

    DuckDB writes the JSON: per column, `to_json(list(value ORDER BY row))` over the rows in their
    files' order (`row_number() OVER ()` keeps it). First, a scan that makes no text sums a lower
    bound of their size (`_least_bytes`): rows that cannot fit are refused before any JSON is made
    (what is made for rows that pass is at most a few times the budget); then the text's own size
    is checked."""
    import duckdb

    files = files or cache()
    schema = schema_of(dataset)
    specs = [{"name": name, "type": str(schema[name])} for name in columns]
    wanted = pruned(dataset, filters)
    dataset_id = str(dataset["datasetId"])
    too_large = CardInputTooLargeError(
        f"the card's rows are over {MAX_REQUEST_BYTES} bytes serialized; use fewer columns (usedColumns) or filters",
        {"maxBytes": MAX_REQUEST_BYTES, "datasetId": dataset_id},
    )
    texts: list[str] = ["[]" for _ in columns]
    count = 0
    if wanted:
        with files.files(objects, wanted) as paths:
            connection = duckdb.connect(
                ":memory:",
                config={
                    "threads": 1,
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
                },
            )
            try:
                sources = " UNION ALL BY NAME ".join(
                    f"({_source(connection, path, dataset, schema)})" for path in paths
                )
                where, params = _where(filters, schema)
                projection = ", ".join(_ident(name) for name in columns) or "1 AS __row"
                selected = f"SELECT {projection} FROM ({sources}){where}"  # noqa: S608 (names quoted, values bound)
                least = " + ".join(_least_bytes(name, schema[name]) for name in columns) or "0"
                counted = connection.execute(
                    f"SELECT count(*), coalesce(sum({least}), 0) FROM ({selected})",  # noqa: S608 (as above)
                    params,
                ).fetchone()
                count, lower_bound = (int(counted[0]), int(counted[1])) if counted else (0, 0)
                if lower_bound > budget:
                    raise too_large
                if count and columns:
                    row = _ident(_unused("__row", columns))
                    lists = ", ".join(
                        f"to_json(list({_json_expression(name, schema[name])} ORDER BY {row}))"
                        for name in columns
                    )
                    ordered = f"SELECT row_number() OVER () AS {row}, * FROM ({selected})"  # noqa: S608
                    made = connection.execute(f"SELECT {lists} FROM ({ordered})", params).fetchone()  # noqa: S608
                    texts = [str(text) for text in made] if made else texts
            finally:
                connection.close()
    rows = dataset_input(dataset_id, specs, dict(zip(columns, texts, strict=True)), count)
    if rows.size > budget:
        raise too_large
    return rows
