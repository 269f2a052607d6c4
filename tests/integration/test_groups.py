"""Groups and their members through the app API (in-process, behind the real authorizer with real
tokens): every route and status, the items written (both halves of each membership, the counts,
the name markers, the audit trail), admins versus members, and the deletes that sweep."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from tenancy.application.sharing import graph
from tenancy.application.sharing.permissions import MAX_GROUPS_PER_USER, Permission, TargetType
from tenancy.application.store import keys
from tenancy.application.store.engine import Actor, TenantStore
from tenancy.application.store.transaction import Transaction
from tenancy.common.dynamo import from_item
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.integration.conftest import admin_of, token_for

NEVER = "00000000-0000-4000-8000-000000000000"
NOW = "2026-12-03T10:00:00.000000Z"


@dataclass
class Tenant:
    tenant_id: str
    table: str
    admin: ApiClient
    admin_id: str
    member: ApiClient
    member_id: str

    def items(self) -> dict[str, dict[str, Any]]:
        """Every item of the tenant's partition, by sort key (consistent)."""
        found: dict[str, dict[str, Any]] = {}
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"TENANT#{self.tenant_id}"}},
            "ConsistentRead": True,
        }
        while True:
            page = boto3.client("dynamodb").query(**query)
            found.update({item["SK"]["S"]: from_item(item) for item in page["Items"]})
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def with_prefix(self, prefix: str) -> list[str]:
        return sorted(sk for sk in self.items() if sk.startswith(prefix))

    def store(self) -> TenantStore:
        return TenantStore(boto3.client("dynamodb"), self.table, self.tenant_id, Actor("seed", "trace-seed"))

    def set(self, sk: str, expression: str, values: dict[str, Any]) -> None:
        """Change an item behind the API's back (to stage a state the API cannot reach by itself)."""
        self.store().commit(Transaction().update(sk, expression, condition=None, values=values), None)

    def actions(self) -> list[tuple[str, str]]:
        return [
            (str(item["action"]), str(item["resource"]))
            for sk, item in sorted(self.items().items())
            if sk.startswith("AUDIT#")
        ]


def tenant(cloud: Cloud, app: ApiClient, onboard: Any, slug: str, tier: str = "PRO") -> Tenant:
    created = onboard(slug, tier)
    admin = admin_of(cloud, app, slug)
    member = admin.post("/users", {"email": f"member@{slug}.example", "role": "member"})
    assert member.status == 201, member.body
    return Tenant(
        tenant_id=created["tenantId"],
        table=created["resources"].get("dedicatedTable") or cloud.settings.app_table_name,
        admin=admin,
        admin_id=admin.get("/me").data["userId"],
        member=app.as_user(token_for(cloud, f"member@{slug}.example")),
        member_id=member.data["userId"],
    )


@pytest.fixture
def acme(cloud: Cloud, app: ApiClient, onboard: Any) -> Tenant:
    return tenant(cloud, app, onboard, "acme")


def new_group(t: Tenant, name: str, description: str = "") -> dict[str, Any]:
    created = t.admin.post("/groups", {"name": name, "description": description})
    assert created.status == 201, created.body
    return created.data  # type: ignore[no-any-return]


def new_user(t: Tenant, email: str) -> str:
    created = t.admin.post("/users", {"email": email, "role": "member"})
    assert created.status == 201, created.body
    return str(created.data["userId"])


def seed_dashboard(t: Tenant, dashboard_id: str, owner_id: str) -> None:
    t.store().commit(
        Transaction().put(
            keys.item_sk(keys.DASHBOARD, dashboard_id), {"dashboardId": dashboard_id, "ownerId": owner_id}
        ),
        None,
    )


def seed_share(t: Tenant, dashboard_id: str, owner_id: str, target: TargetType, target_id: str) -> None:
    tx = Transaction()
    graph.add_share_writes(tx, dashboard_id, owner_id, target, target_id, Permission.VIEWER, NOW)
    t.store().commit(tx, None)


