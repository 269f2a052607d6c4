"""Cards through the app API's handlers (behind the real authorizer): every route and status, the
items each mutation writes and removes, listings, who may read and change a card (owner, admins,
readers of a dashboard whose layout holds it), and CARD_IN_USE naming the dashboards."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tenancy.application.sharing import graph
from tenancy.application.sharing.permissions import Permission, TargetType
from tenancy.application.store import keys
from tenancy.application.store.engine import Actor, TenantStore
from tenancy.application.store.transaction import Transaction
from tenancy.common.dynamo import from_item
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.helpers.dataset_seeds import seed_dataset
from tests.integration.conftest import admin_of, token_for

NEVER = "00000000-0000-4000-8000-000000000000"
NOW = "2026-12-03T10:00:00.000000Z"
DATASETS = ("ds-sales", "ds-regions", "ds-new", "ds-x", "ds-1", "ds-2")
CARD = {
    "name": "Revenue by region",
    "description": "sums revenue",
    "datasetIds": ["ds-sales", "ds-regions"],
    "code": "select region,\n\tsum(revenue)\r\nfrom sales",
    "params": {"top": 10, "ratio": 0.25, "labels": ["a", "b"], "nested": {"on": True, "none": None}},
    "usedColumns": ["region", "revenue"],
    "filterColumns": ["region"],
}


@pytest.fixture
def acme(cloud: Cloud, app: ApiClient, onboard: Any) -> dict[str, Any]:
    """A pool tenant with its admin and two members (each an ApiClient), and a store on its partition."""
    tenant = onboard("acme", "PRO")
    admin = admin_of(cloud, app, "acme")
    users = {}
    for name in ("alice", "bob"):
        created = admin.post("/users", {"email": f"{name}@acme.example", "role": "member"})
        assert created.status == 201, created.body
        users[name] = created.data["userId"]
    store = TenantStore(
        boto3.client("dynamodb"), cloud.settings.app_table_name, tenant["tenantId"], Actor("seed", "t")
    )
    for dataset_id in DATASETS:  # what the cards below name (a card names existing datasets only)
        seed_dataset(store, dataset_id)
    return {
        "tenant": tenant,
        "admin": admin,
        "adminId": admin.get("/me").data["userId"],
        "alice": app.as_user(token_for(cloud, "alice@acme.example")),
        "bob": app.as_user(token_for(cloud, "bob@acme.example")),
        "ids": users,
        "store": store,
    }


def items(cloud: Cloud, tenant_id: str, prefix: str = "") -> dict[str, dict[str, Any]]:
    """The tenant's items (plain values) whose sort key begins with `prefix`, by sort key."""
    found = boto3.client("dynamodb").query(
        TableName=cloud.settings.app_table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
        ConsistentRead=True,
    )["Items"]
    return {item["SK"]["S"]: from_item(item) for item in found if item["SK"]["S"].startswith(prefix)}


def card_items(cloud: Cloud, tenant_id: str) -> list[str]:
    """The sort keys of every card item and card index item of the tenant."""
    return sorted(
        sk
        for sk in items(cloud, tenant_id)
        if sk.split("#")[0] in {keys.CARD, keys.CARD_BY_OWNER, keys.CARD_BY_DATASET, keys.CARD_USE}
    )


def audit_of(cloud: Cloud, tenant_id: str, card_id: str) -> list[str]:
    return [
        str(item["action"])
        for item in items(cloud, tenant_id, "AUDIT#").values()
        if item["resource"] == f"CARD#{card_id}"
    ]


def seed_dashboard(store: TenantStore, dashboard_id: str, name: str, owner_id: str, cards: list[str]) -> None:
    """A dashboard whose layout holds `cards`, as the dashboards domain writes it: the dashboard,
    `ADD dashboardCount` on each card (never its version) and each `CARDUSE#<card>#<dashboard>`."""
    tx = Transaction().put(
        keys.item_sk(keys.DASHBOARD, dashboard_id),
        {"dashboardId": dashboard_id, "name": name, "ownerId": owner_id, "cardIds": cards},
    )
    for card_id in cards:
        tx.update(keys.item_sk(keys.CARD, card_id), "ADD dashboardCount :one", values={":one": 1})
        tx.put(keys.card_use_sk(card_id, dashboard_id), {"cardId": card_id, "dashboardId": dashboard_id})
    store.commit(tx, None)


