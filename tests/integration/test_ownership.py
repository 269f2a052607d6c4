"""Ownership through the app API's handlers (behind the real authorizer, on moto): a clone's layout
holds only cards its new owner may place (others' are copied to them, so a clone is no permanent
grant), and `DELETE /users/{id}?transferTo=` hands a departing user's dashboards and cards to another
user (each with its index items, shares and audit item) before deleting them; an interrupted
transfer is finished by a retry. The writes of a transfer are `tenancy.application.sharing.ownership`,
shared with the dashboards' and cards' `PATCH ownerId`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tenancy.application.sharing.permissions import Permission, TargetType
from tenancy.application.store import keys
from tenancy.application.store.engine import Change, TenantStore
from tenancy.application.store.transaction import Transaction
from tenancy.common.dynamo import from_item
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.helpers.dataset_seeds import seed_dataset
from tests.integration.test_cards import CARD
from tests.integration.test_dashboards import Workspace, create, dashboard_sk, make_workspace, placed, refused

COPIED = ("name", "description", "datasetIds", "code", "paramsJson", "usedColumns", "filterColumns")


@pytest.fixture
def acme(cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]]) -> Workspace:
    world = make_workspace(cloud, app, onboard, "acme")
    for dataset_id in ("ds-sales", "ds-regions", "ds-own", "ds-1", "ds-2", "ds-3"):  # what cards name
        seed_dataset(world.store, dataset_id)
    return world


def plain(world: Workspace, prefix: str = "") -> dict[str, dict[str, Any]]:
    """The tenant's items under `prefix` as plain values, by sort key."""
    return {sk: from_item(item) for sk, item in world.items(prefix).items()}


def card_sk(card_id: str) -> str:
    return keys.item_sk(keys.CARD, card_id)


def new_card(client: ApiClient, name: str, **fields: Any) -> dict[str, Any]:
    made = client.post("/cards", {**CARD, "name": name, **fields})
    assert made.status == 201, made.body
    return made.data  # type: ignore[no-any-return]


def share(world: Workspace, owner: ApiClient, dashboard_id: str, target: str, permission: str) -> None:
    group = target not in world.ids
    body = {
        "targetType": "group" if group else "user",
        "targetId": target if group else world.ids[target],
        "permission": permission,
    }
    made = owner.post(f"/dashboards/{dashboard_id}/shares", body)
    assert made.status == 201, made.body


# --- clone: cards copied, never granted ------------------------------------------------------------


