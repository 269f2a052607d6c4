"""The import's CSV parsing (DuckDB, local files only): each type inferred over the whole file with
nulls, header names, delimiters, encodings, each malformation failed with its line, the partitioned
layout's files and the preview document."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tenancy.application.datasets.importer import (
    CSV_ENCODING,
    CSV_MALFORMED,
    EMPTY_FILE,
    MAX_PARTITIONS,
    PARTITION_COLUMN_UNKNOWN,
    TOO_MANY_COLUMNS,
    TOO_MANY_PARTITIONS,
    Converted,
    CsvFormat,
    ImportFailure,
    column_type_of,
    connect,
    convert,
    memory_limit_mb,
)
from tenancy.application.datasets.models import MAX_COLUMNS, PREVIEW_ROWS, ColumnType


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Any]:
    connections: list[duckdb.DuckDBPyConnection] = []

    def convert_bytes(data: bytes, fmt: CsvFormat | None = None, partition: str | None = None) -> Converted:
        work = tmp_path / f"run{len(connections)}"
        work.mkdir()
        (work / "source.csv").write_bytes(data)
        connection = connect(work)
        connections.append(connection)
        return convert(connection, work / "source.csv", fmt or CsvFormat(), work / "out", partition)

    yield convert_bytes
    for connection in connections:
        connection.close()


def failure(run: Any, data: bytes, fmt: CsvFormat | None = None, partition: str | None = None) -> Any:
    with pytest.raises(ImportFailure) as raised:
        run(data, fmt, partition)
    return raised.value.error


def types_of(converted: Converted) -> dict[str, str]:
    return {column.name: column.type.value for column in converted.columns}


def rows_of(path: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect() as connection:
        query = "SELECT * FROM read_parquet(?, hive_partitioning = false)"
        return connection.execute(query, [str(path)]).fetchall()


# --- types ----------------------------------------------------------------------------------


def test_each_type_is_inferred_from_every_value_with_nulls(run: Any) -> None:
    csv = (
        b"i,f,b,d,t,s,empty\n"
        b"1,1.5,true,2024-01-02,2024-01-02 10:00:00,x,\n"
        b",,,,,,\n"
        b" -3 ,2,FALSE,2024-02-29,2024-02-03T11:12:13.5,y z,\n"
        b"+4,1e3,False,1999-12-31,2024-02-03T11:12:13Z,,\n"
    )
    converted = run(csv)
    assert types_of(converted) == {
        "i": "int64",
        "f": "float64",
        "b": "bool",
        "d": "date",
        "t": "datetime",
        "s": "string",
        "empty": "string",
    }
    assert all(column.nullable for column in converted.columns)
    assert converted.row_count == 4
    [(_, parquet)] = converted.parquet
    assert rows_of(parquet) == [
        (1, 1.5, True, date(2024, 1, 2), datetime(2024, 1, 2, 10), "x", None),
        (None, None, None, None, None, None, None),
        (-3, 2.0, False, date(2024, 2, 29), datetime(2024, 2, 3, 11, 12, 13, 500000), "y z", None),
        (4, 1000.0, False, date(1999, 12, 31), datetime(2024, 2, 3, 11, 12, 13), None, None),
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "2", "-0"], "int64"),
        (["1", "2.5"], "float64"),  # ints mixed with decimals
        (["1.5", "abc"], "string"),
        (["9223372036854775807"], "int64"),
        (["1", "9223372036854775808"], "string"),  # beyond int64: exact, as text
        (["1.5", "2"], "float64"),
        (["1_000"], "string"),  # DuckDB's cast would take it
        (["0x10"], "string"),
        (["nan", "1.0"], "string"),
        (["true", "TRUE", "false"], "bool"),
        (["1", "0"], "int64"),  # never bool
        (["yes", "no"], "string"),
        (["2024-01-02", "2024-01-02 10:00"], "datetime"),  # dates and datetimes
        (["2024-01-02T10:00:00+02:00"], "datetime"),
        (["2024-02-30"], "string"),  # no such day
        (["2024-1-2"], "string"),
        (["10:00:00"], "string"),  # a time of day
        (["02/01/2024"], "string"),
    ],
)
def test_a_column_takes_the_type_all_its_values_fit(run: Any, values: list[str], expected: str) -> None:
    data = ("v\n" + "\n".join(values) + "\n").encode()
    assert types_of(run(data)) == {"v": expected}


def test_an_integer_beyond_int64_keeps_every_digit(run: Any) -> None:
    converted = run(b"id\n12345678901234567890123\n7\n")
    [(_, parquet)] = converted.parquet
    assert rows_of(parquet) == [("12345678901234567890123",), ("7",)]


def test_a_string_column_keeps_its_spaces(run: Any) -> None:
    converted = run(b'name\n" padded "\nx\n')
    [(_, parquet)] = converted.parquet
    assert rows_of(parquet) == [(" padded ",), ("x",)]


def test_a_datetime_with_an_offset_is_stored_in_utc(run: Any) -> None:
    converted = run(b"t\n2024-01-02T10:00:00+02:00\n")
    [(_, parquet)] = converted.parquet
    assert rows_of(parquet) == [(datetime(2024, 1, 2, 8, 0),)]


@pytest.mark.parametrize(
    ("duckdb_type", "expected"),
    [
        ("BIGINT", ColumnType.INT64),
        ("INTEGER", ColumnType.INT64),
        ("HUGEINT", ColumnType.STRING),
        ("UBIGINT", ColumnType.STRING),
        ("DECIMAL(18,3)", ColumnType.FLOAT64),
        ("DOUBLE", ColumnType.FLOAT64),
        ("BOOLEAN", ColumnType.BOOL),
        ("DATE", ColumnType.DATE),
        ("TIMESTAMP", ColumnType.DATETIME),
        ("TIME", ColumnType.STRING),
        ("INTERVAL", ColumnType.STRING),
        ("VARCHAR", ColumnType.STRING),
        ("BLOB", ColumnType.STRING),
    ],
)
def test_duckdb_types_map_to_column_types(duckdb_type: str, expected: ColumnType) -> None:
    assert column_type_of(duckdb_type) is expected


# --- header, delimiters, encodings ------------------------------------------------------------


def test_header_names_blank_and_duplicates(run: Any) -> None:
    converted = run(b'a, ,A,a,"x,y",a_2\n1,2,3,4,5,6\n')
    assert [c.name for c in converted.columns] == ["a", "column_2", "A_2", "a_3", "x,y", "a_2_2"]


def test_without_a_header_the_first_line_is_data(run: Any) -> None:
    converted = run(b"1,x\n2,y\n", CsvFormat(has_header=False))
    assert types_of(converted) == {"column_1": "int64", "column_2": "string"}
    assert converted.row_count == 2
    assert converted.preview["rows"] == [{"column_1": 1, "column_2": "x"}, {"column_1": 2, "column_2": "y"}]


@pytest.mark.parametrize("delimiter", ["\t", ";", "|", "'"])
def test_delimiters(run: Any, delimiter: str) -> None:
    data = delimiter.join(["a", "b", "c"]) + "\n" + delimiter.join(["1", "x,y", "2.5"]) + "\n"
    converted = run(data.encode(), CsvFormat(delimiter=delimiter))
    assert types_of(converted) == {"a": "int64", "b": "string", "c": "float64"}
    assert converted.preview["rows"] == [{"a": 1, "b": "x,y", "c": 2.5}]


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("utf-8", "name,n\nZoë,1\n東京,2\n".encode()),
        ("utf-8", b"\xef\xbb\xbf" + "name,n\nZoë,1\n東京,2\n".encode()),  # with a BOM
        ("utf-16", "name,n\nZoë,1\n東京,2\n".encode("utf-16")),
        ("utf-16", "name,n\nZoë,1\n東京,2\n".encode("utf-16-le")),  # no BOM: little-endian
    ],
)
def test_unicode_encodings(run: Any, encoding: str, data: bytes) -> None:
    converted = run(data, CsvFormat(encoding=encoding))
    assert types_of(converted) == {"name": "string", "n": "int64"}
    assert converted.preview["rows"] == [{"name": "Zoë", "n": 1}, {"name": "東京", "n": 2}]


def test_latin_1(run: Any) -> None:
    converted = run("nom;n\nZoë;1\nçà;2\n".encode("latin-1"), CsvFormat(delimiter=";", encoding="latin-1"))
    assert converted.preview["rows"] == [{"nom": "Zoë", "n": 1}, {"nom": "çà", "n": 2}]


def test_quoted_values_crlf_blank_lines_and_no_final_newline(run: Any) -> None:
    converted = run(b'a,b\r\n1,"x\r\ny ""q"""\r\n\r\n2,\r\n3,z')
    assert converted.row_count == 3
    assert converted.preview["rows"] == [
        {"a": 1, "b": 'x\r\ny "q"'},
        {"a": 2, "b": None},
        {"a": 3, "b": "z"},
    ]