# --- groups --------------------------------------------------------------------------------------


def test_a_group_is_created_read_renamed_and_deleted_with_its_name_marker(acme: Tenant) -> None:
    created = acme.admin.post("/groups", {"name": "Sales", "description": "the sales team"})
    assert created.status == 201, created.body
    group = created.data
    group_id = group["groupId"]
    assert (group["name"], group["description"], group["memberCount"], group["version"]) == (
        "Sales",
        "the sales team",
        0,
        1,
    )
    assert set(group) == {
        "groupId",
        "name",
        "description",
        "memberCount",
        "version",
        "createdAt",
        "updatedAt",
    }
    items = acme.items()
    assert items[f"GROUP#{group_id}"]["name"] == "Sales"
    assert items["GROUPNAME#sales"]["ownerId"] == group_id
    assert acme.admin.get(f"/groups/{group_id}").data == group
    assert acme.admin.post("/groups", {"name": "Ops"}).data["description"] == ""

    renamed = acme.admin.patch(f"/groups/{group_id}", {"name": "Revenue", "version": 1})
    assert (renamed.status, renamed.data["name"], renamed.data["version"]) == (200, "Revenue", 2)
    assert renamed.data["description"] == "the sales team"
    assert acme.with_prefix("GROUPNAME#") == ["GROUPNAME#ops", "GROUPNAME#revenue"]
    assert acme.items()["GROUPNAME#revenue"]["ownerId"] == group_id

    recased = acme.admin.patch(f"/groups/{group_id}", {"name": "REVENUE", "version": 2})
    assert (recased.status, recased.data["name"]) == (200, "REVENUE")
    assert acme.items()["GROUPNAME#revenue"]["ownerId"] == group_id  # the same marker: the same name
    described = acme.admin.patch(f"/groups/{group_id}", {"description": "money", "version": 3})
    assert (described.status, described.data["name"], described.data["description"]) == (
        200,
        "REVENUE",
        "money",
    )
    assert acme.with_prefix("GROUPNAME#") == ["GROUPNAME#ops", "GROUPNAME#revenue"]

    stale = acme.admin.patch(f"/groups/{group_id}", {"name": "Lost", "version": 1})
    assert (stale.status, stale.error["code"]) == (409, "VERSION_CONFLICT")
    assert stale.error["details"] == {"currentVersion": 4, "expectedVersion": 1}
    assert "GROUPNAME#lost" not in acme.items()

    assert acme.admin.delete(f"/groups/{group_id}").status == 204
    assert acme.admin.get(f"/groups/{group_id}").status == 404
    assert acme.admin.delete(f"/groups/{group_id}").status == 404
    assert acme.admin.patch(f"/groups/{group_id}", {"name": "Back", "version": 4}).status == 404
    assert f"GROUP#{group_id}" not in acme.items()
    assert acme.with_prefix("GROUPNAME#") == ["GROUPNAME#ops"]
    assert [g["name"] for g in acme.admin.get("/groups").data] == ["Ops"]

    resource = f"GROUP#{group_id}"
    assert [a for a in acme.actions() if a[1] == resource] == [
        ("group.create", resource),
        ("group.update", resource),
        ("group.update", resource),
        ("group.update", resource),
        ("group.delete", resource),
    ]


def test_bad_group_bodies_are_refused(acme: Tenant) -> None:
    group = new_group(acme, "Sales")
    url = f"/groups/{group['groupId']}"
    for body in ({"name": ""}, {"name": " padded"}, {"name": "x" * 101}, {"name": "ok", "extra": 1}, {}):
        answer = acme.admin.post("/groups", body)
        assert (answer.status, answer.error["code"]) == (422, "VALIDATION_ERROR"), body
    assert acme.admin.post("/groups", raw="{not json").status == 400
    nothing = acme.admin.patch(url, {"version": 1})
    assert (nothing.status, nothing.error["code"]) == (400, "BAD_REQUEST")
    patches: list[dict[str, Any]] = [
        {"name": None, "version": 1},
        {"name": "x"},
        {"name": "x", "version": 1, "a": 1},
    ]
    for patch in patches:
        assert acme.admin.patch(url, patch).status == 422, patch
    assert acme.admin.get(f"/groups/{'x' * 200}").status == 422
    assert acme.admin.get("/groups?limit=0").status == 422
    assert acme.admin.get("/groups?cursor=garbage").status == 400
    assert acme.admin.get(url).data["version"] == 1  # nothing changed it