def unseed_card_use(store: TenantStore, dashboard_id: str, card_id: str) -> None:
    tx = Transaction().update(
        keys.item_sk(keys.CARD, card_id), "ADD dashboardCount :one", values={":one": -1}
    )
    tx.delete(keys.card_use_sk(card_id, dashboard_id))
    store.commit(tx, None)


def share(store: TenantStore, dashboard_id: str, owner_id: str, user_id: str) -> None:
    tx = Transaction()
    graph.add_share_writes(tx, dashboard_id, owner_id, TargetType.USER, user_id, Permission.VIEWER, NOW)
    store.commit(tx, None)


# --- create, read, the items written ---------------------------------------------------------------


def test_create_writes_the_card_its_owner_and_dataset_index_and_audit(
    cloud: Cloud, acme: dict[str, Any]
) -> None:
    tenant_id = acme["tenant"]["tenantId"]
    created = acme["alice"].post("/cards", CARD)
    assert created.status == 201, created.body
    card = created.data
    card_id = card["cardId"]
    assert {name: card[name] for name in CARD} == CARD  # params exactly as sent (floats, nulls, nesting)
    assert (card["ownerId"], card["dashboardCount"], card["version"]) == (acme["ids"]["alice"], 0, 1)
    assert card["createdAt"] == card["updatedAt"]
    assert acme["alice"].get(f"/cards/{card_id}").data == card
    stored = items(cloud, tenant_id)
    owner_sk = f"CARDOWNER#{acme['ids']['alice']}#{card['createdAt']}#{card_id}"
    assert card_items(cloud, tenant_id) == sorted(
        [
            f"CARD#{card_id}",
            owner_sk,
            f"CARDDATASET#ds-sales#{card_id}",
            f"CARDDATASET#ds-regions#{card_id}",
        ]
    )
    assert stored[owner_sk] == {"PK": f"TENANT#{tenant_id}", "SK": owner_sk, "cardId": card_id}
    assert stored[f"CARDDATASET#ds-sales#{card_id}"]["ownerId"] == acme["ids"]["alice"]
    assert json.loads(stored[f"CARD#{card_id}"]["paramsJson"]) == CARD["params"]
    assert audit_of(cloud, tenant_id, card_id) == ["card.create"]


def test_a_minimal_card_takes_the_defaults(acme: dict[str, Any]) -> None:
    card = acme["bob"].post("/cards", {"name": "empty"}).data
    assert {
        k: card[k] for k in ("description", "datasetIds", "code", "params", "usedColumns", "filterColumns")
    } == {
        "description": "",
        "datasetIds": [],
        "code": "",
        "params": {},
        "usedColumns": [],
        "filterColumns": [],
    }


