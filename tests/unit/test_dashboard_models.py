"""Dashboards' and filter views' request bodies, validated on their own (no AWS): the layout's grid
bounds and distinct cards, filters by type with distinct ids, view values by shape, null and
unknown fields; and the pure rules of the service (a view's values against a dashboard's filters,
the copy's name, the largest transaction a layout change may need)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tenancy.application.dashboards.models import (
    MAX_FILTERS,
    MAX_LAYOUT_ITEMS,
    CategoryFilter,
    CloneDashboardRequest,
    CreateDashboardRequest,
    CreateFilterViewRequest,
    DateRange,
    DateRangeFilter,
    Layout,
    UpdateDashboardRequest,
    UpdateFilterViewRequest,
    stored_values,
)
from tenancy.application.dashboards.service import MAX_CARD_CHANGES, _value_problem, copy_name
from tenancy.application.store.transaction import MAX_ITEMS, RESERVED
from tenancy.common.http import validation_details


def item(card_id: str = "c1", x: int = 0, y: int = 0, w: int = 1, h: int = 1) -> dict[str, Any]:
    return {"cardId": card_id, "x": x, "y": y, "w": w, "h": h}


def fields_of(error: ValidationError) -> list[str]:
    """The fields the API's 422 names (validation_details of the body's errors)."""
    raw = [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
    return [d["field"] for d in validation_details(raw)]


def refused(model: type[Any], body: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return fields_of(caught.value)


CATEGORY = {"filterId": "region", "type": "category", "column": "region", "label": "Region"}
RANGE = {"filterId": "period", "type": "dateRange", "column": "day", "label": "Period"}


# --- layout --------------------------------------------------------------------------------------


def test_a_layout_defaults_to_12_columns_of_80_pixel_rows_and_no_cards() -> None:
    layout = Layout()
    assert (layout.columns, layout.rowHeight, layout.items) == (12, 80, [])
    body = CreateDashboardRequest.model_validate({"name": "Sales"})
    assert body.layout.model_dump() == {"columns": 12, "rowHeight": 80, "items": []}
    assert (body.description, body.filters) == ("", [])


def test_cards_fit_the_grid_exactly() -> None:
    fits = Layout.model_validate({"columns": 12, "items": [item("a", x=8, w=4), item("b", x=0, w=12, y=5)]})
    assert fits.card_ids() == ["a", "b"]
    assert refused(Layout, {"columns": 12, "items": [item(x=9, w=4)]}) == ["items"]
    assert refused(Layout, {"columns": 1, "items": [item(x=0, w=2)]}) == ["items"]
    assert Layout.model_validate({"columns": 48, "items": [item(x=47, w=1)]}).columns == 48


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"columns": 0}, "columns"),
        ({"columns": 49}, "columns"),
        ({"columns": "12"}, "columns"),
        ({"columns": True}, "columns"),
        ({"columns": 12.5}, "columns"),
        ({"rowHeight": 9}, "rowHeight"),
        ({"rowHeight": 501}, "rowHeight"),
        ({"items": [item(x=-1)]}, "items.0.x"),
        ({"items": [item(y=-1)]}, "items.0.y"),
        ({"items": [item(y=10_001)]}, "items.0.y"),
        ({"items": [item(w=0)]}, "items.0.w"),
        ({"items": [item(h=0)]}, "items.0.h"),
        ({"items": [item(h=1001)]}, "items.0.h"),
        ({"items": [item(card_id="")]}, "items.0.cardId"),
        ({"items": [item(card_id="a#b")]}, "items.0.cardId"),
        ({"items": [{**item(), "z": 1}]}, "items.0.z"),
        ({"items": [{"cardId": "c1", "x": 0, "y": 0, "w": 1}]}, "items.0.h"),
        ({"items": [item("a"), item("b"), item("a")]}, "items"),  # a card placed twice
        ({"items": [item(f"c{i}") for i in range(MAX_LAYOUT_ITEMS + 1)]}, "items"),
        ({"other": 1}, "other"),
    ],
)
def test_a_layout_out_of_bounds_is_refused(body: dict[str, Any], field: str) -> None:
    assert field in refused(Layout, body)


def test_forty_cards_are_the_most_a_layout_holds() -> None:
    layout = Layout.model_validate({"items": [item(f"c{i}", y=i) for i in range(MAX_LAYOUT_ITEMS)]})
    assert len(layout.card_ids()) == MAX_LAYOUT_ITEMS == 40


# --- filters -------------------------------------------------------------------------------------


def test_filters_by_type() -> None:
    body = CreateDashboardRequest.model_validate(
        {"name": "x", "filters": [{**CATEGORY, "multiSelect": True, "options": ["EU", "US"]}, RANGE]}
    )
    category, period = body.filters
    assert isinstance(category, CategoryFilter)
    assert isinstance(period, DateRangeFilter)
    assert category.model_dump() == {**CATEGORY, "multiSelect": True, "options": ["EU", "US"]}
    assert period.model_dump() == RANGE
    assert CategoryFilter.model_validate(CATEGORY).model_dump() == {
        **CATEGORY,
        "multiSelect": False,
        "options": [],
    }


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ([{**RANGE, "options": ["a"]}], "filters.0.dateRange.options"),
        ([{**RANGE, "multiSelect": True}], "filters.0.dateRange.multiSelect"),
        ([{**CATEGORY, "multiSelect": "true"}], "filters.0.category.multiSelect"),
        ([{**CATEGORY, "multiSelect": 1}], "filters.0.category.multiSelect"),
        ([{**CATEGORY, "options": ["a", "a"]}], "filters.0.category.options"),
        ([{**CATEGORY, "options": [""]}], "filters.0.category.options.0"),
        ([{**CATEGORY, "options": ["x"] * 201}], "filters.0.category.options"),
        ([{**CATEGORY, "type": "slider"}], "filters.0"),
        ([{key: value for key, value in CATEGORY.items() if key != "type"}], "filters.0"),
        ([{**CATEGORY, "label": ""}], "filters.0.category.label"),
        ([{**CATEGORY, "column": "a\x00b"}], "filters.0.category.column"),
        ([{**CATEGORY, "filterId": "a b"}], "filters.0.category.filterId"),
        ([CATEGORY, {**RANGE, "filterId": "region"}], "filters"),  # the same id twice
        ([{**RANGE, "filterId": f"f{i}"} for i in range(MAX_FILTERS + 1)], "filters"),
    ],
)
def test_a_filter_that_does_not_fit_its_type_is_refused(filters: list[dict[str, Any]], field: str) -> None:
    assert field in refused(CreateDashboardRequest, {"name": "x", "filters": filters})
    assert field in refused(UpdateDashboardRequest, {"filters": filters, "version": 1})


def test_twenty_filters_are_the_most() -> None:
    body = {"name": "x", "filters": [{**RANGE, "filterId": f"f{i}"} for i in range(MAX_FILTERS)]}
    assert len(CreateDashboardRequest.model_validate(body).filters) == MAX_FILTERS == 20


# --- update and clone ----------------------------------------------------------------------------


def test_an_update_names_what_it_changes_and_null_is_no_value_but_for_the_default_view() -> None:
    assert UpdateDashboardRequest.model_validate({"name": "x", "version": 3}).changes() == {"name"}
    cleared = UpdateDashboardRequest.model_validate({"defaultFilterViewId": None, "version": 1})
    assert (cleared.changes(), cleared.defaultFilterViewId) == ({"defaultFilterViewId"}, None)
    assert UpdateDashboardRequest.model_validate({"version": 1}).changes() == set()
    for name in ("name", "description", "layout", "filters", "ownerId"):
        assert refused(UpdateDashboardRequest, {name: None, "version": 1}) == [name]
    assert refused(UpdateDashboardRequest, {"name": "x"}) == ["version"]
    assert refused(UpdateDashboardRequest, {"name": "x", "version": 0}) == ["version"]
    assert refused(UpdateDashboardRequest, {"name": "x", "version": "1"}) == ["version"]
    assert refused(UpdateDashboardRequest, {"ownerId": "a#b", "version": 1}) == ["ownerId"]
    assert refused(UpdateDashboardRequest, {"cardIds": [], "version": 1}) == ["cardIds"]
    schema = UpdateDashboardRequest.model_json_schema()
    assert schema["minProperties"] == 2


def test_a_clone_body_is_optional_and_names_the_copy() -> None:
    assert CloneDashboardRequest().name is None
    assert CloneDashboardRequest.model_validate({"name": "Mine"}).name == "Mine"
    assert refused(CloneDashboardRequest, {"name": None}) == ["name"]
    assert refused(CloneDashboardRequest, {"name": " padded "}) == ["name"]


def test_the_copys_name_keeps_within_a_names_length() -> None:
    assert copy_name("Sales") == "Sales (copy)"
    long = copy_name("x" * 95 + " yyyy")
    assert len(long) <= 100
    assert long.endswith("x (copy)")  # shortened, and no space left before the suffix
    assert len(copy_name("z" * 100)) == 100


def test_a_layout_change_fits_one_transaction() -> None:
    """The dashboard, an ownership transfer's 5 items, the default view's check and 2 items per
    card added or removed, with the store's audit item and partition check: within 100."""
    assert 1 + 5 + 1 + 2 * MAX_CARD_CHANGES + RESERVED <= MAX_ITEMS
    assert 1 + 5 + 1 + 2 * (MAX_CARD_CHANGES + 1) + RESERVED > MAX_ITEMS
    # a new dashboard of 40 cards, or a clone of one with its default view: well within
    assert 1 + 1 + 1 + 2 * MAX_LAYOUT_ITEMS + RESERVED <= MAX_ITEMS