def test_names_are_unique_case_insensitively_on_create_and_rename(acme: Tenant) -> None:
    sales = new_group(acme, "Sales")
    taken = acme.admin.post("/groups", {"name": "sALES"})
    assert (taken.status, taken.error["code"]) == (409, "GROUP_NAME_TAKEN")
    assert taken.error["details"] == [{"field": "name", "message": "already in use in this tenant"}]
    ops = new_group(acme, "Ops")
    clash = acme.admin.patch(f"/groups/{ops['groupId']}", {"name": "SALES", "version": 1})
    assert (clash.status, clash.error["code"]) == (409, "GROUP_NAME_TAKEN")
    assert clash.error["details"][0]["field"] == "name"
    assert acme.admin.get(f"/groups/{ops['groupId']}").data == ops  # unchanged
    markers = {sk: item["ownerId"] for sk, item in acme.items().items() if sk.startswith("GROUPNAME#")}
    assert markers == {"GROUPNAME#sales": sales["groupId"], "GROUPNAME#ops": ops["groupId"]}
    assert acme.admin.delete(f"/groups/{sales['groupId']}").status == 204
    assert acme.admin.patch(f"/groups/{ops['groupId']}", {"name": "sales", "version": 1}).status == 200
    assert acme.admin.post("/groups", {"name": "Ops"}).status == 201  # the old name is free again


