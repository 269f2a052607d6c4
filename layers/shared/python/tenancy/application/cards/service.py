"""A tenant's cards: who may read and change them.

- Readable by its owner, by tenant admins, and, with `dashboardId`, by anyone who can read that
  dashboard while its layout holds the card (`DashboardAccess.resolve`, then the `CARDUSE#` item).
  Anyone else gets 404, exactly as for a card that does not exist.
- Changed and deleted by its owner or a tenant admin; someone who can read it otherwise (through a
  dashboard) gets 403, anyone else 404.
- A card a dashboard's layout holds is not deleted: 409 `CARD_IN_USE`, naming the dashboards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tenancy.application.cards.models import Card, CreateCardRequest, UpdateCardRequest
from tenancy.application.cards.repository import MAX_USES_NAMED, Cards, InUse, as_card, not_found
from tenancy.application.sharing.permissions import DashboardAccess
from tenancy.application.store import keys
from tenancy.common.dynamo import Page
from tenancy.common.errors import ConflictError, Forbidden, InvalidRequestError, NotFoundError
from tenancy.contracts.context import TenantContext


class CardInUseError(ConflictError):
    """A card that dashboards' layouts hold cannot be deleted: 409, naming them."""

    code = "CARD_IN_USE"


@dataclass(frozen=True)
class Readable:
    card: dict[str, Any]  # as stored
    writable: bool  # the caller is its owner or a tenant admin


def readable(cards: Cards, card_id: str, caller: TenantContext, dashboard_id: str | None) -> Readable:
    """The card, if the caller may read it (404 otherwise, whether or not it exists)."""
    card = cards.find(card_id)
    if card is None:
        raise not_found(card_id)
    if card["ownerId"] == caller.user_id or caller.is_admin:
        return Readable(card, writable=True)
    if dashboard_id is None:
        raise not_found(card_id)
    try:
        DashboardAccess(cards.store).resolve(dashboard_id, caller)
    except NotFoundError:
        raise not_found(card_id) from None
    if cards.store.get_item(keys.card_use_sk(card_id, dashboard_id)) is None:
        raise not_found(card_id)
    return Readable(card, writable=False)


def writable(
    cards: Cards, card_id: str, caller: TenantContext, dashboard_id: str | None, action: str
) -> dict[str, Any]:
    found = readable(cards, card_id, caller, dashboard_id)
    if not found.writable:
        raise Forbidden(f"only a card's owner or a tenant admin may {action} it")
    return found.card


def create_card(cards: Cards, caller: TenantContext, request: CreateCardRequest) -> Card:
    return cards.create(caller.user_id, request.model_dump())


def get_card(cards: Cards, caller: TenantContext, card_id: str, dashboard_id: str | None) -> Card:
    return as_card(readable(cards, card_id, caller, dashboard_id).card)


def list_cards(
    cards: Cards,
    caller: TenantContext,
    *,
    owner_id: str | None,
    dataset_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Card]:
    """The caller's cards, newest first; `owner_id`: another user's (admins only); `dataset_id`:
    the cards using that dataset (an admin sees all of them, a member their own), in id order."""
    if owner_id is not None and owner_id != caller.user_id and not caller.is_admin:
        raise Forbidden("only a tenant admin may list another user's cards")
    if dataset_id is not None:
        owner = owner_id if owner_id is not None or caller.is_admin else caller.user_id
        return cards.by_dataset(dataset_id, owner_id=owner, limit=limit, cursor=cursor)
    return cards.by_owner(owner_id or caller.user_id, limit=limit, cursor=cursor)


def update_card(
    cards: Cards, caller: TenantContext, card_id: str, request: UpdateCardRequest, dashboard_id: str | None
) -> Card:
    changes = request.model_dump(exclude={"version"}, exclude_none=True)
    if not changes:
        raise InvalidRequestError(
            "nothing to change",
            [{"field": "body", "message": "at least one of the card's fields besides version"}],
        )
    card = writable(cards, card_id, caller, dashboard_id, "change")
    return cards.update(card, changes, request.version)


def delete_card(cards: Cards, caller: TenantContext, card_id: str, dashboard_id: str | None) -> None:
    card = writable(cards, card_id, caller, dashboard_id, "delete")
    try:
        cards.delete(card)
    except InUse as refusal:
        uses = cards.uses(card_id)
        raise CardInUseError(
            f"card {card_id} is on {refusal.count} dashboard(s); remove it from their layouts first",
            {
                "dashboardCount": refusal.count,
                "dashboards": [{"dashboardId": use.dashboardId, "name": use.name} for use in uses],
                "truncated": refusal.count > MAX_USES_NAMED,
            },
        ) from None
