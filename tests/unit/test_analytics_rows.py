"""A card's rows as DuckDB writes them (analytics/rows.py): the JSON text passed through to the executor
holds exactly the values the card was given when each value became a Python object first (the
reference below: DuckDB's Python values, dates and datetimes as `isoformat()`, non-finite floats as
null), bit for bit for floats, in the files' row order; its size is its UTF-8 bytes; rows that cannot
fit the budget are refused before any JSON is made; the executor's payload puts the texts in as they
are."""

from __future__ import annotations

import datetime
import json
import math
import random
import shutil
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import duckdb
import pytest

from tenancy.application.access.tenant_objects import TenantObjects
from tenancy.application.analytics import executor, rows
from tenancy.application.analytics.errors import CardInputTooLargeError
from tenancy.application.analytics.models import CategoryFilter, DateRangeFilter
from tenancy.application.sandbox.contract import MAX_REQUEST_BYTES, ExecutionRequest

SQL_TYPES = {
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "string": "VARCHAR",
}
COLUMNS = [
    ("n", "int64"),
    ("x", "float64"),
    ("flag", "bool"),
    ("day", "date"),
    ("at", "datetime"),
    ("text", "string"),
]


class Objects:
    """TenantObjects' two methods the file cache uses, over local files (relative key -> path)."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files
        self.downloaded: list[str] = []

    def key(self, relative: str) -> str:
        return f"tenants/t/{relative}"

    def download(self, relative: str, path: str) -> None:
        self.downloaded.append(relative)
        shutil.copy(self.files[relative], path)


def write_parquet(path: Path, columns: Sequence[tuple[str, str]], data: Sequence[Sequence[Any]]) -> None:
    connection = duckdb.connect(":memory:")
    definition = ", ".join(f'"{name}" {SQL_TYPES[kind]}' for name, kind in columns)
    connection.execute(f"CREATE TABLE t ({definition})")
    if data:  # a JSON list of texts per column, cast by DuckDB (Python parameters are slow per value)
        lists = ", ".join(
            f"CAST(unnest(from_json(?, '[\"VARCHAR\"]')) AS {SQL_TYPES[kind]})" for _, kind in columns
        )
        texts = [json.dumps([_text(value) for value in values]) for values in zip(*data, strict=True)]
        connection.execute(f"INSERT INTO t SELECT {lists}", texts)
    connection.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    connection.close()


def _text(value: Any) -> str | None:
    """A value as text DuckDB casts back to it exactly (a float's repr round-trips)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def dataset(
    tmp_path: Path, parts: Sequence[Sequence[Sequence[Any]]], columns: Sequence[tuple[str, str]] = COLUMNS
) -> tuple[TenantObjects, dict[str, Any], list[Path]]:
    """A dataset item of one file per part (in that order) and the objects holding them."""
    files: dict[str, Path] = {}
    for index, data in enumerate(parts):
        local = tmp_path / f"part-{index}.parquet"
        write_parquet(local, columns, data)
        files[f"datasets/d/imports/i/data/part-{index:04d}.parquet"] = local
    item = {
        "datasetId": "d",
        "files": list(files),
        "columns": [{"name": name, "type": kind, "nullable": True} for name, kind in columns],
    }
    return cast(TenantObjects, Objects(files)), item, list(files.values())


def reference(paths: Sequence[Path], columns: Sequence[str], where: str = "") -> dict[str, list[Any]]:
    """What a card was given when every value became a Python object (the former reading)."""

    def json_value(value: Any) -> Any:
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    connection = duckdb.connect(":memory:")
    found: list[tuple[Any, ...]] = []
    projection = ", ".join(f'"{name}"' for name in columns)
    for path in paths:
        found += connection.execute(f"SELECT {projection} FROM read_parquet('{path}'){where}").fetchall()  # noqa: S608
    connection.close()
    return {name: [json_value(row[i]) for row in found] for i, name in enumerate(columns)}


def same(left: Any, right: Any) -> bool:
    """Equal, floats bit for bit (-0.0 is not 0.0), ints not floats."""
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) or isinstance(right, float):
        return type(left) is type(right) and struct.pack("<d", left) == struct.pack("<d", right)
    return type(left) is type(right) and left == right


def random_double(rng: random.Random) -> float:
    """Any double (subnormals, huge, tiny, negative), from random bits."""
    return float(struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0])


def edge_rows() -> list[tuple[Any, ...]]:
    rng = random.Random(13)  # noqa: S311 (test data)
    doubles = [
        0.0,
        -0.0,
        0.1,
        5.0,
        1e20,
        1e-7,
        1e300,
        5e-324,
        2.2250738585072014e-308,
        123456789.12345679,
        float("nan"),
        float("inf"),
        float("-inf"),
        None,
        *(random_double(rng) for _ in range(3000)),
        *(round(rng.uniform(1, 5000), 2) for _ in range(1000)),
    ]
    texts = [
        "",
        'quote " and \\ backslash',
        "control \x00\x01\x1f\t\n\r",
        "unicode é ß 漢字 🦆 \u2028\u2029",
        "</script><b>",
        None,
    ]
    ints = [0, -1, 1, 2**63 - 1, -(2**63), None, *(rng.randrange(-(2**63), 2**63) for _ in range(100))]
    days = [datetime.date(1, 1, 1), datetime.date(9999, 12, 31), datetime.date(2024, 2, 29), None]
    moments = [
        datetime.datetime(1, 1, 1),
        datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
        datetime.datetime(2024, 1, 2, 3, 4, 5),
        datetime.datetime(2024, 1, 2, 3, 4, 5, 120000),
        datetime.datetime(2024, 1, 2, 3, 4, 5, 1),
        None,
    ]
    return [
        (
            ints[i % len(ints)],
            doubles[i],
            [True, False, None][i % 3],
            days[i % len(days)],
            moments[i % len(moments)],
            texts[i % len(texts)],
        )
        for i in range(len(doubles))
    ]


