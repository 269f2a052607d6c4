"""A dataset's rows, read as the tenant for one card: its current import's Parquet files (the item's
`files`, keys relative to the tenant's prefix), projected to the columns the card uses, filtered by
the filters that apply to it, as columnar JSON values (the executor contract's `DatasetInput`).

- Files are downloaded with the tenant's credentials (`TenantObjects.download`) into a local cache
  under /tmp keyed by tenant, dataset and import (the key itself names them: an import's files never
  change, a new import has new keys), bounded in size with least-recently-used eviction: a warm
  function reads a dataset again without downloading it.
- A filter applies only to a column the card names in `filterColumns` that the dataset has.
  Category: the column's value, as text, is one of the values; date range: the column's date (a
  date, the date of a datetime, or text that is a date) is within from..to, both included.
- A partitioned dataset's files (`partitions/<column>=<value>/`) that a filter on the partition
  column excludes are never downloaded.
- Values are JSON-safe: dates and datetimes as ISO-8601 text, non-finite floats as null.
- The rows a card is given are at most `contract.MAX_REQUEST_BYTES` serialized (a Lambda payload
  is 6 MB): a read over that is refused with 413 `CARD_INPUT_TOO_LARGE`, stopping as soon as it
  gets there.

This module and `datasets/importer.py` are the only ones that import duckdb (the engine layer).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from tenancy.application.access.tenant_objects import TenantObjects
from tenancy.application.analytics.errors import CardInputTooLargeError
from tenancy.application.analytics.models import AnyFilter, CategoryFilter, DateRangeFilter
from tenancy.application.datasets.models import ColumnType
from tenancy.application.sandbox.contract import MAX_REQUEST_BYTES
from tenancy.common.errors import ValidationFailedError

CACHE_BYTES = 256 * 1024 * 1024  # of Lambda's 512 MB of /tmp by default
_BATCH = 5000  # rows fetched (and sized) at a time
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
    """One dataset's input to the executor (`contract.DatasetInput` as JSON values) and its size."""

    input: dict[str, Any]
    size: int  # bytes of its serialized data, about


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


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.date):  # datetime.datetime too
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


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
    schema), filtered by `filters` (those that apply: `applicable`), at most `budget` bytes (413
    CARD_INPUT_TOO_LARGE beyond)."""
    import duckdb

    files = files or cache()
    schema = schema_of(dataset)
    specs = [{"name": name, "type": str(schema[name])} for name in columns]
    data: dict[str, list[Any]] = {name: [] for name in columns}
    wanted = pruned(dataset, filters)
    dataset_id = str(dataset["datasetId"])
    if not wanted:
        return Rows({"datasetId": dataset_id, "columns": specs, "data": data, "rowCount": 0}, 2)
    size = 0
    with files.files(objects, wanted) as paths:
        connection = duckdb.connect(
            ":memory:",
            config={"threads": 2, "autoinstall_known_extensions": False, "autoload_known_extensions": False},
        )
        try:
            sources = " UNION ALL BY NAME ".join(
                f"({_source(connection, path, dataset, schema)})" for path in paths
            )
            where, params = _where(filters, schema)
            projection = ", ".join(_ident(name) for name in columns) or "1 AS __row"
            query = f"SELECT {projection} FROM ({sources}){where}"  # noqa: S608 (names quoted, values bound)
            cursor = connection.execute(query, params)
            count = 0
            while batch := cursor.fetchmany(_BATCH):
                count += len(batch)
                values = [[_json_value(value) for value in row] for row in batch] if columns else []
                size += len(json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode())
                if size > budget:
                    raise CardInputTooLargeError(
                        f"the card's rows are over {MAX_REQUEST_BYTES} bytes serialized; "
                        "use fewer columns (usedColumns) or filters",
                        {"maxBytes": MAX_REQUEST_BYTES, "datasetId": dataset_id},
                    )
                for row in values:
                    for name, value in zip(columns, row, strict=True):
                        data[name].append(value)
        finally:
            connection.close()
    return Rows({"datasetId": dataset_id, "columns": specs, "data": data, "rowCount": count}, size)
