"""The card sandbox's child, its pure parts: the contract's conversions and globals, error lines."""

from __future__ import annotations

import datetime

import pytest

from tenancy.application.sandbox import child


def test_dates_and_datetimes_come_back_as_objects_nulls_stay_null() -> None:
    assert child.convert(["2024-02-29", None], "date") == [datetime.date(2024, 2, 29), None]
    assert child.convert(["2024-02-29T23:59:58", "2024-03-01T00:00:00+02:00", None], "datetime") == [
        datetime.datetime(2024, 2, 29, 23, 59, 58),
        datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        None,
    ]
    assert type(child.convert(["2024-01-01"], "date")[0]) is datetime.date  # not a datetime


@pytest.mark.parametrize(
    ("values", "column_type"),
    [
        ([1, None, 3], "int64"),
        ([1.5, None], "float64"),
        ([True, None], "bool"),
        (["2024-01-01", None], "string"),
    ],
)
def test_other_types_pass_as_they_came(values: list[object], column_type: str) -> None:
    converted = child.convert(values, column_type)
    assert converted == values
    assert converted is not values  # a copy: the card may change it


def test_a_malformed_date_is_refused() -> None:
    with pytest.raises(ValueError, match="Invalid isoformat"):
        child.convert(["31/01/2024"], "date")


def test_the_globals_of_two_datasets() -> None:
    request = {
        "code": "",
        "params": {"top": 2},
        "filters": [{"column": "day", "op": "eq", "value": "2024-01-01"}],
        "datasets": [
            {
                "datasetId": "first",
                "columns": [{"name": "day", "type": "date"}, {"name": "n", "type": "int64"}],
                "data": {"day": ["2024-01-01", None], "n": [1, 2]},
                "rowCount": 2,
            },
            {
                "datasetId": "second",
                "columns": [{"name": "at", "type": "datetime"}],
                "data": {"at": ["2024-01-01T08:00:00"]},
                "rowCount": 1,
            },
        ],
    }

    names = child.card_globals(request)

    assert names["columns"] == {"day": "date", "n": "int64"}
    assert names["data"] == {"day": [datetime.date(2024, 1, 1), None], "n": [1, 2]}
    assert names["rows"] == [{"day": datetime.date(2024, 1, 1), "n": 1}, {"day": None, "n": 2}]
    assert names["datasets"] == {
        "first": names["rows"],
        "second": [{"at": datetime.datetime(2024, 1, 1, 8)}],
    }
    assert names["params"] == {"top": 2}
    assert names["filters"] == request["filters"]
    assert names["escape"]("<b>\"'&") == "&lt;b&gt;&quot;&#x27;&amp;"
    assert "html" not in names


def test_columns_of_different_lengths_are_refused() -> None:
    request = {
        "datasets": [
            {
                "datasetId": "d",
                "columns": [{"name": "a", "type": "int64"}, {"name": "b", "type": "int64"}],
                "data": {"a": [1, 2], "b": [1]},
                "rowCount": 2,
            }
        ]
    }
    with pytest.raises(ValueError, match="zip"):
        child.card_globals(request)


def test_the_error_line_is_the_last_one_cut_and_without_host_paths() -> None:
    assert child.last_line(ZeroDivisionError("division by zero")) == "ZeroDivisionError: division by zero"
    here = child.__file__.rsplit("/", 1)[0]
    assert child.last_line(OSError(f"cannot read {here}/secret.txt")) == "OSError: cannot read …/secret.txt"
    long = child.last_line(ValueError("x" * 5000))
    assert len(long) == child.MESSAGE_CHARS
    assert long.endswith("…")
    assert child.last_line(SyntaxError("invalid syntax", ("<card>", 3, 1, "html = (", 3, 1))) == (
        "SyntaxError: invalid syntax (<card>, line 3)"
    )


def test_the_guarded_import_admits_the_allowed_modules_only() -> None:
    guarded = child.card_builtins()
    importer = guarded["__import__"]
    assert importer("statistics").__name__ == "statistics"
    assert importer("collections.abc", fromlist=("Mapping",)).__name__ == "collections.abc"
    for name in ("os", "sys", "subprocess", "socket", "boto3", "ctypes", "importlib", "builtins"):
        with pytest.raises(ImportError, match="in a card"):
            importer(name)
    with pytest.raises(ImportError):
        importer("json", level=1)  # relative imports: no package to be relative to
    with pytest.raises(PermissionError, match="no file access"):
        guarded["open"]("/etc/passwd")
    assert "breakpoint" not in guarded
    assert "input" not in guarded
