"""Dashboard shares and `GET /shared-with-me` through the app API (in-process, behind the real
authorizer with real tokens, on moto): every route and status, both items of each share written and
removed with their audit items, revocation through a group at once, another tenant's ids 404, and
the DynamoDB calls of permission resolution whatever the number of groups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from localcloud.apigateway import AuthorizerCache
from tenancy.application.sharing import graph
from tenancy.application.sharing.permissions import DashboardAccess, Permission, TargetType
from tenancy.application.store.engine import TenantStore
from tenancy.application.store.transaction import Transaction
from tenancy.contracts.context import TenantContext
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.helpers.workspace_seeds import (
    add_member,
    audit_actions,
    items,
    remove_member,
    seed_dashboard,
    seed_group,
    table_of,
    tenant_store,
)
from tests.integration.conftest import admin_of, token_for
from tests.integration.test_workspace_graph import NOW, CountingClient


@dataclass
class Tenant:
    tenant: dict[str, Any]
    store: TenantStore
    admin: ApiClient
    ids: dict[str, str] = field(default_factory=dict)  # user name → userId
    clients: dict[str, ApiClient] = field(default_factory=dict)  # user name → their API client

    def user(self, name: str) -> ApiClient:
        return self.clients[name]


def make_tenant(cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]], slug: str) -> Tenant:
    """A tenant with members alice (owns d1), bob, carol and dave; group `readers` = {bob}."""
    tenant = onboard(slug, "PRO")
    admin = admin_of(cloud, app, slug)
    world = Tenant(tenant, tenant_store(cloud, tenant), admin)
    world.ids["admin"] = admin.get("/me").data["userId"]
    world.clients["admin"] = admin
    for name in ("alice", "bob", "carol", "dave"):
        email = f"{name}@{slug}.example"
        created = admin.post("/users", {"email": email, "role": "member"})
        assert created.status == 201, created.body
        world.ids[name] = created.data["userId"]
        world.clients[name] = app.as_user(token_for(cloud, email))
    seed_dashboard(world.store, "d1", world.ids["alice"], "Sales")
    seed_group(world.store, "readers", world.ids["bob"])
    return world


@pytest.fixture
def acme(cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]]) -> Tenant:
    return make_tenant(cloud, app, onboard, "acme")


def shares_url(dashboard: str = "d1", share: str | None = None) -> str:
    return f"/dashboards/{dashboard}/shares" + (f"/{share}" if share else "")


def share_items(cloud: Cloud, t: Tenant) -> list[str]:
    return sorted(sk for sk in items(cloud, t.tenant, "SHARE") if sk.startswith(("SHARE#", "SHARED#")))


def share_body(target_type: str, target_id: str, permission: str = "viewer") -> dict[str, str]:
    return {"targetType": target_type, "targetId": target_id, "permission": permission}


# --- create ------------------------------------------------------------------------------------


def test_the_owner_shares_with_a_user_and_a_group_both_items_and_the_audit_written(
    cloud: Cloud, acme: Tenant
) -> None:
    alice, bob = acme.user("alice"), acme.ids["bob"]
    created = alice.post(shares_url(), share_body("user", bob))
    assert created.status == 201, created.body
    share = created.data
    assert share == {
        "shareId": f"user:{bob}",
        "dashboardId": "d1",
        "targetType": "user",
        "targetId": bob,
        "permission": "viewer",
        "version": 1,
        "createdAt": share["createdAt"],
        "updatedAt": share["createdAt"],
    }
    group = alice.post(shares_url(), share_body("group", "readers", "editor"))
    assert (group.status, group.data["shareId"], group.data["permission"]) == (201, "group:readers", "editor")
    stored = items(cloud, acme.tenant, "SHARE")
    assert stored[f"SHARE#d1#user#{bob}"]["permission"] == {"S": "viewer"}
    assert stored[f"SHARED#user#{bob}#d1"]["shareId"] == {"S": f"user:{bob}"}
    assert stored["SHARE#d1#group#readers"]["permission"] == {"S": "editor"}
    assert stored["SHARED#group#readers#d1"]["permission"] == {"S": "editor"}
    assert [a for a in audit_actions(cloud, acme.tenant) if a[0].startswith("share.")] == [
        ("share.create", f"SHARE#d1#user#{bob}"),
        ("share.create", "SHARE#d1#group#readers"),
    ]
    # both read back as created (the list in key order: groups before users)
    listed = alice.get(shares_url())
    assert listed.status == 200
    assert listed.data == [group.data, share]
    assert listed.body["pagination"] == {"limit": 20, "next_cursor": None, "has_next": False}
    assert alice.get(shares_url(share=f"user:{bob}")).data == share


def test_a_share_is_refused_for_the_owner_an_unknown_target_a_duplicate_and_bad_bodies(
    cloud: Cloud, acme: Tenant
) -> None:
    alice = acme.user("alice")
    assert alice.post(shares_url(), share_body("user", acme.ids["bob"])).status == 201
    before, audit_before = share_items(cloud, acme), audit_actions(cloud, acme.tenant)

    duplicate = alice.post(shares_url(), share_body("user", acme.ids["bob"], "editor"))
    assert (duplicate.status, duplicate.error["code"]) == (409, "SHARE_EXISTS")
    own = alice.post(shares_url(), share_body("user", acme.ids["alice"]))
    assert (own.status, own.error["code"]) == (422, "VALIDATION_ERROR")
    assert own.error["details"] == [{"field": "targetId", "message": "is the dashboard's owner"}]
    for target_type, target_id in (("user", "nobody"), ("group", "nogroup"), ("group", acme.ids["bob"])):
        unknown = alice.post(shares_url(), share_body(target_type, target_id))
        assert (unknown.status, unknown.error["code"]) == (422, "VALIDATION_ERROR"), target_id
        assert unknown.error["details"][0]["field"] == "targetId"
    # a group being deleted takes no share
    deleting = Transaction().update("GROUP#readers", "SET deletingAt = :now", values={":now": "2026-12-03"})
    acme.store.commit(deleting, None)
    assert alice.post(shares_url(), share_body("group", "readers")).status == 422
    for body in (
        share_body("user", acme.ids["carol"], "owner"),  # a share never makes an owner
        share_body("team", acme.ids["carol"]),
        share_body("user", "has space"),
        share_body("user", "a#b"),
        {**share_body("user", acme.ids["carol"]), "extra": 1},
        {"targetType": "user", "targetId": acme.ids["carol"]},
        {},
    ):
        refused = alice.post(shares_url(), body)
        assert refused.status == 422, (body, refused.body)
    assert share_items(cloud, acme) == before
    assert audit_actions(cloud, acme.tenant) == audit_before


def test_only_the_owner_shares(acme: Tenant) -> None:
    alice = acme.user("alice")
    assert alice.post(shares_url(), share_body("user", acme.ids["bob"], "editor")).status == 201
    assert alice.post(shares_url(), share_body("user", acme.ids["carol"], "viewer")).status == 201
    body = share_body("user", acme.ids["dave"])
    for name, status in (("bob", 403), ("carol", 403), ("admin", 403), ("dave", 404)):
        refused = acme.user(name).post(shares_url(), body)
        assert refused.status == status, (name, refused.body)
    assert acme.user("bob").post(shares_url(), body).error["message"] == (
        "only a dashboard's owner or above may change whom it is shared with; you are its editor"
    )
    missing = alice.post(shares_url("nodash"), body)
    assert (missing.status, missing.error["message"]) == (404, "dashboard nodash not found")


# --- read --------------------------------------------------------------------------------------


def test_the_owner_and_editors_see_the_shares_viewers_may_not_others_find_nothing(acme: Tenant) -> None:
    alice = acme.user("alice")
    assert alice.post(shares_url(), share_body("user", acme.ids["bob"], "editor")).status == 201
    assert alice.post(shares_url(), share_body("user", acme.ids["carol"], "viewer")).status == 201
    one = f"user:{acme.ids['carol']}"
    for name, status in (("alice", 200), ("bob", 200), ("carol", 403), ("admin", 403), ("dave", 404)):
        assert acme.user(name).get(shares_url()).status == status, name
        assert acme.user(name).get(shares_url(share=one)).status == status, name
    assert len(acme.user("bob").get(shares_url()).data) == 2
    viewer = acme.user("carol").get(shares_url())
    assert viewer.error["code"] == "FORBIDDEN"
    # a share id that is malformed, or names no share, is a 404 to the owner
    for share in ("user:nobody", "group:readers", "nobody", "team:x", "user:"):
        missing = alice.get(shares_url(share=share))
        assert (missing.status, missing.error["code"]) == (404, "NOT_FOUND"), share
    assert alice.get(shares_url("nodash")).status == 404
    assert alice.get(shares_url("nodash", one)).status == 404


def test_shares_are_paged_by_cursor(acme: Tenant) -> None:
    alice = acme.user("alice")
    for name in ("bob", "carol", "dave"):
        assert alice.post(shares_url(), share_body("user", acme.ids[name])).status == 201
    assert alice.post(shares_url(), share_body("group", "readers")).status == 201
    seen: list[str] = []
    cursor = None
    while True:
        page = alice.get(shares_url() + "?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status == 200
        seen += [s["shareId"] for s in page.data]
        cursor = page.body["pagination"]["next_cursor"]
        if cursor is None:
            break
    users = sorted(f"user:{acme.ids[n]}" for n in ("bob", "carol", "dave"))
    assert seen == ["group:readers", *users]
    assert alice.get(shares_url() + "?cursor=garbage").status == 400
    first = alice.get(shares_url() + "?limit=1").body["pagination"]["next_cursor"]
    seed_dashboard(acme.store, "d2", acme.ids["alice"])
    assert alice.get(shares_url("d2") + f"?cursor={first}").status == 400  # another dashboard's cursor
    assert alice.get(shares_url() + "?limit=0").status == 422
    assert alice.get(shares_url() + "?limit=101").status == 422


# --- change and remove -------------------------------------------------------------------------


def test_the_owner_changes_a_share_with_optimistic_locking(cloud: Cloud, acme: Tenant) -> None:
    alice, bob = acme.user("alice"), acme.ids["bob"]
    assert alice.post(shares_url(), share_body("user", bob, "viewer")).status == 201
    url = shares_url(share=f"user:{bob}")
    assert acme.user("bob").get(shares_url()).status == 403  # a viewer
    changed = alice.patch(url, {"permission": "editor", "version": 1})
    assert changed.status == 200, changed.body
    assert (changed.data["permission"], changed.data["version"]) == ("editor", 2)
    assert changed.data["updatedAt"] >= changed.data["createdAt"]
    stored = items(cloud, acme.tenant, "SHARE")
    assert stored[f"SHARE#d1#user#{bob}"]["permission"] == {"S": "editor"}
    assert stored[f"SHARED#user#{bob}#d1"]["permission"] == {"S": "editor"}
    assert ("share.update", f"SHARE#d1#user#{bob}") in audit_actions(cloud, acme.tenant)
    assert acme.user("bob").get(shares_url()).status == 200  # an editor now, on the next request

    stale = alice.patch(url, {"permission": "viewer", "version": 1})
    assert (stale.status, stale.error["code"]) == (409, "VERSION_CONFLICT")
    assert stale.error["details"] == {"currentVersion": 2, "expectedVersion": 1}
    assert alice.get(url).data["permission"] == "editor"
    for body in (
        {"permission": "owner", "version": 2},
        {"permission": "editor"},
        {"version": 2},
        {"permission": "viewer", "version": 2, "targetId": "x"},
        {"permission": "viewer", "version": "2"},
    ):
        assert alice.patch(url, body).status == 422, body
    missing = alice.patch(
        shares_url(share=f"user:{acme.ids['carol']}"), {"permission": "viewer", "version": 1}
    )
    assert (missing.status, missing.error["code"]) == (404, "NOT_FOUND")
    assert alice.patch(shares_url(share="bogus"), {"permission": "viewer", "version": 1}).status == 404
    for name, status in (("bob", 403), ("admin", 403), ("carol", 404)):
        assert acme.user(name).patch(url, {"permission": "viewer", "version": 2}).status == status, name
    assert alice.get(url).data["version"] == 2


def test_the_owner_removes_a_share_both_items_and_the_access_it_gave(cloud: Cloud, acme: Tenant) -> None:
    alice, bob = acme.user("alice"), acme.ids["bob"]
    assert alice.post(shares_url(), share_body("user", bob, "editor")).status == 201
    assert alice.post(shares_url(), share_body("user", acme.ids["carol"], "viewer")).status == 201
    url = shares_url(share=f"user:{bob}")
    for name, status in (("bob", 403), ("carol", 403), ("admin", 403), ("dave", 404)):
        assert acme.user(name).delete(url).status == status, name
    assert f"SHARE#d1#user#{bob}" in share_items(cloud, acme)
    removed = alice.delete(url)
    assert (removed.status, removed.body) == (204, None)
    left = share_items(cloud, acme)
    assert f"SHARE#d1#user#{bob}" not in left
    assert f"SHARED#user#{bob}#d1" not in left
    assert len(left) == 2  # carol's two items
    assert ("share.delete", f"SHARE#d1#user#{bob}") in audit_actions(cloud, acme.tenant)
    assert acme.user("bob").get(shares_url()).status == 404  # no share, no dashboard
    again = alice.delete(url)
    assert (again.status, again.error["code"]) == (404, "NOT_FOUND")
    assert alice.delete(shares_url(share="nonsense")).status == 404
    assert alice.delete(shares_url("nodash", f"user:{bob}")).status == 404


# --- shared with me ----------------------------------------------------------------------------


def test_shared_with_me_merges_direct_and_group_shares_once_each_with_the_highest(
    cloud: Cloud, acme: Tenant
) -> None:
    alice, bob = acme.user("alice"), acme.user("bob")
    for dashboard in ("d2", "d3", "d4"):
        seed_dashboard(acme.store, dashboard, acme.ids["alice"])
    seed_dashboard(acme.store, "d5", acme.ids["bob"])  # bob's own
    seed_group(acme.store, "writers", acme.ids["bob"], acme.ids["carol"])
    post = alice.post
    assert post(shares_url("d1"), share_body("user", acme.ids["bob"], "viewer")).status == 201
    assert post(shares_url("d1"), share_body("group", "readers", "editor")).status == 201
    assert post(shares_url("d2"), share_body("group", "readers", "viewer")).status == 201
    assert post(shares_url("d2"), share_body("group", "writers", "viewer")).status == 201
    assert post(shares_url("d3"), share_body("user", acme.ids["bob"], "editor")).status == 201
    assert post(shares_url("d3"), share_body("group", "writers", "viewer")).status == 201
    assert post(shares_url("d4"), share_body("user", acme.ids["carol"], "editor")).status == 201
    own = bob.post(shares_url("d5"), share_body("group", "readers", "viewer"))
    assert own.status == 201  # bob's own dashboard, shared with a group he is in

    mine = bob.get("/shared-with-me")
    assert mine.status == 200, mine.body
    assert [(d["dashboardId"], d["myPermission"]) for d in mine.data] == [
        ("d1", "editor"),  # direct viewer, group editor
        ("d2", "viewer"),  # through two groups: once
        ("d3", "editor"),
    ]
    assert mine.data[0] == {
        "dashboardId": "d1",
        "name": "Sales",
        "description": "",
        "ownerId": acme.ids["alice"],
        "myPermission": "editor",
        "version": 1,
        "createdAt": mine.data[0]["createdAt"],
        "updatedAt": mine.data[0]["updatedAt"],
    }
    assert "layout" not in mine.data[0]
    assert mine.body["pagination"] == {"limit": 20, "next_cursor": None, "has_next": False}
    carol = acme.user("carol").get("/shared-with-me")
    assert [(d["dashboardId"], d["myPermission"]) for d in carol.data] == [
        ("d2", "viewer"),
        ("d3", "viewer"),
        ("d4", "editor"),
    ]
    assert acme.user("dave").get("/shared-with-me").data == []
    assert acme.user("alice").get("/shared-with-me").data == []  # the owner's own are not shared with her
    # an admin reads every dashboard, but only shares are "shared with me"
    assert acme.user("admin").get("/shared-with-me").data == []

    # a deleted dashboard drops out before its shares are swept
    items_before = share_items(cloud, acme)
    boto3_delete(cloud, acme, "DASHBOARD#d3")
    assert f"SHARED#user#{acme.ids['bob']}#d3" in items_before
    assert [d["dashboardId"] for d in bob.get("/shared-with-me").data] == ["d1", "d2"]


def boto3_delete(cloud: Cloud, t: Tenant, sk: str) -> None:
    boto3.client("dynamodb").delete_item(
        TableName=table_of(cloud, t.tenant),
        Key={"PK": {"S": f"TENANT#{t.tenant['tenantId']}"}, "SK": {"S": sk}},
    )


def test_shared_with_me_pages_by_dashboard_id(cloud: Cloud, acme: Tenant) -> None:
    alice, bob = acme.user("alice"), acme.user("bob")
    seed_group(acme.store, "writers", acme.ids["bob"])
    seed_dashboard(acme.store, "d0", acme.ids["bob"])  # bob's own, through a group: skipped
    assert bob.post(shares_url("d0"), share_body("group", "writers")).status == 201
    expected = []
    for i in range(1, 8):
        dashboard = f"d{i}"
        if i > 1:
            seed_dashboard(acme.store, dashboard, acme.ids["alice"])
        # alternate direct and group shares, and some dashboards through both
        if i % 2:
            assert alice.post(shares_url(dashboard), share_body("user", acme.ids["bob"])).status == 201
        if i % 3 != 1:
            target = "readers" if i % 2 else "writers"
            assert alice.post(shares_url(dashboard), share_body("group", target, "editor")).status == 201
        if i % 2 or i % 3 != 1:  # d4 is shared with neither
            expected.append((dashboard, "editor" if i % 3 != 1 else "viewer"))
    seen: list[tuple[str, str]] = []
    pages = 0
    cursor = None
    while True:
        page = bob.get("/shared-with-me?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status == 200, page.body
        assert len(page.data) <= 2
        seen += [(d["dashboardId"], d["myPermission"]) for d in page.data]
        pages += 1
        cursor = page.body["pagination"]["next_cursor"]
        assert page.body["pagination"]["has_next"] is (cursor is not None)
        if cursor is None:
            break
    assert seen == expected
    assert [d for d, _ in expected] == ["d1", "d2", "d3", "d5", "d6", "d7"]
    assert pages == 4  # d0 (skipped) d1 | d2 d3 | d5 d6 | d7
    first = bob.get("/shared-with-me?limit=2").body["pagination"]["next_cursor"]
    for bad in ("garbage", first + "x"):
        refused = bob.get(f"/shared-with-me?cursor={bad}")
        assert (refused.status, refused.error["code"]) == (400, "BAD_REQUEST"), bad
    other = acme.user("carol").get(f"/shared-with-me?cursor={first}")  # bob's cursor is not carol's
    assert (other.status, other.error["code"]) == (400, "BAD_REQUEST")
    assert bob.get("/shared-with-me?limit=0").status == 422


# --- revocation --------------------------------------------------------------------------------


def test_removing_a_member_takes_away_the_groups_share_on_the_very_next_request(acme: Tenant) -> None:
    alice, bob = acme.user("alice"), acme.user("bob")
    assert alice.post(shares_url(), share_body("group", "readers", "editor")).status == 201
    assert bob.get(shares_url()).status == 200  # an editor through the group
    assert [d["dashboardId"] for d in bob.get("/shared-with-me").data] == ["d1"]
    remove_member(acme.store, "readers", acme.ids["bob"])
    assert bob.get(shares_url()).status == 404
    assert bob.get("/shared-with-me").data == []
    add_member(acme.store, "readers", acme.ids["bob"])
    assert bob.get(shares_url()).status == 200
    # the group's share removed: gone again, for every member
    assert alice.delete(shares_url(share="group:readers")).status == 204
    assert bob.get(shares_url()).status == 404


# --- tenants -----------------------------------------------------------------------------------


def test_another_tenants_dashboards_and_shares_are_404_and_untouched(
    cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]], acme: Tenant
) -> None:
    globex = make_tenant(cloud, app, onboard, "globex")
    assert acme.user("alice").post(shares_url(), share_body("user", acme.ids["bob"])).status == 201
    share = f"user:{acme.ids['bob']}"
    before = items(cloud, acme.tenant)
    # globex has a d1 of its own (its alice's): acme's d1 and its shares are not it
    theirs = globex.user("alice")
    listed = theirs.get(shares_url())
    assert (listed.status, listed.data) == (200, [])
    assert theirs.get(shares_url(share=share)).status == 404
    assert theirs.patch(shares_url(share=share), {"permission": "editor", "version": 1}).status == 404
    assert theirs.delete(shares_url(share=share)).status == 404
    for name in ("admin", "alice", "bob"):
        assert globex.user(name).get("/shared-with-me").data == [], name
    # acme's users cannot be share targets in globex, nor globex's in acme
    cross = globex.user("alice").post(shares_url(), share_body("user", acme.ids["bob"]))
    assert (cross.status, cross.error["code"]) == (422, "VALIDATION_ERROR")
    cross = acme.user("alice").post(shares_url(), share_body("user", globex.ids["bob"]))
    assert (cross.status, cross.error["code"]) == (422, "VALIDATION_ERROR")
    seed_dashboard(globex.store, "only-globex", globex.ids["alice"])
    for method, path, body in (
        ("GET", shares_url("only-globex"), None),
        ("POST", shares_url("only-globex"), share_body("user", acme.ids["bob"])),
        ("GET", shares_url("only-globex", share), None),
        ("PATCH", shares_url("only-globex", share), {"permission": "editor", "version": 1}),
        ("DELETE", shares_url("only-globex", share), None),
    ):
        refused = acme.user("admin").request(method, path, body)
        assert (refused.status, refused.error["message"]) == (404, "dashboard only-globex not found"), path
    assert items(cloud, acme.tenant) == before  # nothing of acme's changed, but the globex calls' audit
    assert not any(sk.startswith("SHARE") for sk in items(cloud, globex.tenant))


# --- calls -------------------------------------------------------------------------------------


@pytest.fixture
def counted_store_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every DynamoDB read the handlers' tenant stores make (TenantStore._call), by operation."""
    calls: list[str] = []
    original = TenantStore._call

    def counting(self: TenantStore, operation: str, **request: Any) -> Any:
        calls.append(operation)
        return original(self, operation, **request)

    monkeypatch.setattr(TenantStore, "_call", counting)
    return calls


