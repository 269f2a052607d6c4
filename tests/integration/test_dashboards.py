"""Dashboards through the app API (in-process, behind the real authorizer with real tokens, on moto):
every route and status, the items each change writes (DASHBOARD#, DASHOWNER#, CARDUSE# and the
card's dashboardCount, VIEW#) with its audit item, permissions as the sharing model resolves them,
newest-first listing, clone, ownership transfer, and delete with its sweeps (an interrupted one
finished by a retry); another tenant's ids are 404."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from tenancy.application.dashboards.service import MAX_CARD_CHANGES
from tenancy.application.sharing import graph
from tenancy.application.sharing.permissions import Permission, TargetType
from tenancy.application.store import keys
from tenancy.application.store.engine import Actor, TenantStore
from tenancy.application.store.transaction import Transaction
from tests.helpers.api import ApiClient, ApiResponse
from tests.helpers.cloud import Cloud
from tests.integration.conftest import admin_of, token_for

NOW = "2026-12-03T10:00:00.000Z"


@dataclass
class Workspace:
    """A tenant with its admin and members alice, bob and carol, and a card of each (`a1`..`a3`
    alice's, `b1` bob's, `x1` the admin's), written straight into its partition."""

    cloud: Cloud
    tenant: dict[str, Any]
    store: TenantStore
    ids: dict[str, str] = field(default_factory=dict)
    clients: dict[str, ApiClient] = field(default_factory=dict)

    def __getattr__(self, name: str) -> ApiClient:
        clients = self.__dict__.get("clients", {})
        if name in clients:
            return clients[name]  # type: ignore[no-any-return]
        raise AttributeError(name)

    @property
    def table(self) -> str:
        return str(self.tenant["resources"].get("dedicatedTable") or self.cloud.settings.app_table_name)

    def items(self, prefix: str = "") -> dict[str, dict[str, Any]]:
        """The tenant's items whose sort key begins with `prefix` (raw DynamoDB values), by key."""
        values = {":pk": {"S": f"TENANT#{self.tenant['tenantId']}"}}
        condition = "PK = :pk"
        if prefix:
            values[":prefix"] = {"S": prefix}
            condition += " AND begins_with(SK, :prefix)"
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        found: dict[str, dict[str, Any]] = {}
        while True:
            page = boto3.client("dynamodb").query(**query)
            found.update({item["SK"]["S"]: item for item in page["Items"]})
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def audit(self) -> list[tuple[str, str]]:
        return [(i["action"]["S"], i["resource"]["S"]) for i in self.items("AUDIT#").values()]

    def card_count(self, card_id: str) -> int:
        card = self.items(keys.item_sk(keys.CARD, card_id))[keys.item_sk(keys.CARD, card_id)]
        return int(card.get("dashboardCount", {"N": "0"})["N"])

    def seed_cards(self, owner: str, *card_ids: str) -> None:
        tx = Transaction()
        for card_id in card_ids:
            card = {"cardId": card_id, "ownerId": self.ids[owner], "name": f"card {card_id}"}
            tx.put(keys.item_sk(keys.CARD, card_id), card)
        self.store.commit(tx, None)

    def share(self, dashboard_id: str, target: str, permission: Permission, group: bool = False) -> None:
        dashboard = self.store.get_item(keys.item_sk(keys.DASHBOARD, dashboard_id))
        assert dashboard is not None
        target_type = TargetType.GROUP if group else TargetType.USER
        target_id = target if group else self.ids[target]
        tx = Transaction()
        graph.add_share_writes(
            tx, dashboard_id, dashboard["ownerId"], target_type, target_id, permission, NOW
        )
        self.store.commit(tx, None)

    def group(self, group_id: str, *members: str) -> None:
        item = {"groupId": group_id, "name": group_id, "description": "", "memberCount": 0, "version": 1}
        self.store.commit(Transaction().put(keys.item_sk(keys.GROUP, group_id), item), None)
        for member in members:
            tx = graph.add_member_writes(Transaction(), group_id, self.ids[member], NOW, "test")
            self.store.commit(tx, None)


def make_workspace(
    cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]], slug: str
) -> Workspace:
    tenant = onboard(slug, "PRO")
    admin = admin_of(cloud, app, slug)
    store = TenantStore(
        boto3.client("dynamodb"),
        str(tenant["resources"].get("dedicatedTable") or cloud.settings.app_table_name),
        tenant["tenantId"],
        Actor("seed", "seed"),
    )
    world = Workspace(cloud, tenant, store)
    world.ids["admin"], world.clients["admin"] = admin.get("/me").data["userId"], admin
    for name in ("alice", "bob", "carol"):
        email = f"{name}@{slug}.example"
        created = admin.post("/users", {"email": email, "role": "member"})
        assert created.status == 201, created.body
        world.ids[name] = created.data["userId"]
        world.clients[name] = app.as_user(token_for(cloud, email))
    world.seed_cards("alice", "a1", "a2", "a3")
    world.seed_cards("bob", "b1")
    world.seed_cards("admin", "x1")
    return world