# --- filter views --------------------------------------------------------------------------------


def test_view_values_by_shape() -> None:
    body = CreateFilterViewRequest.model_validate(
        {"name": "v", "values": {"region": ["EU"], "period": {"from": "2026-01-01", "to": "2026-01-01"}}}
    )
    assert isinstance(body.values["period"], DateRange)
    assert stored_values(body.values) == {
        "region": ["EU"],
        "period": {"from": "2026-01-01", "to": "2026-01-01"},
    }
    assert CreateFilterViewRequest.model_validate({"name": "v"}).values == {}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"p": {"from": "2026-02-30", "to": "2026-03-01"}}, "values.p.dateRange.from"),
        ({"p": {"from": "2026-1-1", "to": "2026-03-01"}}, "values.p.dateRange.from"),
        ({"p": {"from": "2026-03-02", "to": "2026-03-01"}}, "values.p.dateRange"),
        ({"p": {"from": "2026-03-01"}}, "values.p.dateRange.to"),
        ({"p": {"from": "2026-03-01", "to": "2026-03-02", "x": 1}}, "values.p.dateRange.x"),
        ({"p": "EU"}, "values.p.category"),
        ({"p": [1]}, "values.p.category.0"),
        ({"p": [""]}, "values.p.category.0"),
        ({"p": ["x"] * 51}, "values.p.category"),
        ({"a#b": ["x"]}, "values.a#b.[key]"),
        ({f"f{i}": ["x"] for i in range(MAX_FILTERS + 1)}, "values"),
    ],
)
def test_view_values_of_the_wrong_shape_are_refused(values: dict[str, Any], field: str) -> None:
    assert field in refused(CreateFilterViewRequest, {"name": "v", "values": values})


