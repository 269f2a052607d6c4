"""Dashboards and their filter views: request bodies (validated here, as far as a body alone tells)
and the views the API answers with.

A body is checked on its own here: a layout's grid bounds (`x + w <= columns`), at most
`MAX_LAYOUT_ITEMS` cards each placed once, at most `MAX_FILTERS` filters with distinct ids, a
filter's shape by its type. What needs the tenant's data (a card the caller may place, a view's
values naming the dashboard's filters) is checked by the service.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from tenancy.application.sharing.permissions import Permission
from tenancy.common.fields import (
    TEXT_PATTERN,
    Description,
    IdRef,
    IsoDate,
    Name,
    Request,
    Version,
    Versioned,
    View,
    changes_and_version,
    not_null,
)

MAX_LAYOUT_ITEMS = 40
MAX_COLUMNS = 48
DEFAULT_COLUMNS = 12
MIN_ROW_HEIGHT, MAX_ROW_HEIGHT, DEFAULT_ROW_HEIGHT = 10, 500, 80
MAX_ROW = 10_000  # how far down a card may be placed (y), and how tall it may be (h)
MAX_HEIGHT = 1_000
MAX_FILTERS = 20
MAX_OPTIONS = 200
MAX_VIEW_VALUES = 50  # the values a view may select for one category filter

FilterType = Literal["category", "dateRange"]


def _json_integer(value: object) -> object:
    """An integer as JSON Schema means it: never a string or a boolean (pydantic's lax mode would
    take "3" and true for 3 and 1)."""
    if isinstance(value, str | bytes | bool):
        raise ValueError("must be a JSON integer, not a string or a boolean")
    return value


def _json_boolean(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("must be a JSON boolean (true or false)")
    return value


JsonInteger = BeforeValidator(_json_integer)
Columns = Annotated[int, Field(ge=1, le=MAX_COLUMNS), JsonInteger]
RowHeight = Annotated[int, Field(ge=MIN_ROW_HEIGHT, le=MAX_ROW_HEIGHT), JsonInteger]
Column = Annotated[int, Field(ge=0, le=MAX_COLUMNS - 1), JsonInteger]
Width = Annotated[int, Field(ge=1, le=MAX_COLUMNS), JsonInteger]
Row = Annotated[int, Field(ge=0, le=MAX_ROW), JsonInteger]
Height = Annotated[int, Field(ge=1, le=MAX_HEIGHT), JsonInteger]
Flag = Annotated[bool, BeforeValidator(_json_boolean)]
# A dataset column a filter applies to, and a value a category filter offers.
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=TEXT_PATTERN)]
Option = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=TEXT_PATTERN)]


# The default of a composite field an update may leave out (never validated; see
# UpdateDashboardRequest.layout).
LEFT_OUT: Any = None


# --- layout --------------------------------------------------------------------------------------


class LayoutItem(Request):
    """Where one card sits on the grid (cells from the top left)."""

    cardId: IdRef
    x: Column
    y: Row
    w: Width
    h: Height


class Layout(Request):
    columns: Columns = DEFAULT_COLUMNS
    rowHeight: RowHeight = Field(default=DEFAULT_ROW_HEIGHT, description="pixels per grid row")
    items: list[LayoutItem] = Field(
        default_factory=list,
        max_length=MAX_LAYOUT_ITEMS,
        description=f"at most {MAX_LAYOUT_ITEMS} cards, each placed once, within the grid's columns",
    )

    @field_validator("items")
    @classmethod
    def _on_the_grid_once(cls, items: list[LayoutItem], info: ValidationInfo) -> list[LayoutItem]:
        columns = info.data.get("columns")  # absent when columns itself failed: checked there
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.cardId in seen:
                raise ValueError(f"item {index}: card {item.cardId} is placed more than once")
            seen.add(item.cardId)
            if columns is not None and item.x + item.w > columns:
                raise ValueError(
                    f"item {index}: x + w is {item.x + item.w}, past the grid's {columns} columns"
                )
        return items

    def card_ids(self) -> list[str]:
        return [item.cardId for item in self.items]


# --- filters -------------------------------------------------------------------------------------


class CategoryFilter(Request):
    """Values of a column chosen from `options` (any value when there are none)."""

    filterId: IdRef
    type: Literal["category"]
    column: ColumnName
    label: Name
    multiSelect: Flag = False
    options: list[Option] = Field(
        default_factory=list, max_length=MAX_OPTIONS, json_schema_extra={"uniqueItems": True}
    )

    @field_validator("options")
    @classmethod
    def _distinct(cls, options: list[str]) -> list[str]:
        if len(set(options)) != len(options):
            raise ValueError("options must be distinct")
        return options


class DateRangeFilter(Request):
    """A range of dates of a column (no options, never multi-select)."""

    filterId: IdRef
    type: Literal["dateRange"]
    column: ColumnName
    label: Name


AnyFilter = CategoryFilter | DateRangeFilter
Filter = Annotated[AnyFilter, Field(discriminator="type")]


def _distinct_filters(filters: list[AnyFilter]) -> list[AnyFilter]:
    seen: set[str] = set()
    for index, item in enumerate(filters):
        if item.filterId in seen:
            raise ValueError(f"filter {index}: filterId {item.filterId} is used more than once")
        seen.add(item.filterId)
    return filters


Filters = Annotated[list[Filter], Field(max_length=MAX_FILTERS)]


# --- dashboards ----------------------------------------------------------------------------------


class CreateDashboardRequest(Request):
    name: Name
    description: Description = ""
    layout: Layout = Field(default_factory=Layout)
    filters: Filters = Field(default_factory=list)

    @field_validator("filters")
    @classmethod
    def _filters_distinct(cls, filters: list[AnyFilter]) -> list[AnyFilter]:
        return _distinct_filters(filters)


class UpdateDashboardRequest(Request):
    # A field left out is unchanged; null is not a value, except `defaultFilterViewId: null`, which
    # clears the default view.
    model_config = ConfigDict(json_schema_extra=changes_and_version)

    name: Name | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    # Left out: unchanged (None, never validated: read them only when `changes()` names them). Not
    # `X | None` as the scalars are: a union would name a nested error's field by its branch
    # (`layout.Layout.columns`) instead of as the client spelled it.
    layout: Layout = LEFT_OUT
    filters: Filters = LEFT_OUT
    defaultFilterViewId: IdRef | None = Field(
        default=None, description="a filter view of this dashboard; null clears it"
    )
    ownerId: IdRef | SkipJsonSchema[None] = Field(
        default=None, description="the owner only: hand the dashboard to another user of the tenant"
    )
    version: Version

    @field_validator("name", "description", "layout", "filters", "ownerId", mode="before")
    @classmethod
    def _nulls(cls, value: object) -> object:
        return not_null(value)

    @field_validator("filters")
    @classmethod
    def _filters_distinct(cls, filters: list[AnyFilter]) -> list[AnyFilter]:
        return _distinct_filters(filters)

    def changes(self) -> set[str]:
        """The fields the body sets (`defaultFilterViewId: null` included), besides `version`."""
        return self.model_fields_set - {"version"}


class CloneDashboardRequest(Request):
    name: Name | SkipJsonSchema[None] = Field(default=None, description='default: "<name> (copy)"')

    @field_validator("name", mode="before")
    @classmethod
    def _nulls(cls, value: object) -> object:
        return not_null(value)


class LayoutPlacement(View):
    cardId: str
    x: int
    y: int
    w: int
    h: int


class DashboardLayout(View):
    columns: int
    rowHeight: int
    items: list[LayoutPlacement]


class DashboardFilter(View):
    filterId: str
    type: FilterType
    column: str
    label: str
    multiSelect: bool | None = Field(default=None, description="category filters only")
    options: list[str] | None = Field(default=None, description="category filters only")


class DashboardSummary(Versioned):
    """A dashboard in a listing (no layout, no filters)."""

    dashboardId: str
    name: str
    description: str
    ownerId: str
    cardIds: list[str] = Field(description="the cards on its layout")
    defaultFilterViewId: str | None = Field(default=None, description="absent when it has none")
    myPermission: Permission | None = Field(
        description="what the caller may do with it (owner > editor > viewer); null only in the answer "
        "to an ownership transfer that left the caller no access"
    )


class Dashboard(DashboardSummary):
    layout: DashboardLayout
    filters: list[DashboardFilter]


# --- filter views --------------------------------------------------------------------------------


class DateRange(Request):
    from_: IsoDate = Field(alias="from")
    to: IsoDate

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.from_ > self.to:
            raise ValueError("from must not be after to")
        return self


# A filter's value in a view: the chosen options of a category filter, or a date range.
FilterValue = Annotated[
    Annotated[
        Annotated[list[Option], Field(max_length=MAX_VIEW_VALUES, json_schema_extra={"uniqueItems": True})],
        Tag("category"),
    ]
    | Annotated[DateRange, Tag("dateRange")],
    Discriminator(lambda value: "dateRange" if isinstance(value, dict | DateRange) else "category"),
]


def _keys_are_ids(schema: dict[str, Any]) -> None:
    """Document the keys as validation checks them (`propertyNames`), not as a pattern some keys
    match (`patternProperties`, which would leave other keys schema-valid)."""
    (pattern, value), *_ = schema.pop("patternProperties").items()
    schema["additionalProperties"] = value
    schema["propertyNames"] = {**schema.get("propertyNames", {}), "pattern": pattern}


Values = Annotated[
    dict[IdRef, FilterValue],
    Field(
        max_length=MAX_FILTERS,
        description="by filterId of the dashboard: [values] (category) or {from, to} (dateRange)",
        json_schema_extra=_keys_are_ids,
    ),
]


class CreateFilterViewRequest(Request):
    name: Name
    values: Values = Field(default_factory=dict)


class UpdateFilterViewRequest(Request):
    model_config = ConfigDict(json_schema_extra=changes_and_version)

    name: Name | SkipJsonSchema[None] = None
    values: Values = LEFT_OUT  # left out: unchanged (see UpdateDashboardRequest.layout)
    version: Version

    @field_validator("name", "values", mode="before")
    @classmethod
    def _nulls(cls, value: object) -> object:
        return not_null(value)


class FilterView(Versioned):
    viewId: str
    dashboardId: str
    name: str
    values: dict[str, list[str] | dict[str, str]]
    creatorId: str


def stored_values(values: dict[str, list[str] | DateRange]) -> dict[str, Any]:
    """A view's values as stored and answered (`{"from", "to"}` for a date range)."""
    return {
        key: value.model_dump(by_alias=True) if isinstance(value, BaseModel) else list(value)
        for key, value in values.items()
    }