@pytest.fixture
def acme(cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]]) -> Workspace:
    return make_workspace(cloud, app, onboard, "acme")


def placed(*card_ids: str, columns: int = 12) -> dict[str, Any]:
    """A layout of `card_ids`, one per row, each 4 wide."""
    items = [{"cardId": card_id, "x": 0, "y": 4 * i, "w": 4, "h": 4} for i, card_id in enumerate(card_ids)]
    return {"columns": columns, "rowHeight": 80, "items": items}


FILTERS: list[dict[str, Any]] = [
    {
        "filterId": "region",
        "type": "category",
        "column": "region",
        "label": "Region",
        "multiSelect": True,
        "options": ["EU", "US"],
    },
    {"filterId": "period", "type": "dateRange", "column": "day", "label": "Period"},
]


def create(client: ApiClient, name: str = "Sales", **body: Any) -> dict[str, Any]:
    created = client.post("/dashboards", {"name": name, **body})
    assert created.status == 201, created.body
    return created.data  # type: ignore[no-any-return]


def dashboard_sk(dashboard_id: str) -> str:
    return keys.item_sk(keys.DASHBOARD, dashboard_id)


def refused(response: ApiResponse, status: int, code: str, field: str | None = None) -> None:
    assert (response.status, response.error["code"]) == (status, code), response.body
    if field is not None:
        assert field in [d["field"] for d in response.error["details"]], response.error


# --- create and read -----------------------------------------------------------------------------


def test_create_writes_the_dashboard_its_owner_item_and_each_cards_use(acme: Workspace) -> None:
    made = create(acme.alice, "Sales", description="by region", layout=placed("a1", "a2"), filters=FILTERS)
    d = made["dashboardId"]
    assert made["ownerId"] == acme.ids["alice"]
    assert (made["name"], made["description"], made["version"], made["myPermission"]) == (
        "Sales",
        "by region",
        1,
        "owner",
    )
    assert made["layout"] == placed("a1", "a2")
    assert made["filters"] == FILTERS
    assert made["cardIds"] == ["a1", "a2"]
    assert "defaultFilterViewId" not in made
    assert acme.alice.get(f"/dashboards/{d}").data == made

    owner_sk = keys.dashboard_by_owner_sk(acme.ids["alice"], made["createdAt"], d)
    assert set(acme.items("DASHOWNER#")) == {owner_sk}
    assert acme.items(owner_sk)[owner_sk]["dashboardId"] == {"S": d}
    assert set(acme.items("CARDUSE#")) == {keys.card_use_sk("a1", d), keys.card_use_sk("a2", d)}
    assert (acme.card_count("a1"), acme.card_count("a2"), acme.card_count("a3")) == (1, 1, 0)
    assert acme.audit()[-1] == ("dashboard.create", dashboard_sk(d))


def test_a_dashboard_starts_with_an_empty_12_column_layout(acme: Workspace) -> None:
    made = create(acme.bob, "Empty")
    assert made["layout"] == {"columns": 12, "rowHeight": 80, "items": []}
    assert (made["filters"], made["cardIds"], made["description"]) == ([], [], "")