def test_racing_renames_to_one_name_admit_exactly_one(acme: Tenant) -> None:
    groups = [new_group(acme, f"g{i}") for i in range(6)]

    def rename(group: dict[str, Any]) -> tuple[int, str | None]:
        answer = acme.admin.patch(f"/groups/{group['groupId']}", {"name": "Winner", "version": 1})
        return answer.status, None if answer.status == 200 else answer.error["code"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = sorted(pool.map(rename, groups), key=lambda r: r[0])
    assert results == [(200, None)] + [(409, "GROUP_NAME_TAKEN")] * 5
    winner = [g for g in acme.admin.get("/groups").data if g["name"] == "Winner"]
    assert len(winner) == 1
    markers = {sk: item["ownerId"] for sk, item in acme.items().items() if sk.startswith("GROUPNAME#")}
    assert markers["GROUPNAME#winner"] == winner[0]["groupId"]
    assert len(markers) == 6  # one per group: the winner's old name was released, the others kept


def test_racing_renames_of_one_group_admit_exactly_one(acme: Tenant) -> None:
    group = new_group(acme, "Start")
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(
            pool.map(
                lambda i: (
                    acme.admin.patch(f"/groups/{group['groupId']}", {"name": f"n{i}", "version": 1}).status
                ),
                range(6),
            )
        )
    assert statuses == [200] + [409] * 5
    final = acme.admin.get(f"/groups/{group['groupId']}").data
    assert final["version"] == 2
    assert acme.with_prefix("GROUPNAME#") == [f"GROUPNAME#{final['name']}"]


def test_groups_are_listed_in_id_order_with_cursors(acme: Tenant) -> None:
    created = sorted(new_group(acme, f"group {i}")["groupId"] for i in range(5))
    first = acme.member.get("/groups?limit=2")
    assert first.status == 200
    assert [g["groupId"] for g in first.data] == created[:2]
    assert first.body["pagination"]["has_next"] is True
    seen = [g["groupId"] for g in first.data]
    cursor = first.body["pagination"]["next_cursor"]
    while cursor:
        page = acme.member.get(f"/groups?limit=2&cursor={cursor}")
        seen += [g["groupId"] for g in page.data]
        cursor = page.body["pagination"]["next_cursor"]
    assert seen == created
    members = acme.member.get(
        f"/groups/{created[0]}/members?limit=1&cursor={first.body['pagination']['next_cursor']}"
    )
    assert members.status == 400  # a cursor of another listing


def test_members_read_groups_and_only_admins_change_them(acme: Tenant) -> None:
    group = new_group(acme, "Sales")
    url = f"/groups/{group['groupId']}"
    assert acme.admin.post(f"{url}/members", {"userId": acme.admin_id}).status == 201
    before = acme.items()
    assert acme.member.get("/groups").data == [{**group, "memberCount": 1}]
    assert acme.member.get(url).status == 200
    assert [m["userId"] for m in acme.member.get(f"{url}/members").data] == [acme.admin_id]
    for method, path, body in (
        ("POST", "/groups", {"name": "Mine"}),
        ("PATCH", url, {"name": "Mine", "version": 1}),
        ("DELETE", url, None),
        ("POST", f"{url}/members", {"userId": acme.member_id}),
        ("DELETE", f"{url}/members/{acme.admin_id}", None),
        ("POST", f"/groups/{NEVER}/members", {"userId": acme.member_id}),
    ):
        answer = acme.member.request(method, path, body)
        assert (answer.status, answer.error["code"]) == (403, "FORBIDDEN"), (method, path)
    assert acme.items() == before  # nothing written, not even an audit item


# --- members -------------------------------------------------------------------------------------


def test_a_membership_is_both_items_and_both_counts(acme: Tenant) -> None:
    group = new_group(acme, "Sales")
    group_id, user_id = group["groupId"], acme.member_id
    added = acme.admin.post(f"/groups/{group_id}/members", {"userId": user_id})
    assert added.status == 201, added.body
    assert set(added.data) == {"groupId", "userId", "addedAt", "addedBy"}
    assert (added.data["groupId"], added.data["userId"], added.data["addedBy"]) == (
        group_id,
        user_id,
        acme.admin_id,
    )
    items = acme.items()
    member = items[f"MEMBER#{group_id}#{user_id}"]
    member_of = items[f"MEMBEROF#{user_id}#{group_id}"]
    for edge in (member, member_of):
        assert (edge["groupId"], edge["userId"], edge["addedAt"]) == (
            group_id,
            user_id,
            added.data["addedAt"],
        )
    assert items[f"GROUP#{group_id}"]["memberCount"] == 1
    assert items[f"USER#{user_id}"]["groupCount"] == 1
    assert acme.admin.get(f"/groups/{group_id}").data["memberCount"] == 1
    assert acme.admin.get(f"/groups/{group_id}/members").data == [added.data]

    again = acme.admin.post(f"/groups/{group_id}/members", {"userId": user_id})
    assert (again.status, again.error["code"]) == (409, "ALREADY_MEMBER")
    assert acme.items()[f"GROUP#{group_id}"]["memberCount"] == 1
    assert acme.items()[f"USER#{user_id}"]["groupCount"] == 1

    assert acme.admin.delete(f"/groups/{group_id}/members/{user_id}").status == 204
    items = acme.items()
    assert f"MEMBER#{group_id}#{user_id}" not in items
    assert f"MEMBEROF#{user_id}#{group_id}" not in items
    assert items[f"GROUP#{group_id}"]["memberCount"] == 0
    assert items[f"USER#{user_id}"]["groupCount"] == 0
    gone = acme.admin.delete(f"/groups/{group_id}/members/{user_id}")
    assert (gone.status, gone.error["code"]) == (404, "NOT_FOUND")
    assert acme.admin.get(f"/groups/{group_id}/members").data == []
    member_sk = f"MEMBER#{group_id}#{user_id}"
    assert [a for a in acme.actions() if a[1] == member_sk] == [
        ("membership.create", member_sk),
        ("membership.delete", member_sk),
    ]


def test_only_users_of_the_tenant_can_be_members(
    cloud: Cloud, app: ApiClient, onboard: Any, acme: Tenant
) -> None:
    other = tenant(cloud, app, onboard, "globex", "ENTERPRISE")
    group = new_group(acme, "Sales")
    url = f"/groups/{group['groupId']}/members"
    before = acme.items()
    for user_id in (other.member_id, other.admin_id, NEVER):
        refused = acme.admin.post(url, {"userId": user_id})
        assert (refused.status, refused.error["code"]) == (422, "VALIDATION_ERROR"), user_id
        assert refused.error["details"] == [{"field": "userId", "message": "no such user in this tenant"}]
    for body in ({"userId": "a#b"}, {"userId": ""}, {}, {"userId": acme.member_id, "role": "x"}):
        assert acme.admin.post(url, body).status == 422, body
    assert acme.items() == before
    missing = acme.admin.post(f"/groups/{NEVER}/members", {"userId": acme.member_id})
    assert (missing.status, missing.error["code"]) == (404, "NOT_FOUND")
    assert acme.admin.get(f"/groups/{NEVER}/members").status == 404
    assert acme.admin.delete(f"/groups/{NEVER}/members/{acme.member_id}").status == 404
    # the other tenant's group is not found, and its users are no one here
    theirs = new_group(other, "Theirs")
    calls: list[tuple[str, str, Any]] = [
        ("GET", f"/groups/{theirs['groupId']}", None),
        ("PATCH", f"/groups/{theirs['groupId']}", {"name": "x", "version": 1}),
        ("DELETE", f"/groups/{theirs['groupId']}", None),
        ("GET", f"/groups/{theirs['groupId']}/members", None),
        ("POST", f"/groups/{theirs['groupId']}/members", {"userId": acme.member_id}),
        ("DELETE", f"/groups/{theirs['groupId']}/members/{other.member_id}", None),
    ]
    for method, path, body in calls:
        assert acme.admin.request(method, path, body).status == 404, (method, path)
    assert [g["name"] for g in acme.admin.get("/groups").data] == ["Sales"]
    assert other.admin.get(f"/groups/{theirs['groupId']}").data == theirs


def test_a_user_belongs_to_at_most_98_groups(acme: Tenant) -> None:
    group = new_group(acme, "One too many")
    acme.set(keys.item_sk(keys.USER, acme.member_id), "SET groupCount = :n", {":n": MAX_GROUPS_PER_USER})
    before = acme.items()
    refused = acme.admin.post(f"/groups/{group['groupId']}/members", {"userId": acme.member_id})
    assert (refused.status, refused.error["code"]) == (409, "LIMIT_REACHED")
    assert refused.error["details"] == {"limit": "groupsPerUser", "maximum": 98, "current": 98}
    assert acme.items() == before
    acme.set(keys.item_sk(keys.USER, acme.member_id), "SET groupCount = :n", {":n": MAX_GROUPS_PER_USER - 1})
    assert acme.admin.post(f"/groups/{group['groupId']}/members", {"userId": acme.member_id}).status == 201
    assert acme.items()[f"USER#{acme.member_id}"]["groupCount"] == MAX_GROUPS_PER_USER


def test_members_are_listed_in_user_id_order_with_cursors(acme: Tenant) -> None:
    group = new_group(acme, "Big")
    users = sorted([acme.admin_id, acme.member_id] + [new_user(acme, f"u{i}@acme.example") for i in range(3)])
    for user_id in users:
        assert acme.admin.post(f"/groups/{group['groupId']}/members", {"userId": user_id}).status == 201
    seen: list[str] = []
    url = f"/groups/{group['groupId']}/members?limit=2"
    page = acme.member.get(url)
    while True:
        assert page.status == 200
        assert len(page.data) <= 2
        seen += [m["userId"] for m in page.data]
        cursor = page.body["pagination"]["next_cursor"]
        if not cursor:
            break
        page = acme.member.get(f"{url}&cursor={cursor}")
    assert seen == users
    assert acme.admin.get(f"/groups/{group['groupId']}").data["memberCount"] == 5
    other = new_group(acme, "Other")
    first = acme.member.get(url).body["pagination"]["next_cursor"]
    assert acme.member.get(f"/groups/{other['groupId']}/members?limit=2&cursor={first}").status == 400


# --- the user's side -----------------------------------------------------------------------------


def test_me_and_get_user_list_the_users_groups(acme: Tenant) -> None:
    assert acme.member.get("/me").data["groups"] == []
    sales, ops = new_group(acme, "Sales"), new_group(acme, "Ops")
    for group in (sales, ops):
        acme.admin.post(f"/groups/{group['groupId']}/members", {"userId": acme.member_id})
    expected = sorted(
        ({"groupId": g["groupId"], "name": g["name"]} for g in (sales, ops)), key=lambda g: g["groupId"]
    )
    me = acme.member.get("/me").data
    assert me["groups"] == expected
    assert "groupCount" not in me
    detail = acme.admin.get(f"/users/{acme.member_id}").data
    assert detail["groups"] == expected
    assert "groupCount" not in detail
    assert all("groupCount" not in u and "groups" not in u for u in acme.admin.get("/users").data)
    acme.admin.patch(f"/groups/{sales['groupId']}", {"name": "Revenue", "version": 1})
    assert {g["name"] for g in acme.member.get("/me").data["groups"]} == {"Revenue", "Ops"}
    acme.admin.delete(f"/groups/{ops['groupId']}/members/{acme.member_id}")
    assert acme.member.get("/me").data["groups"] == [{"groupId": sales["groupId"], "name": "Revenue"}]
    assert acme.admin.get("/me").data["groups"] == []
    assert acme.member.get(f"/users/{acme.member_id}").status == 403


def test_deleting_a_user_is_refused_while_they_own_content_then_sweeps_their_edges(acme: Tenant) -> None:
    group = new_group(acme, "Sales")
    user_id = acme.member_id
    acme.admin.post(f"/groups/{group['groupId']}/members", {"userId": user_id})
    seed_dashboard(acme, "d1", acme.admin_id)
    seed_share(acme, "d1", acme.admin_id, TargetType.USER, user_id)
    owned = f"DASHOWNER#{user_id}#{NOW}#d2"
    acme.store().commit(Transaction().put(owned, {"dashboardId": "d2"}), None)
    refused = acme.admin.delete(f"/users/{user_id}")
    assert (refused.status, refused.error["code"]) == (409, "USER_OWNS_CONTENT")
    assert refused.error["details"] == {"owns": ["dashboards"]}
    assert "transfer" in refused.error["message"]
    card = f"CARDOWNER#{user_id}#{NOW}#c1"
    acme.store().commit(Transaction().delete(owned).put(card, {"cardId": "c1"}), None)
    refused = acme.admin.delete(f"/users/{user_id}")
    assert (refused.status, refused.error["details"]) == (409, {"owns": ["cards"]})
    assert f"USER#{user_id}" in acme.items()
    assert acme.member.get("/me").status == 200

    acme.store().commit(Transaction().delete(card), None)
    assert acme.admin.delete(f"/users/{user_id}").status == 204
    items = acme.items()
    assert f"USER#{user_id}" not in items
    assert not [sk for sk in items if user_id in sk]  # memberships and shares, both halves
    assert items[f"GROUP#{group['groupId']}"]["memberCount"] == 0
    assert acme.admin.get(f"/groups/{group['groupId']}/members").data == []
    assert acme.admin.delete(f"/users/{user_id}").status == 404


def test_a_second_delete_of_a_user_finishes_the_sweeps(acme: Tenant) -> None:
    group = new_group(acme, "Sales")
    user_id = acme.member_id
    acme.admin.post(f"/groups/{group['groupId']}/members", {"userId": user_id})
    seed_dashboard(acme, "d1", acme.admin_id)
    seed_share(acme, "d1", acme.admin_id, TargetType.USER, user_id)
    # an interrupted delete: the user item went, its sweeps did not run
    acme.store().commit(Transaction().delete(f"USER#{user_id}"), None)
    assert acme.admin.delete(f"/users/{user_id}").status == 404
    items = acme.items()
    assert not [sk for sk in items if user_id in sk]
    assert items[f"GROUP#{group['groupId']}"]["memberCount"] == 0


# --- deleting a group ----------------------------------------------------------------------------


def staged_group(acme: Tenant) -> tuple[dict[str, Any], str]:
    """A group with two members, a dashboard shared with it and with a user directly."""
    group = new_group(acme, "Doomed")
    group_id = group["groupId"]
    for user_id in (acme.admin_id, acme.member_id):
        assert acme.admin.post(f"/groups/{group_id}/members", {"userId": user_id}).status == 201
    for dashboard_id in ("d1", "d2"):
        seed_dashboard(acme, dashboard_id, acme.admin_id)
        seed_share(acme, dashboard_id, acme.admin_id, TargetType.GROUP, group_id)
    seed_share(acme, "d1", acme.admin_id, TargetType.USER, acme.member_id)
    items = acme.items()
    assert f"SHARE#d1#group#{group_id}" in items
    assert f"SHARED#group#{group_id}#d2" in items
    return group, group_id


def assert_group_is_gone(acme: Tenant, group_id: str) -> None:
    items = acme.items()
    assert not [sk for sk in items if group_id in sk and not sk.startswith("AUDIT#")], items.keys()
    assert "GROUPNAME#doomed" not in items
    # the direct share stays; the users stay, in no group
    assert f"SHARE#d1#user#{acme.member_id}" in items
    assert f"SHARED#user#{acme.member_id}#d1" in items
    assert items[f"USER#{acme.member_id}"]["groupCount"] == 0
    assert items[f"USER#{acme.admin_id}"]["groupCount"] == 0
    assert acme.member.get("/me").data["groups"] == []
    assert acme.admin.get(f"/groups/{group_id}").status == 404
    assert acme.admin.post("/groups", {"name": "DOOMED"}).status == 201  # the name is free


def test_deleting_a_group_removes_its_memberships_and_the_shares_made_to_it(acme: Tenant) -> None:
    _, group_id = staged_group(acme)
    assert acme.admin.delete(f"/groups/{group_id}").status == 204
    assert_group_is_gone(acme, group_id)
    assert ("group.delete", f"GROUP#{group_id}") in acme.actions()
    assert acme.admin.delete(f"/groups/{group_id}").status == 404


def test_a_group_being_deleted_is_not_found_and_a_second_delete_finishes_it(acme: Tenant) -> None:
    group, group_id = staged_group(acme)
    url = f"/groups/{group_id}"
    # an interrupted delete: marked, nothing swept
    acme.set(f"GROUP#{group_id}", "SET deletingAt = :now", {":now": NOW})
    assert acme.admin.get(url).status == 404
    assert acme.member.get("/groups").data == []
    assert acme.admin.patch(url, {"name": "Saved", "version": 1}).status == 404
    assert acme.admin.get(f"{url}/members").status == 404
    newcomer = new_user(acme, "late@acme.example")
    assert acme.admin.post(f"{url}/members", {"userId": newcomer}).status == 404
    assert acme.admin.delete(f"{url}/members/{acme.member_id}").status == 404
    assert acme.member.get("/me").data["groups"] == []
    assert acme.admin.get(f"/users/{acme.member_id}").data["groups"] == []
    seed_dashboard(acme, "d3", acme.admin_id)
    with pytest.raises(Exception, match="no group"):  # the graph refuses a share to it (422)
        seed_share(acme, "d3", acme.admin_id, TargetType.GROUP, group_id)
    assert acme.items()[f"GROUP#{group_id}"]["memberCount"] == 2  # still all there
    assert group["name"] == "Doomed"

    assert acme.admin.delete(url).status == 204
    assert_group_is_gone(acme, group_id)
    assert acme.actions().count(("group.delete", f"GROUP#{group_id}")) == 1