# --- malformed files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code", "line", "message"),
    [
        (b"a,b\n1,2\n3,4\n5,6,7\n8,9\n", CSV_MALFORMED, 4, "expected 2 fields, found 3"),
        (b"a,b\n1,2\n3\n", CSV_MALFORMED, 3, "expected 2 fields, found 1"),
        (b'a,b\n1,2\n3,"abc\n8,9\n', CSV_MALFORMED, 3, "a quoted value is not terminated"),
        (b'a,b\n1,2\n3,"ab"c\n', CSV_MALFORMED, 3, "a quoted value is not terminated"),
        (b"a,b\n1,2\n3,\xff\xfe\n8,9\n", CSV_ENCODING, 3, "not valid utf-8"),
        # a quoted value over two lines before the bad row: the line is the file's, not the record's
        (b'a,b\n1,"x\ny"\n3,4\n5,6,7\n', CSV_MALFORMED, 5, "expected 2 fields, found 3"),
        # blank lines count
        (b"a,b\n1,2\n\n\n3,4\n5,6,7\n", CSV_MALFORMED, 6, "expected 2 fields, found 3"),
        (b"a,b\r\n1,2\r\n3,4,5\r\n", CSV_MALFORMED, 3, "expected 2 fields, found 3"),
    ],
)
def test_a_malformed_row_fails_with_its_line(
    run: Any, data: bytes, code: str, line: int, message: str
) -> None:
    error = failure(run, data)
    assert (error.code, error.line) == (code, line)
    assert message in error.message
    assert f"line {line}" in error.message