REFUSED_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"name": ""}, "name"),
    ({"name": "x", "extra": 1}, "extra"),
    ({"name": "x", "layout": placed("a1", columns=3)}, "layout.items"),  # x + w past the grid
    (
        {"name": "x", "layout": {"items": [{"cardId": "a1", "x": 0, "y": 0, "w": 1, "h": 1}] * 2}},
        "layout.items",
    ),
    ({"name": "x", "layout": {"columns": 0}}, "layout.columns"),
    ({"name": "x", "layout": {"columns": 49}}, "layout.columns"),
    ({"name": "x", "layout": {"columns": "12"}}, "layout.columns"),
    ({"name": "x", "layout": {"rowHeight": 9}}, "layout.rowHeight"),
    ({"name": "x", "layout": {"rowHeight": 501}}, "layout.rowHeight"),
    (
        {"name": "x", "layout": {"items": [{"cardId": "a1", "x": -1, "y": 0, "w": 1, "h": 1}]}},
        "layout.items.0.x",
    ),
    (
        {"name": "x", "layout": {"items": [{"cardId": "a1", "x": 0, "y": 0, "w": 0, "h": 1}]}},
        "layout.items.0.w",
    ),
    (
        {"name": "x", "layout": {"items": [{"cardId": "a#1", "x": 0, "y": 0, "w": 1, "h": 1}]}},
        "layout.items.0.cardId",
    ),
    ({"name": "x", "layout": placed(*(f"c{i}" for i in range(41)))}, "layout.items"),
    ({"name": "x", "filters": [{**FILTERS[1], "filterId": f"f{i}"} for i in range(21)]}, "filters"),
    ({"name": "x", "filters": [FILTERS[1], FILTERS[1]]}, "filters"),
    ({"name": "x", "filters": [{**FILTERS[1], "options": ["a"]}]}, "filters.0.dateRange.options"),
    ({"name": "x", "filters": [{**FILTERS[1], "multiSelect": False}]}, "filters.0.dateRange.multiSelect"),
    ({"name": "x", "filters": [{**FILTERS[0], "multiSelect": "yes"}]}, "filters.0.category.multiSelect"),
    ({"name": "x", "filters": [{**FILTERS[0], "options": ["EU", "EU"]}]}, "filters.0.category.options"),
    ({"name": "x", "filters": [{**FILTERS[0], "type": "slider"}]}, "filters.0"),
]


def test_a_body_that_does_not_fit_is_422_and_writes_nothing(acme: Workspace) -> None:
    for body, named in REFUSED_BODIES:
        response = acme.alice.post("/dashboards", body)
        refused(response, 422, "VALIDATION_ERROR", named)
    assert acme.items("DASHBOARD#") == {}


def test_a_layout_places_only_cards_the_caller_may_read(acme: Workspace) -> None:
    # bob's card, a card that does not exist: named by their positions, nothing written
    response = acme.alice.post("/dashboards", {"name": "x", "layout": placed("a1", "b1", "nope")})
    refused(response, 422, "VALIDATION_ERROR")
    assert [d["field"] for d in response.error["details"]] == [
        "layout.items.1.cardId",
        "layout.items.2.cardId",
    ]
    assert acme.items("DASHBOARD#") == {}
    assert acme.items("CARDUSE#") == {}
    assert acme.card_count("a1") == 0
    # a tenant admin may place anyone's card
    made = create(acme.admin, "Admin's", layout=placed("a1", "b1", "x1"))
    assert made["cardIds"] == ["a1", "b1", "x1"]
    assert (acme.card_count("a1"), acme.card_count("b1"), acme.card_count("x1")) == (1, 1, 1)


def test_a_layout_of_forty_cards_is_one_transaction(acme: Workspace) -> None:
    cards = [f"m{i:02}" for i in range(40)]
    acme.seed_cards("alice", *cards)
    made = create(acme.alice, "Full", layout=placed(*cards))
    assert len(made["cardIds"]) == 40
    assert len([sk for sk in acme.items("CARDUSE#") if sk.endswith(made["dashboardId"])]) == 40
    assert {acme.card_count(card) for card in cards} == {1}


# --- listing -------------------------------------------------------------------------------------


