"""Card execution: the request bodies (validated here as far as a body alone tells) and the views
the API answers with.

A filter names a dataset column and either the values it may take (`{column, values}`: the column's
value, as text, is one of them) or a range of dates (`{column, from, to}`, ISO dates, inclusive).
It applies to a card only where the column is one of the card's `filterColumns` and in the schema
of one of its datasets; elsewhere it is ignored (`filterApplicable: false`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from tenancy.application.cards.models import CardFieldChecks, Code, Columns, DatasetIds, Params
from tenancy.common.fields import TEXT_PATTERN, IdRef, IsoDate, Request, View

MAX_FILTERS = 20
MAX_VALUES = 200

ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=TEXT_PATTERN)]
Value = Annotated[str, StringConstraints(max_length=200, pattern=TEXT_PATTERN)]


def _json_boolean(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("must be a JSON boolean (true or false)")
    return value


Flag = Annotated[bool, BeforeValidator(_json_boolean)]


class CategoryFilter(Request):
    """Rows whose `column`, as text, is one of `values`."""

    column: ColumnName
    values: list[Value] = Field(min_length=1, max_length=MAX_VALUES, json_schema_extra={"uniqueItems": True})

    @field_validator("values")
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("values must be distinct")
        return values

    def canonical(self) -> dict[str, Any]:
        return {"column": self.column, "values": sorted(self.values)}


class DateRangeFilter(Request):
    """Rows whose `column` (a date, the date of a datetime, or text that is a date) is within
    `from`..`to`, both included."""

    column: ColumnName
    from_: IsoDate = Field(alias="from")
    to: IsoDate

    @model_validator(mode="after")
    def _ordered(self) -> DateRangeFilter:
        if self.from_ > self.to:
            raise ValueError("from must not be after to")
        return self

    def canonical(self) -> dict[str, Any]:
        return {"column": self.column, "from": self.from_, "to": self.to}


AnyFilter = CategoryFilter | DateRangeFilter
Filter = Annotated[
    Annotated[CategoryFilter, Tag("category")] | Annotated[DateRangeFilter, Tag("dateRange")],
    Discriminator(
        lambda value: (
            "category"
            if isinstance(value, CategoryFilter) or (isinstance(value, dict) and "values" in value)
            else "dateRange"
        )
    ),
]
Filters = Annotated[
    list[Filter],
    Field(
        max_length=MAX_FILTERS,
        description="each {column, values: [...]} (category) or {column, from, to} (ISO dates)",
    ),
]


class ExecuteCardRequest(CardFieldChecks):
    filters: Filters = Field(default_factory=list)
    params: Params | None = Field(
        default=None, description="merged over the card's own params (a key given here wins)"
    )
    useCache: Flag = Field(default=True, description="false: run the card even if a result is cached")
    dashboardId: IdRef | None = Field(
        default=None,
        description="run the card as a reader of this dashboard, whose layout holds it (without it, "
        "only the card's owner and tenant admins run it)",
    )


class PreviewCardRequest(CardFieldChecks):
    """Unsaved code run the same way as a card (never cached)."""

    code: Code
    datasetIds: DatasetIds = Field(default_factory=list)
    params: Params = Field(default_factory=dict)
    usedColumns: Columns = Field(default_factory=list)
    filterColumns: Columns = Field(default_factory=list)
    filters: Filters = Field(default_factory=list)


class RenderDashboardRequest(Request):
    """The filters of one render: a saved filter view of the dashboard, or filters given here (not
    both); with neither, the dashboard's default filter view when it has one."""

    filterViewId: IdRef | None = None
    filters: Filters | None = None
    useCache: Flag = True

    @model_validator(mode="after")
    def _one_source(self) -> RenderDashboardRequest:
        if self.filterViewId is not None and self.filters is not None:
            raise ValueError("give filterViewId or filters, not both")
        return self


# --- views ------------------------------------------------------------------------------------------


class CardResult(View):
    cardId: str | None = Field(description="null for a preview")
    html: str = Field(
        description="the card's HTML: untrusted, render it in a sandboxed iframe (never in the "
        "console's own document)"
    )
    usedColumns: list[str] = Field(description="the columns the card was given (all when it names none)")
    filterApplicable: bool = Field(description="at least one of the request's filters applied to the card")
    appliedFilters: list[dict[str, Any]] = Field(description="the filters applied to the card's rows")
    executionTimeMs: int = Field(ge=0, description="the executor's time running the card's code")
    cached: bool = Field(description="the result came from the cache (the code did not run)")
    dataVersions: dict[str, int] = Field(description="each dataset's dataVersion the result was made from")


class CardFailure(View):
    code: str
    message: str
    details: Any = None


class RenderedCard(View):
    cardId: str
    status: int = Field(description="the status executing this card alone would answer with")
    result: CardResult | None = Field(default=None, description="when it ran (status 200)")
    error: CardFailure | None = Field(default=None, description="when it failed")


class DashboardRender(View):
    dashboardId: str
    filterViewId: str | None = Field(description="the filter view applied, if any")
    filters: list[dict[str, Any]] = Field(description="the filters given to every card")
    cards: list[RenderedCard] = Field(description="every card of the layout, in layout order")
