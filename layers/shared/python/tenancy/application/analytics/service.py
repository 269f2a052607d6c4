"""Running cards: who may, what a card is given, the result cache, a dashboard's render.

- A card runs for whoever may read it (`cards.service.readable`: its owner, a tenant admin, or,
  with `dashboardId`, a reader of a dashboard whose layout holds it); anyone else gets 404, as for a
  card that does not exist. A preview (unsaved code) runs for any user of the tenant: datasets
  belong to the tenant. A dashboard renders for its viewers and up, each card of its layout
  reached through the dashboard.
- A card's datasets must exist (422 naming `datasetIds.N` otherwise) and have data (an import
  completed: 409 `DATASET_NOT_READY` otherwise); their rows are read as the tenant (`rows`).
- The code runs in the executor (`executor`): 422 with the card's error code, 502 when the executor
  itself failed.
- Results are cached in the tenant's partition (`CARDRESULT#<cardId>#<fingerprint>`, TTL
  `expiresAt` one hour) per fingerprint: sha256 over the card's version, each dataset's importId,
  the filters applied (canonical) and the params (the card's, overridden by the request's).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from tenancy.application.access.tenant_objects import TenantObjects
from tenancy.application.analytics import executor, rows
from tenancy.application.analytics.errors import (
    CardInputTooLargeError,
    DatasetNotReadyError,
    RenderDeadlineError,
)
from tenancy.application.analytics.models import (
    AnyFilter,
    CardFailure,
    CardResult,
    CategoryFilter,
    DashboardRender,
    DateRangeFilter,
    ExecuteCardRequest,
    PreviewCardRequest,
    RenderDashboardRequest,
    RenderedCard,
)
from tenancy.application.cards.repository import Cards
from tenancy.application.cards.service import readable
from tenancy.application.sandbox.contract import MAX_REQUEST_BYTES, TIMEOUT_MS
from tenancy.application.sharing.permissions import DashboardAccess
from tenancy.application.store import keys
from tenancy.application.store.engine import TenantStore
from tenancy.application.store.transaction import Transaction
from tenancy.common.errors import NotFoundError, TenancyError, ValidationFailedError
from tenancy.common.timestamps import now_iso

logger = logging.getLogger(__name__)

CACHE_SECONDS = 3600
# DynamoDB's items are at most 400 KB: a result whose HTML is over this is not cached (it runs
# every time), which leaves room for the item's other attributes.
MAX_CACHED_HTML_BYTES = 300 * 1024
FINGERPRINT_LENGTH = 32
RENDER_THREADS = 4
# A render starts a card only while the function has more than this left: the card's own
# wall-clock limit in the executor plus 2 s for its rows, the invocation and the answer. A card not
# started by then is answered 503 RENDER_DEADLINE in the render (the function never times out).
RENDER_MARGIN_S = TIMEOUT_MS / 1000 + 2

Objects = Callable[[], TenantObjects]


def lazy(factory: Objects) -> Objects:
    """`factory` called once, on first use (a cached render never reaches the tenant's objects)."""
    return cache(factory)


# --- what one run of a card is given ----------------------------------------------------------------


@dataclass
class Run:
    """One card's execution, prepared: everything but its rows."""

    card_id: str | None
    code: str
    params: dict[str, Any]
    datasets: list[dict[str, Any]]  # the dataset items, in the card's order
    columns: list[list[str]]  # per dataset, the columns it is given
    filters: list[list[AnyFilter]]  # per dataset, the filters that apply to it
    applied: list[dict[str, Any]]  # the applied filters, canonical (each once)
    fingerprint: str | None = None  # None: never cached (previews)
    data_versions: dict[str, int] = field(default_factory=dict)

    @property
    def used_columns(self) -> list[str]:
        return list(dict.fromkeys(name for columns in self.columns for name in columns))


def _number(value: Any) -> int:
    return int(value) if isinstance(value, int | Decimal | str) else 0


def datasets_of(store: TenantStore, dataset_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The card's datasets (one BatchGetItem), in its order, checked (`checked_datasets`)."""
    found = store.get_items(keys.item_sk(keys.DATASET, dataset_id) for dataset_id in dataset_ids)
    return checked_datasets(dataset_ids, found)


def checked_datasets(dataset_ids: Sequence[str], found: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The items of `dataset_ids` out of `found` (by sort key): each must exist (422 naming
    `datasetIds.N`; one being deleted does not) and have data (409 DATASET_NOT_READY)."""
    items = [found.get(keys.item_sk(keys.DATASET, dataset_id)) for dataset_id in dataset_ids]
    details = [
        {
            "field": f"datasetIds.{index}",
            "location": "body",
            "message": f"no dataset {dataset_id} in this tenant",
        }
        for index, (dataset_id, item) in enumerate(zip(dataset_ids, items, strict=True))
        if item is None or item.get("deletingAt")
    ]
    if details:
        raise ValidationFailedError("the card names datasets that do not exist", details)
    present = [item for item in items if item is not None]
    waiting = [str(item["datasetId"]) for item in present if not item.get("importId")]
    if waiting:
        raise DatasetNotReadyError(
            f"dataset {waiting[0]} has no data yet: its first import has not completed",
            {"datasetIds": waiting},
        )
    return present


def canonical(filters: Sequence[AnyFilter]) -> list[dict[str, Any]]:
    """Filters as compared and shown: each once, in a stable order."""
    unique = {json.dumps(found.canonical(), sort_keys=True): found.canonical() for found in filters}
    return [unique[text] for text in sorted(unique)]


def fingerprint(version: int, datasets: Sequence[dict[str, Any]], applied: Any, params: Any) -> str:
    """sha256 (hex, first 32 characters) of what a card's result depends on."""
    material = {
        "card": version,
        "data": [[str(item["datasetId"]), str(item["importId"])] for item in datasets],
        "filters": applied,
        "params": params,
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_LENGTH]


def prepare(
    *,
    card_id: str | None,
    version: int | None,
    code: str,
    params: dict[str, Any],
    used_columns: Sequence[str],
    filter_columns: Sequence[str],
    datasets: list[dict[str, Any]],
    filters: Sequence[AnyFilter],
) -> Run:
    """What the card is given: per dataset its columns (422 for a used column none has) and the
    filters that apply to it; the fingerprint when the card is saved (`version`)."""
    schemas = [rows.schema_of(item) for item in datasets]
    columns = rows.projections(used_columns, schemas)
    per_dataset = [rows.applicable(filters, filter_columns, schema) for schema in schemas]
    applied = canonical([found for applicable in per_dataset for found in applicable])
    run = Run(
        card_id=card_id,
        code=code,
        params=params,
        datasets=datasets,
        columns=columns,
        filters=per_dataset,
        applied=applied,
        data_versions={str(item["datasetId"]): _number(item.get("dataVersion")) for item in datasets},
    )
    if version is not None:
        run.fingerprint = fingerprint(version, datasets, applied, params)
    return run


def _card_run(
    card: dict[str, Any],
    filters: Sequence[AnyFilter],
    params: dict[str, Any] | None,
    datasets: list[dict[str, Any]],
) -> Run:
    merged = {**json.loads(str(card.get("paramsJson") or "{}")), **(params or {})}
    return prepare(
        card_id=str(card["cardId"]),
        version=int(card["version"]),
        code=str(card.get("code") or ""),
        params=merged,
        used_columns=[str(name) for name in card.get("usedColumns") or []],
        filter_columns=[str(name) for name in card.get("filterColumns") or []],
        datasets=datasets,
        filters=filters,
    )


# --- the result cache --------------------------------------------------------------------------------


def cached(store: TenantStore, run: Run) -> CardResult | None:
    """The cached result of `run` (a consistent GetItem), unless there is none or it has expired
    (TTL deletion lags expiry by up to days: an expired item is ignored here)."""
    if run.card_id is None or run.fingerprint is None:
        return None
    item = store.get_item(keys.card_result_sk(run.card_id, run.fingerprint))
    if item is None or _number(item.get("expiresAt")) <= time.time():
        return None
    return CardResult(
        cardId=run.card_id,
        html=str(item["html"]),
        usedColumns=[str(name) for name in item.get("usedColumns") or []],
        filterApplicable=bool(item.get("filterApplicable")),
        appliedFilters=_plain(item.get("appliedFilters") or []),
        executionTimeMs=_number(item.get("executionTimeMs")),
        cached=True,
        dataVersions={str(k): _number(v) for k, v in (item.get("dataVersions") or {}).items()},
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {name: _plain(member) for name, member in value.items()}
    if isinstance(value, list):
        return [_plain(member) for member in value]
    return value


def remember(store: TenantStore, run: Run, result: CardResult) -> bool:
    """Cache `result` for an hour, if its HTML is at most MAX_CACHED_HTML_BYTES (an item is at most
    400 KB in DynamoDB). Not a user's change: no audit item, but written through the tenant's store
    (its partition pinned, on the condition that the partition is open). A failed write only means
    the next run computes again."""
    if run.card_id is None or run.fingerprint is None:
        return False
    if len(result.html.encode("utf-8", "surrogatepass")) > MAX_CACHED_HTML_BYTES:
        return False
    item = {
        "cardId": run.card_id,
        "fingerprint": run.fingerprint,
        "html": result.html,
        "usedColumns": result.usedColumns,
        "filterApplicable": result.filterApplicable,
        "appliedFilters": result.appliedFilters,
        "executionTimeMs": result.executionTimeMs,
        "dataVersions": result.dataVersions,
        "createdAt": now_iso(),
        "expiresAt": int(time.time()) + CACHE_SECONDS,
    }
    try:
        store.commit(
            Transaction().put(keys.card_result_sk(run.card_id, run.fingerprint), item, new=False), None
        )
    except Exception:  # the result is answered all the same
        logger.warning("card result not cached", exc_info=True)
        return False
    return True


# --- running -----------------------------------------------------------------------------------------


def run_card(run: Run, objects: Objects) -> CardResult:
    """Read the rows (as the tenant), run the code in the executor, answer its HTML."""
    request: dict[str, Any] = {"code": run.code, "params": run.params, "filters": run.applied}
    envelope = len(json.dumps(request, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    budget = MAX_REQUEST_BYTES - envelope - len(',"datasets":[]')
    if budget < 0:
        raise CardInputTooLargeError(
            f"the card's code and params are over {MAX_REQUEST_BYTES} bytes", {"maxBytes": MAX_REQUEST_BYTES}
        )
    inputs: list[str] = []
    for dataset, columns, filters in zip(run.datasets, run.columns, run.filters, strict=True):
        read = rows.read(objects(), dataset, columns, filters, budget=budget)
        budget -= read.size + 1  # and its separator
        inputs.append(read.text)
    result = executor.execute(request, inputs)
    return CardResult(
        cardId=run.card_id,
        html=result.html or "",
        usedColumns=run.used_columns,
        filterApplicable=bool(run.applied),
        appliedFilters=run.applied,
        executionTimeMs=result.executionTimeMs,
        cached=False,
        dataVersions=run.data_versions,
    )


def _answer(store: TenantStore, run: Run, objects: Objects, use_cache: bool) -> CardResult:
    if use_cache:
        found = cached(store, run)
        if found is not None:
            return found
    result = run_card(run, objects)
    remember(store, run, result)
    return result


def execute_card(
    store: TenantStore, objects: Objects, caller: Any, card_id: str, request: ExecuteCardRequest
) -> CardResult:
    """`POST /cards/{cardId}/execute`."""
    card = readable(Cards(store), card_id, caller, request.dashboardId).card
    datasets = datasets_of(store, [str(d) for d in card.get("datasetIds") or []])
    run = _card_run(card, request.filters, request.params, datasets)
    return _answer(store, run, objects, request.useCache)


def preview_card(store: TenantStore, objects: Objects, request: PreviewCardRequest) -> CardResult:
    """`POST /cards/preview`: unsaved code, run the same way (never cached)."""
    run = prepare(
        card_id=None,
        version=None,
        code=request.code,
        params=request.params,
        used_columns=request.usedColumns,
        filter_columns=request.filterColumns,
        datasets=datasets_of(store, request.datasetIds),
        filters=request.filters,
    )
    return run_card(run, objects)


# --- a dashboard ---------------------------------------------------------------------------------------


def _view_filters(store: TenantStore, dashboard: dict[str, Any], view_id: str) -> list[AnyFilter]:
    """A filter view's values as filters on the dashboard filters' columns (a value naming a filter
    the dashboard no longer has, or choosing no value, filters nothing)."""
    dashboard_id = str(dashboard["dashboardId"])
    view = store.get_item(keys.filter_view_sk(dashboard_id, view_id))
    if view is None:
        raise NotFoundError(f"filter view {view_id} not found")
    definitions = {str(d["filterId"]): d for d in dashboard.get("filters") or []}
    found: list[AnyFilter] = []
    for filter_id, value in (view.get("values") or {}).items():
        definition = definitions.get(str(filter_id))
        if definition is None:
            continue
        column = str(definition["column"])
        if definition.get("type") == "dateRange" and isinstance(value, dict):
            found.append(
                DateRangeFilter.model_validate({"column": column, "from": value["from"], "to": value["to"]})
            )
        elif isinstance(value, list) and value:
            found.append(CategoryFilter(column=column, values=[str(v) for v in value]))
    return found


def _failure(card_id: str, error: Exception) -> RenderedCard:
    if isinstance(error, TenancyError):
        failure = CardFailure(code=error.code, message=error.message, details=error.details)
        return RenderedCard(cardId=card_id, status=error.status_code, error=failure)
    logger.exception("card %s failed in a render", card_id, exc_info=error)
    failure = CardFailure(code="INTERNAL_ERROR", message="the card could not be rendered")
    return RenderedCard(cardId=card_id, status=500, error=failure)


def render_deadline(context: Any) -> float | None:
    """When a render stops starting cards (`time.monotonic()`): RENDER_MARGIN_S before the Lambda
    context's remaining time runs out; None without a context that tells it."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    return time.monotonic() + int(remaining()) / 1000 - RENDER_MARGIN_S


def render_dashboard(
    store: TenantStore,
    objects: Objects,
    caller: Any,
    dashboard_id: str,
    request: RenderDashboardRequest,
    *,
    deadline: float | None = None,
) -> DashboardRender:
    """`POST /dashboards/{dashboardId}/render`: every card of the layout, each its result or its
    error; cached results first, the others run concurrently (RENDER_THREADS at a time) while
    `deadline` (`render_deadline`) has not passed: a card not started by then is answered 503
    RENDER_DEADLINE without running."""
    dashboard = DashboardAccess(store).resolve(dashboard_id, caller).dashboard
    view_id = request.filterViewId
    if request.filters is None and view_id is None:
        view_id = dashboard.get("defaultFilterViewId") or None
    filters: list[AnyFilter] = []
    if request.filters is not None:
        filters = list(request.filters)
    elif view_id:
        filters = _view_filters(store, dashboard, str(view_id))
    layout = dashboard.get("layout") or {}
    card_ids = list(dict.fromkeys(str(item["cardId"]) for item in layout.get("items") or []))
    cards = store.get_items(keys.item_sk(keys.CARD, card_id) for card_id in card_ids)
    wanted = {str(d) for card in cards.values() for d in card.get("datasetIds") or []}
    datasets = store.get_items(keys.item_sk(keys.DATASET, d) for d in sorted(wanted))
    answers: dict[str, RenderedCard] = {}
    pending: dict[str, Run] = {}
    for card_id in card_ids:
        try:
            card = cards.get(keys.item_sk(keys.CARD, card_id))
            if card is None:
                raise NotFoundError(f"card {card_id} not found")
            ids = [str(d) for d in card.get("datasetIds") or []]
            run = _card_run(card, filters, None, checked_datasets(ids, datasets))
            found = cached(store, run) if request.useCache else None
        except Exception as error:
            answers[card_id] = _failure(card_id, error)
            continue
        if found is not None:
            answers[card_id] = RenderedCard(cardId=card_id, status=200, result=found)
        else:
            pending[card_id] = run

    def execute(card_id: str) -> RenderedCard:
        if deadline is not None and time.monotonic() >= deadline:
            return _failure(
                card_id,
                RenderDeadlineError(
                    "the render ran out of time before this card started: render again "
                    "(the cards that ran are cached)"
                ),
            )
        try:
            return RenderedCard(
                cardId=card_id, status=200, result=_answer(store, pending[card_id], objects, False)
            )
        except Exception as error:
            return _failure(card_id, error)

    if pending:
        with ThreadPoolExecutor(max_workers=min(RENDER_THREADS, len(pending))) as pool:
            for rendered in pool.map(execute, list(pending)):
                answers[rendered.cardId] = rendered
    return DashboardRender(
        dashboardId=dashboard_id,
        filterViewId=view_id,
        filters=canonical(filters),
        cards=[answers[card_id] for card_id in card_ids],
    )