def test_the_callers_dashboards_newest_first_in_pages(acme: Workspace) -> None:
    made = [create(acme.alice, f"d{i}", layout=placed("a1"), filters=FILTERS) for i in range(3)]
    create(acme.bob, "bob's")
    first = acme.alice.get("/dashboards?limit=2")
    assert first.status == 200
    assert [d["name"] for d in first.data] == ["d2", "d1"]
    assert first.body["pagination"]["has_next"] is True
    summary = first.data[0]
    assert "layout" not in summary
    assert "filters" not in summary
    assert (summary["myPermission"], summary["ownerId"], summary["cardIds"]) == (
        "owner",
        acme.ids["alice"],
        ["a1"],
    )
    assert summary["dashboardId"] == made[2]["dashboardId"]
    cursor = first.body["pagination"]["next_cursor"]
    second = acme.alice.get(f"/dashboards?limit=2&cursor={cursor}")
    assert [d["name"] for d in second.data] == ["d0"]
    assert second.body["pagination"] == {"limit": 2, "next_cursor": None, "has_next": False}
    assert [d["name"] for d in acme.bob.get("/dashboards").data] == ["bob's"]
    assert acme.carol.get("/dashboards").data == []
    # the cursor is bound to its owner's listing
    refused(acme.admin.get(f"/dashboards?ownerId={acme.ids['bob']}&cursor={cursor}"), 400, "BAD_REQUEST")


def test_another_users_dashboards_are_listed_for_admins_only(acme: Workspace) -> None:
    made = [create(acme.alice, f"d{i}") for i in range(2)]
    acme.share(made[0]["dashboardId"], "admin", Permission.EDITOR)
    refused(acme.bob.get(f"/dashboards?ownerId={acme.ids['alice']}"), 403, "FORBIDDEN")
    assert [d["name"] for d in acme.alice.get(f"/dashboards?ownerId={acme.ids['alice']}").data] == [
        "d1",
        "d0",
    ]
    listed = acme.admin.get(f"/dashboards?ownerId={acme.ids['alice']}")
    assert [(d["name"], d["myPermission"]) for d in listed.data] == [("d1", "viewer"), ("d0", "editor")]
    assert acme.admin.get("/dashboards?ownerId=nobody").data == []
    refused(acme.admin.get("/dashboards?ownerId=a%23b"), 422, "VALIDATION_ERROR", "ownerId")
    refused(acme.admin.get("/dashboards?limit=0"), 422, "VALIDATION_ERROR", "limit")


# --- permissions ---------------------------------------------------------------------------------


def test_what_each_permission_may_do(acme: Workspace) -> None:
    d = create(acme.alice, "Sales", layout=placed("a1"))["dashboardId"]
    url = f"/dashboards/{d}"
    # no permission: exactly like a dashboard that does not exist
    for method, path, body in (
        ("GET", url, None),
        ("PATCH", url, {"name": "x", "version": 1}),
        ("DELETE", url, None),
        ("POST", f"{url}/clone", {}),
        ("GET", f"{url}/filter-views", None),
    ):
        mine, never = (
            acme.bob.request(method, path, body),
            acme.bob.request(method, path.replace(d, "nope"), body),
        )
        assert (mine.status, mine.error["code"]) == (never.status, never.error["code"]) == (404, "NOT_FOUND")
        assert mine.error["message"].replace(d, "<id>") == never.error["message"].replace("nope", "<id>")

    acme.share(d, "bob", Permission.VIEWER)
    assert acme.bob.get(url).data["myPermission"] == "viewer"
    refused(acme.bob.patch(url, {"name": "x", "version": 1}), 403, "FORBIDDEN")
    refused(acme.bob.delete(url), 403, "FORBIDDEN")

    acme.group("editors", "carol")
    acme.share(d, "editors", Permission.EDITOR, group=True)
    assert acme.carol.get(url).data["myPermission"] == "editor"
    renamed = acme.carol.patch(url, {"name": "Sales 2", "filters": FILTERS, "version": 1})
    assert (renamed.status, renamed.data["name"], renamed.data["myPermission"]) == (200, "Sales 2", "editor")
    refused(acme.carol.patch(url, {"ownerId": acme.ids["carol"], "version": 2}), 403, "FORBIDDEN")
    refused(acme.carol.delete(url), 403, "FORBIDDEN")

    # a tenant admin sees every dashboard of the tenant (a viewer, unless a share gives more)
    assert acme.admin.get(url).data["myPermission"] == "viewer"
    refused(acme.admin.patch(url, {"name": "x", "version": 2}), 403, "FORBIDDEN")
    assert acme.alice.get(url).data["version"] == 2


# --- update --------------------------------------------------------------------------------------