def test_a_malformed_row_far_into_a_large_file(run: Any) -> None:
    rows = b"".join(b"%d,%d\n" % (i, i) for i in range(60_000))
    error = failure(run, b"a,b\n" + rows + b"1,2,3\n" + rows)
    assert (error.code, error.line) == (CSV_MALFORMED, 60_002)


def test_a_malformed_utf16_row(run: Any) -> None:
    error = failure(run, "a,b\n1,2\n3,4,5\n".encode("utf-16"), CsvFormat(encoding="utf-16"))
    assert (error.code, error.line) == (CSV_MALFORMED, 3)


def test_empty_files(run: Any) -> None:
    assert failure(run, b"").code == EMPTY_FILE
    assert failure(run, b"a,b\n").code == EMPTY_FILE  # a header and no row
    assert failure(run, b"\n1,2\n").code == CSV_MALFORMED


def test_too_many_columns(run: Any) -> None:
    wide = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)).encode() + b"\n"
    error = failure(run, wide + b"1\n")
    assert (error.code, error.line) == (TOO_MANY_COLUMNS, 1)
    at_most = ",".join(f"c{i}" for i in range(MAX_COLUMNS)).encode() + b"\n"
    assert len(run(at_most + b",".join([b"1"] * MAX_COLUMNS) + b"\n").columns) == MAX_COLUMNS


# --- layout and preview -----------------------------------------------------------------------


def test_partitioned_one_file_per_value_with_its_rows(run: Any) -> None:
    converted = run(b"region,n\nnorth,1\nsouth,2\nnorth america,3\n,4\nnorth,5\n", partition="region")
    assert converted.partitions == ["north", "north america", "south", None]
    by_value = {value: rows_of(path) for value, path in converted.parquet}
    assert by_value == {
        "north": [("north", 1), ("north", 5)],
        "north america": [("north america", 3)],
        "south": [("south", 2)],
        None: [(None, 4)],
    }
    assert converted.size_bytes == sum(path.stat().st_size for _, path in converted.parquet)


def test_partition_values_of_typed_columns_are_their_text(run: Any) -> None:
    converted = run(b"d,b,n\n2024-01-02,true,1\n2024-01-03,false,2\n", partition="d")
    assert converted.partitions == ["2024-01-02", "2024-01-03"]
    assert run(b"d,b,n\n2024-01-02,true,1\n", partition="b").partitions == ["true"]


def test_unknown_partition_column(run: Any) -> None:
    assert failure(run, b"a\n1\n", partition="b").code == PARTITION_COLUMN_UNKNOWN


def test_too_many_partitions(run: Any) -> None:
    rows = b"".join(b"%d\n" % i for i in range(MAX_PARTITIONS + 1))
    assert failure(run, b"p\n" + rows, partition="p").code == TOO_MANY_PARTITIONS
    assert len(run(b"p\n" + rows[: -len(b"1000\n")], partition="p").partitions) == MAX_PARTITIONS


def test_preview_is_json_safe_and_bounded(run: Any) -> None:
    rows = b"".join(b"%d,2024-01-%02d,2024-01-01 00:00:%02d\n" % (i, i % 28 + 1, i % 60) for i in range(150))
    converted = run(b"n,d,t\n" + rows)
    preview = converted.preview
    assert preview["totalRows"] == 150
    assert len(preview["rows"]) == PREVIEW_ROWS
    assert preview["rows"][1] == {"n": 1, "d": "2024-01-02", "t": "2024-01-01T00:00:01"}
    assert preview["columns"][0] == {"name": "n", "type": "int64", "nullable": True}


def test_memory_limit_is_a_share_of_the_function(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
    assert memory_limit_mb() == 614
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    assert memory_limit_mb() == 1228