@pytest.mark.parametrize("groups", [0, 10, 98])
def test_permission_resolution_takes_two_calls_whatever_the_groups(
    cloud: Cloud, acme: Tenant, counted_store_calls: list[str], groups: int
) -> None:
    """Resolution is one Query of the caller's groups and one BatchGetItem of the dashboard and
    the caller's shares (direct + one per group): 2 calls with 0, 10 or 98 groups, each group
    holding a share of the dashboard: `GET /dashboards/{id}` makes those 2, a share route adds its
    own one call."""
    carol = acme.ids["carol"]
    for i in range(groups):
        seed_group(acme.store, f"g{i:03}", carol)
        permission = Permission.EDITOR if i == groups - 1 else Permission.VIEWER
        tx = Transaction()
        graph.add_share_writes(tx, "d1", acme.ids["alice"], TargetType.GROUP, f"g{i:03}", permission, NOW)
        acme.store.commit(tx, None)
    assert acme.user("alice").post(shares_url(), share_body("user", carol, "viewer")).status == 201
    counting = CountingClient(boto3.client("dynamodb"))
    access = DashboardAccess(tenant_store(cloud, acme.tenant, counting))
    found = access.resolve("d1", TenantContext(acme.tenant["tenantId"], carol, "member", "PRO"))
    assert found.permission is (Permission.EDITOR if groups else Permission.VIEWER)
    assert counting.calls == ["query", "batch_get_item"]

    # through the handler, behind API Gateway's cached authorization (the authorizer's own read of
    # the user is not the route's): the route's reads alone
    client = acme.user("carol")
    client.authorizer_cache = AuthorizerCache(ttl_seconds=3600)
    client.get(shares_url(share=f"user:{carol}"))
    counted_store_calls.clear()
    answer = client.get(shares_url(share=f"user:{carol}"))
    assert answer.status == (200 if groups else 403), answer.body
    expected = ["query", "batch_get_item"] + (["get_item"] if groups else [])
    assert counted_store_calls == expected

    counted_store_calls.clear()
    dashboard = client.get("/dashboards/d1")
    assert dashboard.status == 200, dashboard.body
    assert dashboard.data["myPermission"] == ("editor" if groups else "viewer")
    assert counted_store_calls == ["query", "batch_get_item"]  # GET /dashboards/{id}: resolution alone