def test_update_with_optimistic_locking(acme: Workspace) -> None:
    made = create(acme.alice, "Sales", layout=placed("a1"))
    url = f"/dashboards/{made['dashboardId']}"
    changed = acme.alice.patch(url, {"name": "Revenue", "description": "monthly", "version": 1})
    assert changed.status == 200
    assert (changed.data["name"], changed.data["description"], changed.data["version"]) == (
        "Revenue",
        "monthly",
        2,
    )
    assert changed.data["updatedAt"] >= made["updatedAt"]
    assert changed.data["myPermission"] == "owner"
    assert acme.alice.get(url).data == changed.data
    assert acme.audit()[-1] == ("dashboard.update", dashboard_sk(made["dashboardId"]))

    stale = acme.alice.patch(url, {"name": "lost", "version": 1})
    refused(stale, 409, "VERSION_CONFLICT")
    assert stale.error["details"] == {"currentVersion": 2, "expectedVersion": 1}
    refused(acme.alice.patch(url, {"version": 2}), 400, "BAD_REQUEST")
    refused(acme.alice.patch(url, {"name": None, "version": 2}), 422, "VALIDATION_ERROR", "name")
    refused(acme.alice.patch(url, {"layout": None, "version": 2}), 422, "VALIDATION_ERROR", "layout")
    refused(acme.alice.patch(url, {"name": "x", "version": "2"}), 422, "VALIDATION_ERROR", "version")
    refused(acme.alice.patch(url, {"name": "x", "version": 2, "cardIds": []}), 422, "VALIDATION_ERROR")
    refused(acme.alice.patch("/dashboards/nope", {"name": "x", "version": 1}), 404, "NOT_FOUND")

    # a body that changes nothing writes nothing (and still says a stale version is stale)
    audited = len(acme.audit())
    same = acme.alice.patch(url, {"name": "Revenue", "defaultFilterViewId": None, "version": 2})
    assert (same.status, same.data["version"]) == (200, 2)
    assert len(acme.audit()) == audited
    refused(acme.alice.patch(url, {"name": "Revenue", "version": 1}), 409, "VERSION_CONFLICT")

    # racing updates of one version: exactly one wins
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(
            pool.map(lambda i: acme.alice.patch(url, {"name": f"n{i}", "version": 2}).status, range(6))
        )
    assert statuses == [200] + [409] * 5
    assert acme.alice.get(url).data["version"] == 3


def test_a_layout_change_counts_the_cards_it_adds_and_drops(acme: Workspace) -> None:
    made = create(acme.alice, "Sales", layout=placed("a1", "a2"))
    d, url = made["dashboardId"], f"/dashboards/{made['dashboardId']}"
    moved = acme.alice.patch(url, {"layout": placed("a2", "a3", columns=8), "version": 1})
    assert moved.status == 200, moved.body
    assert (moved.data["cardIds"], moved.data["layout"]["columns"]) == (["a2", "a3"], 8)
    assert set(acme.items("CARDUSE#")) == {keys.card_use_sk("a2", d), keys.card_use_sk("a3", d)}
    assert (acme.card_count("a1"), acme.card_count("a2"), acme.card_count("a3")) == (0, 1, 1)
    # an editor keeps cards already on it whoever owns them, and may add only cards of their own
    acme.share(d, "bob", Permission.EDITOR)
    refused(
        acme.bob.patch(url, {"layout": placed("a2", "a3", "a1"), "version": 2}),
        422,
        "VALIDATION_ERROR",
        "layout.items.2.cardId",
    )
    assert acme.card_count("a1") == 0
    added = acme.bob.patch(url, {"layout": placed("b1", "a2", "a3"), "version": 2})
    assert (added.status, added.data["cardIds"]) == (200, ["b1", "a2", "a3"])
    assert acme.card_count("b1") == 1
    cleared = acme.bob.patch(url, {"layout": {"items": []}, "version": 3})
    assert cleared.data["cardIds"] == []
    assert acme.items("CARDUSE#") == {}
    assert {acme.card_count(c) for c in ("a1", "a2", "a3", "b1")} == {0}


