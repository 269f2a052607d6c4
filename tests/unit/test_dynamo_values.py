"""tenancy.common.dynamo converts values as boto3's TypeSerializer/TypeDeserializer do (the oracle here)
for every type Tenancy stores, without importing boto3 in the functions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from tenancy.common.dynamo import from_item, from_value, to_item, to_value

numbers = st.integers(min_value=-(10**37), max_value=10**37) | st.decimals(
    allow_nan=False, allow_infinity=False, places=6, min_value=-(10**20), max_value=10**20
)
scalars = st.none() | st.booleans() | numbers | st.text(max_size=20) | st.binary(max_size=20)
sets = (
    st.sets(st.text(max_size=5), min_size=1, max_size=4)
    | st.sets(st.integers(-1000, 1000), min_size=1, max_size=4)
    | st.sets(st.binary(max_size=5), min_size=1, max_size=4)
)
values = st.recursive(
    scalars | sets,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _normal(value: dict[str, Any]) -> Any:
    """Attribute values with set members ordered, so two serializations compare equal."""
    kind, raw = next(iter(value.items()))
    if kind in ("SS", "NS", "BS"):
        return {kind: sorted(raw)}
    if kind == "M":
        return {kind: {name: _normal(member) for name, member in raw.items()}}
    if kind == "L":
        return {kind: [_normal(member) for member in raw]}
    return value


@given(values)
def test_serializes_like_boto3(value: Any) -> None:
    assert _normal(to_value(value)) == _normal(TypeSerializer().serialize(value))


@given(values)
def test_deserializes_like_boto3_and_round_trips(value: Any) -> None:
    typed = TypeSerializer().serialize(value)
    expected = TypeDeserializer().deserialize(typed)
    actual = from_value(typed)
    assert actual == expected
    assert _normal(to_value(actual)) == _normal(typed)


def test_numbers_come_back_as_decimals_in_dynamodb_precision() -> None:
    assert from_value({"N": "42"}) == Decimal(42)
    assert isinstance(from_value({"N": "42"}), Decimal)
    assert to_value(Decimal("1.50")) == {"N": "1.50"}
    assert to_value(10**37) == {"N": str(10**37)}


@pytest.mark.parametrize(
    "bad",
    [1.5, Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), set(), {1, "a"}, object()],
)
def test_values_dynamodb_cannot_hold_are_refused(bad: Any) -> None:
    with pytest.raises(TypeError):
        to_value(bad)


def test_numbers_beyond_38_digits_are_refused_not_rounded() -> None:
    with pytest.raises(ArithmeticError):
        to_value(10**40 + 1)


def test_items_leave_out_none_attributes() -> None:
    assert to_item({"PK": "TENANT#a", "name": None, "version": 1}) == {
        "PK": {"S": "TENANT#a"},
        "version": {"N": "1"},
    }
    assert from_item({"PK": {"S": "TENANT#a"}, "gone": {"NULL": True}}) == {"PK": "TENANT#a", "gone": None}


def test_an_attribute_value_has_exactly_one_type() -> None:
    with pytest.raises(TypeError):
        from_value({"S": "a", "N": "1"})
    with pytest.raises(TypeError):
        from_value({"X": "a"})