def test_code_of_64_kib_is_taken_and_one_byte_more_is_not(cloud: Cloud, acme: dict[str, Any]) -> None:
    line = "x = 1\t# \u00e9t\u00e9\r\n"  # tab, CR, LF and two-byte characters
    code = (line * (64 * 1024 // len(line.encode())))[: 64 * 1024]
    code = code + "y" * (64 * 1024 - len(code.encode()))
    assert len(code.encode()) == 64 * 1024
    created = acme["alice"].post("/cards", {"name": "big", "code": code})
    assert created.status == 201, created.body  # a body well over the API's default 16 KiB
    assert acme["alice"].get(f"/cards/{created.data['cardId']}").data["code"] == code
    over = acme["alice"].post("/cards", {"name": "bigger", "code": code + "z"})
    assert (over.status, over.error["details"][0]["field"]) == (422, "code")
    escaped = acme["alice"].post("/cards", raw=json.dumps({"name": "escaped", "code": "\u00e9" * 30000}))
    assert escaped.status == 201  # 180 KB of \u escapes for 60 KB of code
    huge = acme["alice"].post("/cards", {"name": "huge", "code": "x" * (1024 * 1024 + 1)})
    assert huge.status == 413
    assert len([sk for sk in card_items(cloud, acme["tenant"]["tenantId"]) if sk.startswith("CARD#")]) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CARD, "code": "a\x00b"}, "code"),
        ({**CARD, "code": "bell\x07"}, "code"),
        ({**CARD, "code": "del\x7f"}, "code"),
        ({**CARD, "params": {"blob": "x" * (8 * 1024)}}, "params"),
        ({**CARD, "params": [1, 2]}, "params"),
        ({**CARD, "params": "text"}, "params"),
        ({**CARD, "datasetIds": [f"ds-{i}" for i in range(11)]}, "datasetIds"),
        ({**CARD, "datasetIds": ["ds-a", "ds-a"]}, "datasetIds"),
        ({**CARD, "datasetIds": ["bad#id"]}, "datasetIds.0"),
        ({**CARD, "datasetIds": [""]}, "datasetIds.0"),
        ({**CARD, "usedColumns": [f"c{i}" for i in range(101)]}, "usedColumns"),
        ({**CARD, "usedColumns": ["a", "a"]}, "usedColumns"),
        ({**CARD, "filterColumns": [" padded"]}, "filterColumns.0"),
        ({**CARD, "filterColumns": ["x" * 129]}, "filterColumns.0"),
        ({**CARD, "usedColumns": ["tab\there"]}, "usedColumns.0"),
        ({**CARD, "name": ""}, "name"),
        ({**CARD, "ownerId": "someone"}, "ownerId"),
        ({**CARD, "dashboardCount": 3}, "dashboardCount"),
        ({"description": "no name"}, "name"),
    ],
)
def test_invalid_cards_are_422_and_write_nothing(
    cloud: Cloud, acme: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    refused = acme["alice"].post("/cards", body)
    assert (refused.status, refused.error["code"]) == (422, "VALIDATION_ERROR"), refused.body
    assert field in [detail["field"] for detail in refused.error["details"]]
    assert card_items(cloud, acme["tenant"]["tenantId"]) == []


def test_params_of_exactly_8_kib_are_taken(acme: dict[str, Any]) -> None:
    params = {"blob": "x" * (8 * 1024 - len('{"blob":""}'))}
    created = acme["alice"].post("/cards", {"name": "p", "params": params})
    assert created.status == 201, created.body
    assert created.data["params"] == params


def test_a_card_that_does_not_exist_is_404_on_every_route(acme: dict[str, Any]) -> None:
    admin = acme["admin"]
    for method, body in (("GET", None), ("PATCH", {"name": "x", "version": 1}), ("DELETE", None)):
        answer = admin.request(method, f"/cards/{NEVER}", body)
        assert (answer.status, answer.error["code"]) == (404, "NOT_FOUND"), method
        assert answer.error["message"] == f"card {NEVER} not found"
    assert admin.get("/cards/bad%23id").status == 422


# --- update ----------------------------------------------------------------------------------------


def test_update_with_optimistic_locking_and_audit(cloud: Cloud, acme: dict[str, Any]) -> None:
    tenant_id = acme["tenant"]["tenantId"]
    alice = acme["alice"]
    card = alice.post("/cards", CARD).data
    url = f"/cards/{card['cardId']}"
    changed = alice.patch(url, {"name": "Renamed", "params": {"top": 5}, "code": "x", "version": 1})
    assert changed.status == 200, changed.body
    assert (changed.data["name"], changed.data["params"], changed.data["code"], changed.data["version"]) == (
        "Renamed",
        {"top": 5},
        "x",
        2,
    )
    assert changed.data["description"] == CARD["description"]  # what was left out is kept
    assert changed.data["createdAt"] == card["createdAt"] < changed.data["updatedAt"]
    assert alice.get(url).data == changed.data
    stale = alice.patch(url, {"name": "lost", "version": 1})
    assert (stale.status, stale.error["code"]) == (409, "VERSION_CONFLICT")
    assert stale.error["details"] == {"currentVersion": 2, "expectedVersion": 1}
    nothing = alice.patch(url, {"version": 2})
    assert (nothing.status, nothing.error["code"]) == (400, "BAD_REQUEST")
    null = alice.patch(url, {"name": None, "version": 2})
    assert (null.status, null.error["details"][0]["field"]) == (422, "name")
    assert alice.patch(url, {"code": "\x00", "version": 2}).status == 422
    assert alice.patch(url, {"cardId": "other", "version": 2}).status == 422
    assert alice.patch(url, {"name": "no version"}).status == 422
    assert alice.get(url).data == changed.data
    assert audit_of(cloud, tenant_id, card["cardId"]) == ["card.create", "card.update"]


def test_changing_dataset_ids_swaps_their_index_items(cloud: Cloud, acme: dict[str, Any]) -> None:
    tenant_id = acme["tenant"]["tenantId"]
    card = acme["alice"].post("/cards", CARD).data
    card_id = card["cardId"]
    changed = acme["alice"].patch(f"/cards/{card_id}", {"datasetIds": ["ds-sales", "ds-new"], "version": 1})
    assert changed.data["datasetIds"] == ["ds-sales", "ds-new"]
    datasets = sorted(sk for sk in card_items(cloud, tenant_id) if sk.startswith("CARDDATASET#"))
    assert datasets == [f"CARDDATASET#ds-new#{card_id}", f"CARDDATASET#ds-sales#{card_id}"]
    assert acme["alice"].get("/cards?datasetId=ds-regions").data == []
    assert [c["cardId"] for c in acme["alice"].get("/cards?datasetId=ds-new").data] == [card_id]
    acme["alice"].patch(f"/cards/{card_id}", {"datasetIds": [], "version": 2})
    assert [sk for sk in card_items(cloud, tenant_id) if sk.startswith("CARDDATASET#")] == []


def test_ownership_moves_the_owner_index_and_an_unknown_owner_is_422(
    cloud: Cloud, acme: dict[str, Any]
) -> None:
    tenant_id = acme["tenant"]["tenantId"]
    alice, bob = acme["alice"], acme["bob"]
    card = alice.post("/cards", CARD).data
    url = f"/cards/{card['cardId']}"
    unknown = alice.patch(url, {"ownerId": NEVER, "version": 1})
    assert (unknown.status, unknown.error["code"]) == (422, "VALIDATION_ERROR")
    assert unknown.error["details"] == [{"field": "ownerId", "message": "no such user in this tenant"}]
    assert alice.get(url).data == card  # nothing changed
    given = alice.patch(url, {"ownerId": acme["ids"]["bob"], "version": 1})
    assert (given.status, given.data["ownerId"], given.data["version"]) == (200, acme["ids"]["bob"], 2)
    owners = [sk for sk in card_items(cloud, tenant_id) if sk.startswith("CARDOWNER#")]
    assert owners == [f"CARDOWNER#{acme['ids']['bob']}#{card['createdAt']}#{card['cardId']}"]
    stored = items(cloud, tenant_id, "CARDDATASET#")
    assert {item["ownerId"] for item in stored.values()} == {acme["ids"]["bob"]}
    assert [c["cardId"] for c in bob.get("/cards").data] == [card["cardId"]]
    assert alice.get("/cards").data == []
    assert alice.get(url).status == 404  # no longer hers
    assert [c["cardId"] for c in bob.get("/cards?datasetId=ds-sales").data] == [card["cardId"]]
    assert alice.get("/cards?datasetId=ds-sales").data == []


# --- who may read and change -----------------------------------------------------------------------


def test_members_reach_only_their_own_cards_and_admins_reach_all(cloud: Cloud, acme: dict[str, Any]) -> None:
    tenant_id = acme["tenant"]["tenantId"]
    alice, bob, admin = acme["alice"], acme["bob"], acme["admin"]
    card = alice.post("/cards", CARD).data
    url = f"/cards/{card['cardId']}"
    before = items(cloud, tenant_id, "CARD")
    for answer in (bob.get(url), bob.patch(url, {"name": "mine", "version": 1}), bob.delete(url)):
        assert (answer.status, answer.error["message"]) == (404, f"card {card['cardId']} not found")
    assert items(cloud, tenant_id, "CARD") == before
    assert bob.get("/cards").data == []
    forbidden = bob.get(f"/cards?ownerId={acme['ids']['alice']}")
    assert (forbidden.status, forbidden.error["code"]) == (403, "FORBIDDEN")
    assert alice.get(f"/cards?ownerId={acme['ids']['alice']}").status == 200  # her own: fine
    assert admin.get(url).data == card
    listed = admin.get(f"/cards?ownerId={acme['ids']['alice']}")
    assert [c["cardId"] for c in listed.data] == [card["cardId"]]
    assert admin.get("/cards").data == []  # the admin's own
    changed = admin.patch(url, {"description": "by the admin", "version": 1})
    assert (changed.status, changed.data["ownerId"]) == (200, acme["ids"]["alice"])
    assert admin.delete(url).status == 204
    assert alice.get(url).status == 404
    assert card_items(cloud, tenant_id) == []


def test_a_reader_of_a_dashboard_holding_the_card_reads_it_there_only(
    cloud: Cloud, acme: dict[str, Any]
) -> None:
    admin_id, bob_id = acme["adminId"], acme["ids"]["bob"]
    store = acme["store"]
    alice, bob = acme["alice"], acme["bob"]
    card = alice.post("/cards", CARD).data
    card_id = card["cardId"]
    seed_dashboard(store, "dash-1", "Sales", admin_id, [card_id])
    seed_dashboard(store, "dash-2", "Other", admin_id, [])
    url = f"/cards/{card_id}"
    # bob cannot read dash-1 yet: the card is 404 through it, as through nothing
    assert bob.get(f"{url}?dashboardId=dash-1").status == 404
    share(store, "dash-1", admin_id, bob_id)
    share(store, "dash-2", admin_id, bob_id)
    through = bob.get(f"{url}?dashboardId=dash-1")
    assert through.status == 200, through.body
    assert (through.data["cardId"], through.data["dashboardCount"]) == (card_id, 1)
    assert bob.get(url).status == 404  # without the dashboard context
    assert bob.get(f"{url}?dashboardId=dash-2").status == 404  # a dashboard that does not hold it
    assert bob.get(f"{url}?dashboardId={NEVER}").status == 404
    assert bob.get(f"{url}?dashboardId=bad%23id").status == 422
    # readable, not writable: 403, and nothing changes
    patched = bob.patch(f"{url}?dashboardId=dash-1", {"name": "mine", "version": 1})
    assert (patched.status, patched.error["code"]) == (403, "FORBIDDEN")
    assert bob.delete(f"{url}?dashboardId=dash-1").status == 403
    assert alice.get(url).data["version"] == 1
    # the dashboard's use of the card ends: the context no longer reads it
    unseed_card_use(store, "dash-1", card_id)
    assert bob.get(f"{url}?dashboardId=dash-1").status == 404
    # the owner and admins need no context, and a context does not hurt them
    assert alice.get(f"{url}?dashboardId=dash-2").status == 200
    assert acme["admin"].get(f"{url}?dashboardId={NEVER}").status == 200


def test_a_used_card_is_not_deleted_and_the_refusal_names_the_dashboards(
    cloud: Cloud, acme: dict[str, Any]
) -> None:
    tenant_id = acme["tenant"]["tenantId"]
    store, alice = acme["store"], acme["alice"]
    card = alice.post("/cards", CARD).data
    card_id = card["cardId"]
    url = f"/cards/{card_id}"
    seed_dashboard(store, "dash-b", "Board B", acme["adminId"], [card_id])
    seed_dashboard(store, "dash-a", "Board A", acme["ids"]["alice"], [card_id])
    assert alice.get(url).data["dashboardCount"] == 2
    assert alice.get(url).data["version"] == 1  # the count never touches the version
    before = card_items(cloud, tenant_id)
    refused = alice.delete(url)
    assert (refused.status, refused.error["code"]) == (409, "CARD_IN_USE")
    assert refused.error["details"] == {
        "dashboardCount": 2,
        "dashboards": [
            {"dashboardId": "dash-a", "name": "Board A"},
            {"dashboardId": "dash-b", "name": "Board B"},
        ],
        "truncated": False,
    }
    assert card_items(cloud, tenant_id) == before
    assert audit_of(cloud, tenant_id, card_id) == ["card.create"]
    assert alice.patch(url, {"name": "still editable", "version": 1}).status == 200
    unseed_card_use(store, "dash-a", card_id)
    assert [d["dashboardId"] for d in alice.delete(url).error["details"]["dashboards"]] == ["dash-b"]
    unseed_card_use(store, "dash-b", card_id)
    assert alice.delete(url).status == 204
    assert card_items(cloud, tenant_id) == []
    assert audit_of(cloud, tenant_id, card_id) == ["card.create", "card.update", "card.delete"]
    assert alice.delete(url).status == 404
    assert alice.get(url).status == 404


def test_delete_removes_the_card_and_every_index_item(cloud: Cloud, acme: dict[str, Any]) -> None:
    tenant_id = acme["tenant"]["tenantId"]
    keep = acme["alice"].post("/cards", {**CARD, "name": "kept"}).data
    gone = acme["alice"].post("/cards", CARD).data
    acme["alice"].patch(f"/cards/{gone['cardId']}", {"datasetIds": ["ds-x"], "version": 1})
    assert acme["alice"].delete(f"/cards/{gone['cardId']}").status == 204
    assert card_items(cloud, tenant_id) == sorted(
        [
            f"CARD#{keep['cardId']}",
            f"CARDOWNER#{acme['ids']['alice']}#{keep['createdAt']}#{keep['cardId']}",
            f"CARDDATASET#ds-sales#{keep['cardId']}",
            f"CARDDATASET#ds-regions#{keep['cardId']}",
        ]
    )


# --- listings --------------------------------------------------------------------------------------


def test_my_cards_newest_first_in_pages(acme: dict[str, Any]) -> None:
    alice = acme["alice"]
    made = [alice.post("/cards", {"name": f"card {i}"}).data["cardId"] for i in range(5)]
    acme["bob"].post("/cards", {"name": "bob's"})
    listed = alice.get("/cards")
    assert [c["cardId"] for c in listed.data] == made[::-1]
    assert listed.body["pagination"] == {"limit": 20, "next_cursor": None, "has_next": False}
    assert listed.data[0]["params"] == {}
    assert "paramsJson" not in listed.data[0]
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        page = alice.get("/cards?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status == 200, page.body
        seen += [c["cardId"] for c in page.data]
        cursor = page.body["pagination"]["next_cursor"]
        assert page.body["pagination"]["has_next"] is (cursor is not None)
    assert seen == made[::-1]
    assert cursor is None
    assert alice.get("/cards?cursor=not-a-cursor").status == 400
    first = alice.get("/cards?limit=1").body["pagination"]["next_cursor"]
    other = acme["bob"].get(f"/cards?limit=1&cursor={first}")
    assert (other.status, other.error["code"]) == (400, "BAD_REQUEST")  # bound to alice's listing
    assert alice.get("/cards?limit=0").status == 422
    assert alice.get("/cards?limit=101").status == 422
    assert alice.get("/cards?ownerId=bad%23id").status == 422


def test_cards_by_dataset_all_for_admins_own_for_members(acme: dict[str, Any]) -> None:
    alice, bob, admin = acme["alice"], acme["bob"], acme["admin"]
    mine = []
    others = []
    for i in range(4):
        others.append(bob.post("/cards", {"name": f"b{i}", "datasetIds": ["ds-1"]}).data["cardId"])
        mine.append(alice.post("/cards", {"name": f"a{i}", "datasetIds": ["ds-1", "ds-2"]}).data["cardId"])
    alice.post("/cards", {"name": "elsewhere", "datasetIds": ["ds-2"]})
    every = admin.get("/cards?datasetId=ds-1&limit=100")
    assert [c["cardId"] for c in every.data] == sorted(mine + others)  # card id order
    assert [c["cardId"] for c in alice.get("/cards?datasetId=ds-1").data] == sorted(mine)
    assert [c["cardId"] for c in bob.get("/cards?datasetId=ds-1").data] == sorted(others)
    by_alice = admin.get(f"/cards?datasetId=ds-1&ownerId={acme['ids']['alice']}")
    assert [c["cardId"] for c in by_alice.data] == sorted(mine)
    assert bob.get(f"/cards?datasetId=ds-1&ownerId={acme['ids']['alice']}").status == 403
    # a member's pages are full pages of their own cards, however many others' lie between
    seen: list[str] = []
    cursor = None
    while True:
        page = alice.get("/cards?datasetId=ds-1&limit=3" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status == 200, page.body
        assert len(page.data) == (3 if not seen else 1)
        seen += [c["cardId"] for c in page.data]
        cursor = page.body["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(mine)
    # and an admin's the same over all of them
    pages = []
    cursor = None
    while True:
        page = admin.get("/cards?datasetId=ds-1&limit=5" + (f"&cursor={cursor}" if cursor else ""))
        pages.append([c["cardId"] for c in page.data])
        cursor = page.body["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [5, 3]
    assert [card for p in pages for card in p] == sorted(mine + others)
    assert (
        admin.get(
            f"/cards?datasetId=ds-1&cursor={alice.get('/cards?limit=1').body['pagination']['next_cursor']}"
        ).status
        == 400
    )
    assert admin.get("/cards?datasetId=nothing-uses-it").data == []


# --- another tenant --------------------------------------------------------------------------------


def test_another_tenants_cards_are_404_and_never_listed(
    cloud: Cloud, app: ApiClient, onboard: Any, acme: dict[str, Any]
) -> None:
    card = acme["alice"].post("/cards", CARD).data
    onboard("globex", "ENTERPRISE")
    other = admin_of(cloud, app, "globex")
    url = f"/cards/{card['cardId']}"
    for answer in (other.get(url), other.patch(url, {"name": "x", "version": 1}), other.delete(url)):
        assert (answer.status, answer.error["message"]) == (404, f"card {card['cardId']} not found")
    assert other.get(f"{url}?dashboardId=dash-1").status == 404
    assert other.get("/cards?datasetId=ds-sales").data == []
    assert other.get(f"/cards?ownerId={acme['ids']['alice']}").data == []
    assert acme["alice"].get(url).data == card


# --- with the dashboards and shares routes ---------------------------------------------------------


def test_through_the_dashboards_routes_a_placed_card_is_read_there_and_not_deleted(
    cloud: Cloud, acme: dict[str, Any]
) -> None:
    tenant_id = acme["tenant"]["tenantId"]
    alice, bob = acme["alice"], acme["bob"]
    card = alice.post("/cards", CARD).data
    url = f"/cards/{card['cardId']}"
    placed = {"items": [{"cardId": card["cardId"], "x": 0, "y": 0, "w": 4, "h": 3}]}
    made = alice.post("/dashboards", {"name": "Quarter", "layout": placed})
    assert made.status == 201, made.body
    dashboard = made.data
    assert alice.get(url).data["dashboardCount"] == 1
    assert alice.get(url).data["version"] == 1
    shared = alice.post(
        f"/dashboards/{dashboard['dashboardId']}/shares",
        {"targetType": "user", "targetId": acme["ids"]["bob"], "permission": "viewer"},
    )
    assert shared.status == 201, shared.body
    assert bob.get(f"{url}?dashboardId={dashboard['dashboardId']}").data["cardId"] == card["cardId"]
    assert bob.get(url).status == 404
    refused = alice.delete(url)
    assert (refused.status, refused.error["code"]) == (409, "CARD_IN_USE")
    assert refused.error["details"]["dashboards"] == [
        {"dashboardId": dashboard["dashboardId"], "name": "Quarter"}
    ]
    emptied = alice.patch(
        f"/dashboards/{dashboard['dashboardId']}", {"layout": {"items": []}, "version": dashboard["version"]}
    )
    assert emptied.status == 200, emptied.body
    assert bob.get(f"{url}?dashboardId={dashboard['dashboardId']}").status == 404  # no longer on it
    assert alice.get(url).data["dashboardCount"] == 0
    assert alice.delete(url).status == 204
    assert card_items(cloud, tenant_id) == []