def test_a_layout_change_fits_one_transaction(acme: Workspace) -> None:
    """At most MAX_CARD_CHANGES cards added and removed at once (2 items each): more is a 422."""
    old = [f"o{i:02}" for i in range(40)]
    new = [f"n{i:02}" for i in range(40)]
    acme.seed_cards("alice", *old)
    acme.seed_cards("alice", *new)
    made = create(acme.alice, "Big", layout=placed(*old))
    url = f"/dashboards/{made['dashboardId']}"
    swap = MAX_CARD_CHANGES // 2  # this many out, as many in
    half = placed(*new[:swap], *old[swap:])
    too_many = placed(*new[: swap + 1], *old[swap + 1 :])
    refused(
        acme.alice.patch(url, {"layout": too_many, "version": 1}), 422, "VALIDATION_ERROR", "layout.items"
    )
    changed = acme.alice.patch(url, {"layout": half, "version": 1})
    assert changed.status == 200, changed.body
    assert {acme.card_count(c) for c in new[:swap] + old[swap:]} == {1}
    assert {acme.card_count(c) for c in old[:swap]} == {0}


def test_filters_and_the_default_view(acme: Workspace) -> None:
    made = create(acme.alice, "Sales", filters=FILTERS)
    d, url = made["dashboardId"], f"/dashboards/{made['dashboardId']}"
    other = create(acme.alice, "Other")["dashboardId"]
    view = acme.alice.post(f"{url}/filter-views", {"name": "EU", "values": {"region": ["EU"]}}).data
    foreign = acme.alice.post(f"/dashboards/{other}/filter-views", {"name": "x"}).data
    for missing in ("nope", foreign["viewId"]):
        refused(
            acme.alice.patch(url, {"defaultFilterViewId": missing, "version": 1}),
            422,
            "VALIDATION_ERROR",
            "defaultFilterViewId",
        )
    chosen = acme.alice.patch(url, {"defaultFilterViewId": view["viewId"], "version": 1})
    assert (chosen.status, chosen.data["defaultFilterViewId"], chosen.data["version"]) == (
        200,
        view["viewId"],
        2,
    )
    cleared = acme.alice.patch(url, {"defaultFilterViewId": None, "version": 2})
    assert "defaultFilterViewId" not in cleared.data
    assert "defaultFilterViewId" not in acme.store.get_item(dashboard_sk(d))  # type: ignore[operator]
    narrowed = acme.alice.patch(url, {"filters": FILTERS[1:], "version": 3})
    assert narrowed.data["filters"] == FILTERS[1:]


# --- ownership -----------------------------------------------------------------------------------


def test_the_owner_hands_a_dashboard_to_another_user(acme: Workspace) -> None:
    made = create(acme.alice, "Sales", layout=placed("a1"))
    d, url = made["dashboardId"], f"/dashboards/{made['dashboardId']}"
    acme.share(d, "bob", Permission.EDITOR)
    acme.share(d, "carol", Permission.VIEWER)
    refused(acme.bob.patch(url, {"ownerId": acme.ids["bob"], "version": 1}), 403, "FORBIDDEN")
    refused(acme.alice.patch(url, {"ownerId": "nobody", "version": 1}), 422, "VALIDATION_ERROR", "ownerId")
    assert acme.store.get_item(dashboard_sk(d))["ownerId"] == acme.ids["alice"]  # type: ignore[index]
    # to the owner themselves: nothing changes
    assert acme.alice.patch(url, {"ownerId": acme.ids["alice"], "version": 1}).data["version"] == 1

    handed = acme.alice.patch(url, {"ownerId": acme.ids["bob"], "version": 1})
    assert handed.status == 200, handed.body
    assert (handed.data["ownerId"], handed.data["version"]) == (acme.ids["bob"], 2)
    assert handed.data["myPermission"] is None  # alice holds no share of it
    assert acme.audit()[-1] == ("dashboard.transfer", dashboard_sk(d))
    assert set(acme.items("DASHOWNER#")) == {
        keys.dashboard_by_owner_sk(acme.ids["bob"], made["createdAt"], d)
    }
    # bob's own share went (an owner needs none); carol's stays
    assert set(acme.items("SHARE#")) == {keys.share_sk(d, "user", acme.ids["carol"])}
    assert set(acme.items("SHARED#")) == {keys.shared_with_sk("user", acme.ids["carol"], d)}
    assert acme.bob.get(url).data["myPermission"] == "owner"
    assert [x["dashboardId"] for x in acme.bob.get("/dashboards").data] == [d]
    assert acme.alice.get("/dashboards").data == []
    refused(acme.alice.get(url), 404, "NOT_FOUND")
    assert acme.card_count("a1") == 1  # the layout's uses are the dashboard's, whoever owns it


