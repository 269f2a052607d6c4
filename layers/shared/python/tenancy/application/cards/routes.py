"""The cards routes of the app API (`/cards`): see service.py for who may do what."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from tenancy.application.access.dependencies import Caller, Store
from tenancy.application.cards import service
from tenancy.application.cards.models import CreateCardRequest, UpdateCardRequest
from tenancy.application.cards.repository import Cards
from tenancy.common import http
from tenancy.common.http import Cursor, Limit, PathId
from tenancy.common.keys import ID_MAX_LENGTH, ID_PATTERN

router = http.router()
LINKS = ("getCard", "updateCard", "deleteCard")
# A card's code may be 64 KiB and its params 8 KiB, and JSON may spell each byte of them (and of
# 200 column names) as escapes: these routes take bodies up to 1 MiB (the fields' own limits hold).
MAX_CARD_BODY_BYTES = 1024 * 1024
for _resource in ("/cards", "/cards/{cardId}"):
    http.allow_body(_resource, MAX_CARD_BODY_BYTES)


def _id_query(description: str) -> Query:
    return Query(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN, description=description)


DashboardContext = Annotated[
    str | None,
    _id_query(
        "read the card as a reader of this dashboard, whose layout holds it (without it, only the "
        "card's owner and tenant admins read it)"
    ),
]
OwnerFilter = Annotated[str | None, _id_query("another user's cards (tenant admins only)")]
DatasetFilter = Annotated[
    str | None, _id_query("the cards using this dataset (admins: all of them; members: their own)")
]


def cards(store: Store) -> Cards:
    return Cards(store)


TenantCards = Annotated[Cards, Depends(cards)]


@router.post(
    "/cards",
    operation_id="createCard",
    responses=http.responses(201, "Card", errors=[403], body=True, links={"cardId": LINKS}),
)
def create_card(body: CreateCardRequest, caller: Caller, cards: TenantCards) -> Response[str]:
    return http.ok(service.create_card(cards, caller, body), status=201)


@router.get(
    "/cards", operation_id="listCards", responses=http.responses(200, "Card", errors=[400, 403], page=True)
)
def list_cards(
    caller: Caller,
    cards: TenantCards,
    ownerId: OwnerFilter = None,
    datasetId: DatasetFilter = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response[str]:
    found = service.list_cards(
        cards, caller, owner_id=ownerId, dataset_id=datasetId, limit=limit, cursor=cursor
    )
    return http.page(found, limit=limit)


@router.get(
    "/cards/<cardId>", operation_id="getCard", responses=http.responses(200, "Card", errors=[403, 404])
)
def get_card(
    cardId: PathId, caller: Caller, cards: TenantCards, dashboardId: DashboardContext = None
) -> Response[str]:
    return http.ok(service.get_card(cards, caller, cardId, dashboardId))


@router.patch(
    "/cards/<cardId>",
    operation_id="updateCard",
    responses=http.responses(200, "Card", errors=[403, 404, 409], body=True),
)
def update_card(
    cardId: PathId,
    body: UpdateCardRequest,
    caller: Caller,
    cards: TenantCards,
    dashboardId: DashboardContext = None,
) -> Response[str]:
    return http.ok(service.update_card(cards, caller, cardId, body, dashboardId))


@router.delete(
    "/cards/<cardId>", operation_id="deleteCard", responses=http.responses(204, errors=[403, 404, 409])
)
def delete_card(
    cardId: PathId, caller: Caller, cards: TenantCards, dashboardId: DashboardContext = None
) -> Response[str]:
    service.delete_card(cards, caller, cardId, dashboardId)
    return http.no_content()