def test_the_text_holds_every_value_as_the_card_was_given_it(tmp_path: Path) -> None:
    data = edge_rows()
    objects, item, paths = dataset(tmp_path, [data])
    names = [name for name, _ in COLUMNS]
    read = rows.read(objects, item, names, [], files=rows.FileCache(str(tmp_path / "cache")))
    given = json.loads(read.text)
    expected = reference(paths, names)
    assert given["datasetId"] == "d"
    assert given["columns"] == [{"name": name, "type": kind} for name, kind in COLUMNS]
    assert given["rowCount"] == read.row_count == len(data)
    assert list(given["data"]) == names
    for name in names:
        assert same(given["data"][name], expected[name]), name
    # the forms, spelled out
    assert given["data"]["day"][:4] == ["0001-01-01", "9999-12-31", "2024-02-29", None]
    assert given["data"]["at"][:6] == [
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59.999999",
        "2024-01-02T03:04:05",
        "2024-01-02T03:04:05.120000",
        "2024-01-02T03:04:05.000001",
        None,
    ]
    assert given["data"]["x"][10:14] == [None, None, None, None]  # nan, inf, -inf, null
    assert read.size == len(read.text.encode())
    ExecutionRequest.model_validate({"code": "", "datasets": [given]})  # the contract's shape


def test_rows_keep_their_files_order_filtered_and_projected(tmp_path: Path) -> None:
    parts = [
        [(n, n / 2, n % 2 == 0, None, None, f"r{n % 3}") for n in range(start, start + 7000)]
        for start in (20000, 0, 10000)
    ]
    objects, item, paths = dataset(tmp_path, parts)
    cache = rows.FileCache(str(tmp_path / "cache"))
    read = rows.read(objects, item, ["text", "n"], [], files=cache)
    given = json.loads(read.text)["data"]
    assert list(given) == ["text", "n"]  # the card's order, not the file's
    assert given["n"] == [n for part in parts for n, *_ in part]
    picked = [CategoryFilter(column="text", values=["r1"])]
    read = rows.read(objects, item, ["n", "x"], picked, files=cache)
    given = json.loads(read.text)["data"]
    assert given == reference(paths, ["n", "x"], " WHERE text = 'r1'")
    assert read.row_count == len(given["n"]) == 7000
    nothing = [DateRangeFilter.model_validate({"column": "day", "from": "2024-01-01", "to": "2024-01-02"})]
    empty = rows.read(objects, item, ["n", "text"], nothing, files=cache)
    assert json.loads(empty.text)["data"] == {"n": [], "text": []}
    assert empty.row_count == 0
    # no column at all: the rows are counted
    counted = rows.read(objects, item, [], [], files=cache)
    assert (json.loads(counted.text)["data"], counted.row_count) == ({}, 21000)


def test_a_column_named_like_the_row_number_keeps_its_values(tmp_path: Path) -> None:
    columns = [("__row", "string"), ("__row_", "int64")]
    objects, item, _ = dataset(tmp_path, [[("b", 2), ("a", 1), (None, None)]], columns)
    read = rows.read(objects, item, ["__row", "__row_"], [], files=rows.FileCache(str(tmp_path / "cache")))
    assert json.loads(read.text)["data"] == {"__row": ["b", "a", None], "__row_": [2, 1, None]}


def test_rows_that_cannot_fit_are_refused_before_any_json_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long = [(n, None, None, None, None, "x" * 1000) for n in range(100)]
    objects, item, _ = dataset(tmp_path, [long])
    cache = rows.FileCache(str(tmp_path / "cache"))
    fits = rows.read(objects, item, ["text"], [], files=cache)
    assert fits.size > 100_000

    def no_json(*_: Any) -> str:
        raise AssertionError("JSON made for rows that cannot fit")

    with monkeypatch.context() as patched:
        patched.setattr(rows, "_json_expression", no_json)
        with pytest.raises(CardInputTooLargeError) as refused:
            rows.read(objects, item, ["text"], [], budget=100 * 1003 - 1, files=cache)
    assert refused.value.status_code == 413
    assert refused.value.code == "CARD_INPUT_TOO_LARGE"
    assert refused.value.details == {"maxBytes": MAX_REQUEST_BYTES, "datasetId": "d"}
    # the lower bound passes (2 bytes an int), the text itself does not: refused on its size
    assert rows.read(objects, item, ["n"], [], budget=fits.size, files=cache).size < 500
    with pytest.raises(CardInputTooLargeError):
        rows.read(objects, item, ["n"], [], budget=250, files=cache)
    # exactly the budget fits
    assert rows.read(objects, item, ["text"], [], budget=fits.size, files=cache).size == fits.size


def test_the_payload_puts_the_dataset_texts_in_as_they_are() -> None:
    request = {"code": "html = 'é'", "params": {"a": [1, 2]}, "filters": []}
    first = '{"datasetId":"a","columns":[],"data":{},"rowCount":0}'
    second = (
        '{"datasetId":"b","columns":[{"name":"v","type":"float64"}],"data":{"v":[1.5,null]},"rowCount":2}'
    )
    sent = executor.payload(request, [first, second])
    assert json.loads(sent) == {**request, "datasets": [json.loads(first), json.loads(second)]}
    assert sent.endswith(f"[{first},{second}]}}".encode())
    assert json.loads(executor.payload(request)) == {**request, "datasets": []}
    with pytest.raises(ValueError, match="without `datasets`"):
        executor.payload({**request, "datasets": []}, [first])