# --- clone ---------------------------------------------------------------------------------------


def test_a_reader_clones_a_dashboard_as_their_own(acme: Workspace) -> None:
    made = create(acme.alice, "Sales", description="d", layout=placed("a1", "a2"), filters=FILTERS)
    d, url = made["dashboardId"], f"/dashboards/{made['dashboardId']}"
    view = acme.alice.post(
        f"{url}/filter-views",
        {"name": "EU", "values": {"region": ["EU"], "period": {"from": "2026-01-01", "to": "2026-01-31"}}},
    ).data
    acme.alice.patch(url, {"defaultFilterViewId": view["viewId"], "version": 1})
    acme.share(d, "bob", Permission.VIEWER)

    cloned = acme.bob.post(f"{url}/clone")  # no body: the default name
    assert cloned.status == 201, cloned.body
    copy = cloned.data
    c = copy["dashboardId"]
    assert c != d
    assert (copy["name"], copy["description"], copy["ownerId"], copy["myPermission"], copy["version"]) == (
        "Sales (copy)",
        "d",
        acme.ids["bob"],
        "owner",
        1,
    )
    # alice's cards are not bob's to place: the clone holds copies of them, owned by bob
    copied_ids = copy["cardIds"]
    assert len(copied_ids) == 2
    assert not {"a1", "a2"} & set(copied_ids)
    for original, copy_id in zip(("a1", "a2"), copied_ids, strict=True):
        copied_card = acme.store.get_item(keys.item_sk(keys.CARD, copy_id))
        assert copied_card is not None
        assert (copied_card["ownerId"], copied_card["copiedFrom"]) == (acme.ids["bob"], original)
    renamed = [{**item, "cardId": copied_ids[i]} for i, item in enumerate(made["layout"]["items"])]
    assert (copy["layout"], copy["filters"]) == ({**made["layout"], "items": renamed}, FILTERS)
    assert (acme.card_count("a1"), acme.card_count("a2")) == (1, 1)
    assert [acme.card_count(copy_id) for copy_id in copied_ids] == [1, 1]
    assert keys.card_use_sk(copied_ids[0], c) in acme.items("CARDUSE#")
    assert keys.card_use_sk("a1", c) not in acme.items("CARDUSE#")
    assert keys.dashboard_by_owner_sk(acme.ids["bob"], copy["createdAt"], c) in acme.items("DASHOWNER#")
    assert acme.audit()[-1] == ("dashboard.clone", dashboard_sk(c))
    # the default view, copied as a view of the copy created by the caller
    default = copy["defaultFilterViewId"]
    assert default != view["viewId"]
    copied = acme.bob.get(f"/dashboards/{c}/filter-views/{default}").data
    assert (
        copied["dashboardId"],
        copied["creatorId"],
        copied["name"],
        copied["values"],
        copied["version"],
    ) == (
        c,
        acme.ids["bob"],
        "EU",
        view["values"],
        1,
    )
    assert [v["viewId"] for v in acme.bob.get(f"/dashboards/{c}/filter-views").data] == [default]
    assert acme.bob.get(f"/dashboards/{c}").data == copy

    named = acme.alice.post(f"{url}/clone", {"name": "Mine"})
    assert (named.status, named.data["name"]) == (201, "Mine")
    refused(acme.alice.post(f"{url}/clone", {"name": ""}), 422, "VALIDATION_ERROR", "name")
    refused(acme.alice.post(f"{url}/clone", {"name": None}), 422, "VALIDATION_ERROR", "name")
    refused(acme.alice.post(f"{url}/clone", {"other": 1}), 422, "VALIDATION_ERROR", "other")
    refused(acme.carol.post(f"{url}/clone", {}), 404, "NOT_FOUND")
    refused(acme.alice.post("/dashboards/nope/clone", {}), 404, "NOT_FOUND")


# --- delete --------------------------------------------------------------------------------------