def test_a_view_update_needs_a_version_and_refuses_null() -> None:
    assert UpdateFilterViewRequest.model_validate({"name": "n", "version": 1}).model_fields_set == {
        "name",
        "version",
    }
    assert refused(UpdateFilterViewRequest, {"values": None, "version": 1}) == ["values"]
    assert refused(UpdateFilterViewRequest, {"name": "n"}) == ["version"]


def test_values_against_the_dashboards_filters() -> None:
    region = {**CATEGORY, "multiSelect": True, "options": ["EU", "US"]}
    single = {**CATEGORY, "multiSelect": False, "options": []}
    span = DateRange.model_validate({"from": "2026-01-01", "to": "2026-01-02"})
    assert _value_problem(region, ["EU", "US"]) is None
    assert _value_problem(single, ["anything"]) is None
    assert _value_problem(single, []) is None
    assert _value_problem(RANGE, span) is None
    assert _value_problem(None, ["EU"]) == "the dashboard has no filter of this id"
    assert "options" in str(_value_problem(region, ["FR"]))
    assert "once" in str(_value_problem(region, ["EU", "EU"]))
    assert "multi-select" in str(_value_problem(single, ["a", "b"]))
    assert "{from, to}" in str(_value_problem(RANGE, ["2026-01-01"]))
    assert "list" in str(_value_problem(region, span))