def test_a_viewers_clone_copies_the_cards_that_are_not_theirs(acme: Workspace) -> None:
    theirs = new_card(acme.alice, "Revenue", datasetIds=["ds-sales", "ds-regions"])
    mine = new_card(acme.bob, "Mine", datasetIds=["ds-own"])
    t, m = theirs["cardId"], mine["cardId"]
    made = create(acme.admin, "Sales", layout=placed(t, m))  # an admin may place anyone's cards
    d = made["dashboardId"]
    share(acme, acme.admin, d, "bob", "viewer")
    assert acme.bob.get(f"/cards/{t}?dashboardId={d}").status == 200  # read through the share
    before = plain(acme, "CARD")

    cloned = acme.bob.post(f"/dashboards/{d}/clone")
    assert cloned.status == 201, cloned.body
    c = cloned.data["dashboardId"]
    copy_id, kept = cloned.data["cardIds"]
    assert kept == m
    assert copy_id not in (t, m)
    assert [item["cardId"] for item in cloned.data["layout"]["items"]] == [copy_id, m]
    assert [(i["x"], i["y"], i["w"], i["h"]) for i in cloned.data["layout"]["items"]] == [
        (i["x"], i["y"], i["w"], i["h"]) for i in made["layout"]["items"]
    ]

    # the items written: the copy, its owner's listing item, its dataset items, the clone's uses
    after = plain(acme, "CARD")
    copy = after[card_sk(copy_id)]
    original = after[card_sk(t)]
    assert {name: copy[name] for name in COPIED} == {name: original[name] for name in COPIED}
    assert (copy["ownerId"], copy["copiedFrom"], copy["dashboardCount"], copy["version"]) == (
        acme.ids["bob"],
        t,
        1,
        1,
    )
    new = set(after) - set(before)
    assert new == {
        card_sk(copy_id),
        keys.card_by_owner_sk(acme.ids["bob"], copy["createdAt"], copy_id),
        keys.card_by_dataset_sk("ds-sales", copy_id),
        keys.card_by_dataset_sk("ds-regions", copy_id),
        keys.card_use_sk(copy_id, c),
        keys.card_use_sk(m, c),
    }
    assert {after[keys.card_by_dataset_sk(ds, copy_id)]["ownerId"] for ds in ("ds-sales", "ds-regions")} == {
        acme.ids["bob"]
    }
    assert keys.card_use_sk(t, c) not in after  # the clone never references alice's card
    assert (acme.card_count(t), acme.card_count(m)) == (1, 2)
    assert acme.audit()[-2:] == [("card.copy", card_sk(copy_id)), ("dashboard.clone", dashboard_sk(c))]
    # the copy is bob's own card, the same as alice's
    got = acme.bob.get(f"/cards/{copy_id}").data
    assert {k: got[k] for k in CARD} == {**CARD, "name": "Revenue", "datasetIds": ["ds-sales", "ds-regions"]}
    assert got["ownerId"] == acme.ids["bob"]
    refused(acme.bob.get(f"/cards/{t}?dashboardId={c}"), 404, "NOT_FOUND")

    # the share revoked: bob keeps his clone and his copy, and reads alice's card through nothing
    assert acme.admin.delete(f"/dashboards/{d}/shares/user:{acme.ids['bob']}").status == 204
    refused(acme.bob.get(f"/dashboards/{d}"), 404, "NOT_FOUND")
    refused(acme.bob.get(f"/cards/{t}?dashboardId={d}"), 404, "NOT_FOUND")
    refused(acme.bob.get(f"/cards/{t}?dashboardId={c}"), 404, "NOT_FOUND")
    assert acme.bob.get(f"/dashboards/{c}").data["cardIds"] == [copy_id, m]
    assert acme.bob.get(f"/cards/{copy_id}?dashboardId={c}").status == 200
    assert [x["cardId"] for x in acme.bob.get("/cards").data] == [copy_id, m]


def test_an_admins_clone_and_an_owners_clone_reference_the_original_cards(acme: Workspace) -> None:
    made = create(acme.alice, "Sales", layout=placed("a1", "a2"))
    d = made["dashboardId"]
    before = set(acme.items("CARD#"))
    own = acme.alice.post(f"/dashboards/{d}/clone")
    admins = acme.admin.post(f"/dashboards/{d}/clone")  # not shared: an admin sees every dashboard
    assert (own.status, admins.status) == (201, 201)
    for cloned in (own, admins):
        assert cloned.data["cardIds"] == ["a1", "a2"]
        assert cloned.data["layout"] == made["layout"]
        assert keys.card_use_sk("a1", cloned.data["dashboardId"]) in acme.items("CARDUSE#")
    assert set(acme.items("CARD#")) == before  # no copy
    assert (acme.card_count("a1"), acme.card_count("a2")) == (3, 3)
    assert not [action for action, _ in acme.audit() if action.startswith("card.")]