def test_delete_removes_the_dashboard_then_sweeps_its_shares_and_views(acme: Workspace) -> None:
    made = create(acme.alice, "Sales", layout=placed("a1", "a2"), filters=FILTERS)
    d, url = made["dashboardId"], f"/dashboards/{made['dashboardId']}"
    keep = create(acme.alice, "Keep", layout=placed("a1"))["dashboardId"]
    acme.share(d, "bob", Permission.EDITOR)
    acme.group("team", "carol")
    acme.share(d, "team", Permission.VIEWER, group=True)
    acme.share(keep, "bob", Permission.VIEWER)
    for client in (acme.alice, acme.bob, acme.carol):
        assert client.post(f"{url}/filter-views", {"name": "v"}).status == 201
    acme.alice.post(f"/dashboards/{keep}/filter-views", {"name": "kept"})
    refused(acme.bob.delete(url), 403, "FORBIDDEN")  # an editor
    refused(acme.carol.delete(url), 403, "FORBIDDEN")  # a viewer
    refused(acme.admin.delete(url), 403, "FORBIDDEN")  # a tenant admin

    assert acme.alice.delete(url).status == 204
    assert dashboard_sk(d) not in acme.items("DASHBOARD#")
    left = acme.items()
    assert not [sk for sk in left if d in sk]  # DASHOWNER#, CARDUSE#, SHARE#, SHARED#, VIEW#: all gone
    assert (acme.card_count("a1"), acme.card_count("a2")) == (1, 0)  # `keep` still holds a1
    assert keys.share_sk(keep, "user", acme.ids["bob"]) in left
    assert len([sk for sk in left if sk.startswith(keys.filter_views_prefix(keep))]) == 1
    assert acme.audit()[-1] == ("dashboard.delete", dashboard_sk(d))
    refused(acme.alice.get(url), 404, "NOT_FOUND")
    refused(acme.alice.delete(url), 404, "NOT_FOUND")


def test_an_interrupted_delete_is_swept_by_a_retry(acme: Workspace) -> None:
    """The delete committed but its sweeps never ran (the function stopped): the next DELETE of
    the dashboard finds it gone, sweeps its shares and views, and answers 404."""
    made = create(acme.alice, "Sales", layout=placed("a1"))
    d, url = made["dashboardId"], f"/dashboards/{made['dashboardId']}"
    acme.share(d, "bob", Permission.VIEWER)
    acme.bob.post(f"{url}/filter-views", {"name": "v"})
    tx = Transaction().delete(dashboard_sk(d))
    tx.delete(keys.dashboard_by_owner_sk(acme.ids["alice"], made["createdAt"], d))
    tx.delete(keys.card_use_sk("a1", d))
    tx.update(keys.item_sk(keys.CARD, "a1"), "ADD dashboardCount :less", condition=None, values={":less": -1})
    acme.store.commit(tx, None)
    assert [sk for sk in acme.items() if d in sk]  # its share and view are left

    refused(acme.bob.delete(url), 404, "NOT_FOUND")  # whoever asks: it is gone
    assert not [sk for sk in acme.items() if d in sk]
    assert acme.card_count("a1") == 0


# --- tenants -------------------------------------------------------------------------------------


def test_another_tenants_dashboards_are_404(
    cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]], acme: Workspace
) -> None:
    made = create(acme.alice, "Sales", layout=placed("a1"))
    url = f"/dashboards/{made['dashboardId']}"
    view = acme.alice.post(f"{url}/filter-views", {"name": "v"}).data
    other = make_workspace(cloud, app, onboard, "globex")
    before = acme.items()
    for method, path, body in (
        ("GET", url, None),
        ("PATCH", url, {"name": "x", "version": 1}),
        ("DELETE", url, None),
        ("POST", f"{url}/clone", {}),
        ("GET", f"{url}/filter-views", None),
        ("POST", f"{url}/filter-views", {"name": "x"}),
        ("GET", f"{url}/filter-views/{view['viewId']}", None),
        ("PATCH", f"{url}/filter-views/{view['viewId']}", {"name": "x", "version": 1}),
        ("DELETE", f"{url}/filter-views/{view['viewId']}", None),
    ):
        refused(other.admin.request(method, path, body), 404, "NOT_FOUND")
    # a card of another tenant cannot be placed either (it is not this tenant's)
    acme.seed_cards("alice", "acme-only")
    before = acme.items()
    placing = other.admin.post("/dashboards", {"name": "x", "layout": placed("acme-only")})
    refused(placing, 422, "VALIDATION_ERROR", "layout.items.0.cardId")
    assert acme.items() == before
    assert other.admin.get("/dashboards").data == []
