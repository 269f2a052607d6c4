"""A card's request bodies: what each field accepts and refuses, at its limits, and how a stored
card reads back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from tenancy.application.cards.models import (
    MAX_CODE_BYTES,
    MAX_PARAMS_BYTES,
    CreateCardRequest,
    UpdateCardRequest,
    params_text,
)
from tenancy.application.cards.repository import as_card


def refused_fields(model: type[Any], **body: Any) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        model(**body)
    return [".".join(str(part) for part in error["loc"]) for error in refused.value.errors()]


def test_defaults() -> None:
    card = CreateCardRequest(name="a")
    assert card.model_dump() == {
        "name": "a",
        "description": "",
        "datasetIds": [],
        "code": "",
        "params": {},
        "usedColumns": [],
        "filterColumns": [],
    }


@pytest.mark.parametrize("code", ["tab\there", "lines\nand\r\nmore", "unicode \u00e9\u4e2d\U0001f600", ""])
def test_code_takes_tab_newline_and_carriage_return(code: str) -> None:
    assert CreateCardRequest(name="a", code=code).code == code


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"])
def test_code_refuses_other_control_characters(char: str) -> None:
    assert refused_fields(CreateCardRequest, name="a", code=f"a{char}b") == ["code"]


def test_code_is_measured_in_utf8_bytes() -> None:
    assert len(CreateCardRequest(name="a", code="x" * MAX_CODE_BYTES).code) == MAX_CODE_BYTES
    two_bytes = "\u00e9" * (MAX_CODE_BYTES // 2)
    assert CreateCardRequest(name="a", code=two_bytes).code == two_bytes
    assert refused_fields(CreateCardRequest, name="a", code=two_bytes + "x") == ["code"]
    assert refused_fields(CreateCardRequest, name="a", code="x" * (MAX_CODE_BYTES + 1)) == ["code"]


def test_params_are_a_json_object_of_at_most_8_kib_serialized() -> None:
    fits = {"k": "x" * (MAX_PARAMS_BYTES - len('{"k":""}'))}
    assert len(params_text(fits).encode()) == MAX_PARAMS_BYTES
    assert CreateCardRequest(name="a", params=fits).params == fits
    over = {"k": fits["k"] + "x"}
    assert refused_fields(CreateCardRequest, name="a", params=over) == ["params"]
    wide = {"k": "\u00e9" * (MAX_PARAMS_BYTES // 2)}  # fewer characters than bytes
    assert refused_fields(CreateCardRequest, name="a", params=wide) == ["params"]
    for not_an_object in ([1], "x", 3, None):
        assert refused_fields(CreateCardRequest, name="a", params=not_an_object) == ["params"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_params_refuse_numbers_json_does_not_have(value: float) -> None:
    assert refused_fields(CreateCardRequest, name="a", params={"deep": [{"n": value}]}) == ["params"]


def test_params_text_is_compact_and_keeps_unicode() -> None:
    assert params_text({"a": [1, 2.5], "b": "\u00e9"}) == '{"a":[1,2.5],"b":"\u00e9"}'


def test_dataset_ids_at_most_10_distinct_ids() -> None:
    ten = [f"ds-{i}" for i in range(10)]
    assert CreateCardRequest(name="a", datasetIds=ten).datasetIds == ten
    assert refused_fields(CreateCardRequest, name="a", datasetIds=[*ten, "ds-10"]) == ["datasetIds"]
    assert refused_fields(CreateCardRequest, name="a", datasetIds=["x", "y", "x"]) == ["datasetIds"]
    assert refused_fields(CreateCardRequest, name="a", datasetIds=["a#b"]) == ["datasetIds.0"]
    assert refused_fields(CreateCardRequest, name="a", datasetIds=["a/b"]) == ["datasetIds.0"]
    assert refused_fields(CreateCardRequest, name="a", datasetIds=["x" * 129]) == ["datasetIds.0"]


@pytest.mark.parametrize("field", ["usedColumns", "filterColumns"])
def test_columns_at_most_100_distinct_names(field: str) -> None:
    hundred = [f"col {i}" for i in range(100)]
    assert getattr(CreateCardRequest(name="a", **{field: hundred}), field) == hundred
    assert refused_fields(CreateCardRequest, name="a", **{field: [*hundred, "one more"]}) == [field]
    assert refused_fields(CreateCardRequest, name="a", **{field: ["a", "a"]}) == [field]
    for bad in ("", " lead", "trail ", "tab\tin", "x" * 129):
        assert refused_fields(CreateCardRequest, name="a", **{field: [bad]}) == [f"{field}.0"]
    assert getattr(CreateCardRequest(name="a", **{field: ["Total Sales (\u20ac)"]}), field) == [
        "Total Sales (\u20ac)"
    ]


def test_unknown_fields_are_refused() -> None:
    assert refused_fields(CreateCardRequest, name="a", ownerId="u") == ["ownerId"]
    assert refused_fields(UpdateCardRequest, version=1, dashboardCount=0) == ["dashboardCount"]


def test_update_takes_a_version_and_refuses_null_changes() -> None:
    assert UpdateCardRequest(version=3, ownerId="u-2").model_dump(exclude_none=True) == {
        "ownerId": "u-2",
        "version": 3,
    }
    assert refused_fields(UpdateCardRequest, name="a") == ["version"]
    assert refused_fields(UpdateCardRequest, name="a", version="1") == ["version"]
    for field in (
        "name",
        "description",
        "datasetIds",
        "code",
        "params",
        "usedColumns",
        "filterColumns",
        "ownerId",
    ):
        assert refused_fields(UpdateCardRequest, version=1, **{field: None}) == [field]
    # an optional field's error is reported per branch of its union (the API names the field once)
    assert {f.split(".")[0] for f in refused_fields(UpdateCardRequest, version=1, code="\x00")} == {"code"}
    repeated = refused_fields(UpdateCardRequest, version=1, datasetIds=["a", "a"])
    assert {f.split(".")[0] for f in repeated} == {"datasetIds"}


def test_the_documented_schema_says_distinct_and_at_least_one_change() -> None:
    schema = UpdateCardRequest.model_json_schema()
    assert schema["minProperties"] == 2
    assert schema["additionalProperties"] is False
    assert schema["properties"]["datasetIds"]["uniqueItems"] is True
    assert schema["properties"]["usedColumns"]["maxItems"] == 100
    assert "null" not in json.dumps(schema["properties"]["name"])


def test_a_stored_card_reads_back_with_its_params_decoded() -> None:
    stored = {
        "cardId": "c1",
        "ownerId": "u1",
        "name": "n",
        "description": "",
        "datasetIds": ["d"],
        "code": "x",
        "paramsJson": '{"ratio":0.25,"n":null}',
        "usedColumns": [],
        "filterColumns": [],
        "dashboardCount": 2,
        "version": 1,
        "createdAt": "t",
        "updatedAt": "t",
    }
    card = as_card(stored)
    dumped = card.model_dump(mode="json", exclude_unset=True)
    assert dumped["params"] == {"ratio": 0.25, "n": None}
    assert dumped["dashboardCount"] == 2
    assert "paramsJson" not in dumped
    assert as_card({**stored, "dashboardCount": None}).dashboardCount == 0