def test_a_refused_clone_leaves_no_copy_behind(acme: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bob's own card is handed to carol between the clone's reads and its transaction: the
    transaction is refused (the card is no longer bob's to place), and the copy made for it is
    deleted again."""
    theirs = new_card(acme.alice, "Revenue")
    mine = new_card(acme.bob, "Mine")
    t, m = theirs["cardId"], mine["cardId"]
    d = create(acme.admin, "Sales", layout=placed(t, m))["dashboardId"]
    share(acme, acme.admin, d, "bob", "viewer")
    before = plain(acme)
    commit = TenantStore.commit

    def racing(store: TenantStore, tx: Transaction, change: Change | None) -> None:
        if change is not None and change.action == "dashboard.clone":
            handed = Transaction().update(
                card_sk(m), "SET ownerId = :carol", values={":carol": acme.ids["carol"]}
            )
            commit(acme.store, handed, None)
        commit(store, tx, change)

    monkeypatch.setattr(TenantStore, "commit", racing)
    answer = acme.bob.post(f"/dashboards/{d}/clone")
    monkeypatch.undo()
    refused(answer, 409, "CONFLICT")
    assert "changed owner" in answer.error["message"]

    after = plain(acme)
    audit = [(i["action"], i["resource"]) for sk, i in after.items() if sk.startswith("AUDIT#")]
    copied = [resource for action, resource in audit if action == "card.copy"]
    assert len(copied) == 1
    assert [resource for action, resource in audit if action == "card.copy.rollback"] == copied
    assert "dashboard.clone" not in [action for action, _ in audit]
    # nothing else written: the card handed to carol is the race's own write
    expected = {sk: item for sk, item in before.items() if not sk.startswith("AUDIT#")}
    expected[card_sk(m)] = {**expected[card_sk(m)], "ownerId": acme.ids["carol"]}
    assert {sk: item for sk, item in after.items() if not sk.startswith("AUDIT#")} == expected
    assert acme.bob.get("/dashboards").data == []


# --- a departing user's content handed on -----------------------------------------------------------


def test_deleting_a_user_hands_their_dashboards_and_cards_to_another(acme: Workspace) -> None:
    alice, carol = acme.ids["alice"], acme.ids["carol"]
    card1 = new_card(acme.alice, "One", datasetIds=["ds-1", "ds-2"])
    card2 = new_card(acme.alice, "Two", datasetIds=[])
    c1, c2 = card1["cardId"], card2["cardId"]
    d1 = create(acme.alice, "First", layout=placed(c1))
    d2 = create(acme.alice, "Second")
    acme.group("team", "bob")
    share(acme, acme.alice, d1["dashboardId"], "bob", "editor")
    share(acme, acme.alice, d1["dashboardId"], "team", "viewer")
    share(acme, acme.alice, d2["dashboardId"], "carol", "editor")  # the new owner's share goes
    share(acme, acme.alice, d2["dashboardId"], "bob", "viewer")
    acme.group("staff", "alice")
    bob_card = new_card(acme.bob, "Bob's")  # not alice's: stays bob's

    assert acme.admin.delete(f"/users/{alice}?transferTo={carol}").status == 204

    items = plain(acme)
    assert keys.item_sk(keys.USER, alice) not in items
    assert not [sk for sk in items if alice in sk]  # listing items, memberships: none left
    for made in (d1, d2):
        dashboard = items[dashboard_sk(made["dashboardId"])]
        assert (dashboard["ownerId"], dashboard["version"]) == (carol, 2)
        assert dashboard["updatedAt"] > made["updatedAt"]
    assert {sk for sk in items if sk.startswith("DASHOWNER#")} == {
        keys.dashboard_by_owner_sk(carol, made["createdAt"], made["dashboardId"]) for made in (d1, d2)
    }
    d1_id, d2_id = d1["dashboardId"], d2["dashboardId"]
    bob = acme.ids["bob"]
    assert {sk for sk in items if sk.startswith(("SHARE#", "SHARED#"))} == {
        keys.share_sk(d1_id, TargetType.USER, bob),
        keys.shared_with_sk(TargetType.USER, bob, d1_id),
        keys.share_sk(d1_id, TargetType.GROUP, "team"),
        keys.shared_with_sk(TargetType.GROUP, "team", d1_id),
        keys.share_sk(d2_id, TargetType.USER, bob),
        keys.shared_with_sk(TargetType.USER, bob, d2_id),
    }
    for made in (card1, card2):
        card = items[card_sk(made["cardId"])]
        assert (card["ownerId"], card["version"]) == (carol, 2)
    assert {sk for sk in items if sk.startswith("CARDOWNER#")} == {
        keys.card_by_owner_sk(carol, card1["createdAt"], c1),
        keys.card_by_owner_sk(carol, card2["createdAt"], c2),
        keys.card_by_owner_sk(bob, bob_card["createdAt"], bob_card["cardId"]),
    }
    datasets = {sk: i["ownerId"] for sk, i in items.items() if sk.startswith("CARDDATASET#") and c1 in sk}
    assert datasets == {
        keys.card_by_dataset_sk("ds-1", c1): carol,
        keys.card_by_dataset_sk("ds-2", c1): carol,
    }
    assert keys.card_use_sk(c1, d1_id) in items
    assert acme.card_count(c1) == 1
    assert items["GROUP#staff"]["memberCount"] == 0

    audit = acme.audit()
    assert sorted(a for a in audit if a[0].endswith(".transfer")) == sorted(
        [
            ("dashboard.transfer", dashboard_sk(d1_id)),
            ("dashboard.transfer", dashboard_sk(d2_id)),
            ("card.transfer", card_sk(c1)),
            ("card.transfer", card_sk(c2)),
        ]
    )
    assert audit[-1] == ("user.delete", keys.item_sk(keys.USER, alice))

    # what the API shows: carol owns it all, the shares stay
    assert {x["dashboardId"] for x in acme.carol.get("/dashboards").data} == {d1_id, d2_id}
    assert acme.carol.get(f"/dashboards/{d2_id}").data["myPermission"] == "owner"
    assert {x["cardId"] for x in acme.carol.get("/cards").data} == {c1, c2}
    assert [x["cardId"] for x in acme.carol.get("/cards?datasetId=ds-1").data] == [c1]
    assert acme.bob.get(f"/dashboards/{d1_id}").data["myPermission"] == "editor"
    assert acme.bob.get(f"/dashboards/{d2_id}").data["myPermission"] == "viewer"
    assert acme.admin.get(f"/users/{alice}").status == 404


def test_a_bad_transfer_to_is_422_without_it_409_and_members_403(
    cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]], acme: Workspace
) -> None:
    other = make_workspace(cloud, app, onboard, "globex")
    alice = acme.ids["alice"]
    create(acme.alice, "Sales")
    new_card(acme.alice, "Revenue")
    url = f"/users/{alice}"
    before = plain(acme)
    for recipient, message in (
        ("00000000-0000-4000-8000-000000000000", "no such user"),
        (other.ids["alice"], "no such user"),  # another tenant's user
        (alice, "cannot receive their own"),
    ):
        answer = acme.admin.delete(f"{url}?transferTo={recipient}")
        refused(answer, 422, "VALIDATION_ERROR", "transferTo")
        assert message in answer.error["details"][0]["message"]
    refused(acme.admin.delete(f"{url}?transferTo=bad%23id"), 422, "VALIDATION_ERROR")
    refused(acme.admin.delete(f"{url}?transferTo="), 422, "VALIDATION_ERROR")
    owns = acme.admin.delete(url)
    refused(owns, 409, "USER_OWNS_CONTENT")
    assert owns.error["details"] == {"owns": ["dashboards", "cards"]}
    assert "transferTo" in owns.error["message"]
    refused(acme.bob.delete(f"{url}?transferTo={acme.ids['carol']}"), 403, "FORBIDDEN")
    assert plain(acme) == before  # nothing written, not even an audit item
    # a user who owns nothing: a bad transferTo is still refused, a good one is just the delete
    carol = acme.ids["carol"]
    refused(acme.admin.delete(f"/users/{carol}?transferTo={carol}"), 422, "VALIDATION_ERROR", "transferTo")
    assert acme.admin.delete(f"/users/{carol}?transferTo={acme.ids['admin']}").status == 204
    assert not [a for a in acme.audit() if a[0].endswith(".transfer")]
    # to the admin themselves
    assert acme.admin.delete(f"{url}?transferTo={acme.ids['admin']}").status == 204
    assert [x["name"] for x in acme.admin.get("/dashboards").data] == ["Sales"]


def test_an_interrupted_transfer_is_finished_by_a_retry(
    acme: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, carol = acme.ids["alice"], acme.ids["carol"]
    dashboards = [create(acme.alice, name)["dashboardId"] for name in ("One", "Two", "Three")]
    cards = [new_card(acme.alice, name)["cardId"] for name in ("A", "B")]
    commit = TenantStore.commit
    done: list[str] = []

    def stops(store: TenantStore, tx: Transaction, change: Change | None) -> None:
        if change is not None and change.action.endswith(".transfer"):
            if len(done) == 2:
                raise RuntimeError("the function stopped")
            done.append(change.resource)
        commit(store, tx, change)

    monkeypatch.setattr(TenantStore, "commit", stops)
    assert acme.admin.delete(f"/users/{alice}?transferTo={carol}").status == 500
    monkeypatch.undo()
    owners = {d: acme.store.get_item(dashboard_sk(d))["ownerId"] for d in dashboards}  # type: ignore[index]
    assert sorted(owners.values()) == sorted([carol, carol, alice])
    assert keys.item_sk(keys.USER, alice) in acme.items("USER#")  # not deleted yet

    assert acme.admin.delete(f"/users/{alice}?transferTo={carol}").status == 204
    assert {acme.store.get_item(dashboard_sk(d))["ownerId"] for d in dashboards} == {carol}  # type: ignore[index]
    assert {acme.store.get_item(card_sk(c))["ownerId"] for c in cards} == {carol}  # type: ignore[index]
    transfers = [resource for action, resource in acme.audit() if action.endswith(".transfer")]
    assert sorted(transfers) == sorted([dashboard_sk(d) for d in dashboards] + [card_sk(c) for c in cards])
    assert keys.item_sk(keys.USER, alice) not in acme.items("USER#")


def test_a_cards_patch_of_its_owner_and_datasets_moves_every_index_item(acme: Workspace) -> None:
    card = new_card(acme.alice, "Revenue", datasetIds=["ds-1", "ds-2"])
    c = card["cardId"]
    given = acme.alice.patch(
        f"/cards/{c}", {"ownerId": acme.ids["bob"], "datasetIds": ["ds-2", "ds-3"], "version": 1}
    )
    assert given.status == 200, given.body
    items = plain(acme)
    assert {sk: i["ownerId"] for sk, i in items.items() if sk.startswith("CARDDATASET#")} == {
        keys.card_by_dataset_sk("ds-2", c): acme.ids["bob"],
        keys.card_by_dataset_sk("ds-3", c): acme.ids["bob"],
    }
    assert [sk for sk in items if sk.startswith("CARDOWNER#")] == [
        keys.card_by_owner_sk(acme.ids["bob"], card["createdAt"], c)
    ]
    assert acme.audit()[-1] == ("card.transfer", card_sk(c))
    changed = acme.bob.patch(f"/cards/{c}", {"name": "Renamed", "version": 2})
    assert changed.status == 200
    assert acme.audit()[-1] == ("card.update", card_sk(c))


def test_a_dashboards_patch_of_its_owner_uses_the_same_writes(acme: Workspace) -> None:
    made = create(acme.alice, "Sales")
    d = made["dashboardId"]
    acme.share(d, "bob", Permission.VIEWER)
    handed = acme.alice.patch(f"/dashboards/{d}", {"ownerId": acme.ids["bob"], "version": 1})
    assert handed.status == 200, handed.body
    assert set(acme.items("DASHOWNER#")) == {
        keys.dashboard_by_owner_sk(acme.ids["bob"], made["createdAt"], d)
    }
    assert not acme.items("SHARE#")
    assert not acme.items("SHARED#")
    assert acme.audit()[-1] == ("dashboard.transfer", dashboard_sk(d))
