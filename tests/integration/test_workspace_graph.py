"""The workspace's store primitives against moto: transactions of several items with named
refusals, consistent batch reads, prefix queries with bound cursors, and the access graph
(memberships and shares, both halves of each edge in one transaction) with two-call resolution."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tenancy.application.sharing import graph
from tenancy.application.sharing.permissions import (
    MAX_GROUPS_PER_USER,
    DashboardAccess,
    Permission,
    TargetType,
)
from tenancy.application.store import keys
from tenancy.application.store.engine import Actor, Change, TenantStore, ValueTakenError
from tenancy.application.store.transaction import Transaction
from tenancy.common.errors import (
    ConflictError,
    InvalidRequestError,
    LimitReachedError,
    NotFoundError,
    TenantInactiveError,
    ValidationFailedError,
)
from tenancy.contracts.context import TenantContext
from tests.helpers.cloud import Cloud

NOW = "2026-12-03T10:00:00.000000Z"


class CountingClient:
    """The DynamoDB client, counting the calls made through it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)

        def counted(**kwargs: Any) -> Any:
            self.calls.append(name)
            return call(**kwargs)

        return counted


@pytest.fixture
def client(cloud: Cloud) -> CountingClient:
    return CountingClient(boto3.client("dynamodb"))


def store_of(cloud: Cloud, client: CountingClient, tenant_id: str = "t1") -> TenantStore:
    store = TenantStore(client, cloud.settings.app_table_name, tenant_id, Actor("u-admin", "trace-1"))
    store.open_partition()
    return store


def items_of(cloud: Cloud, tenant_id: str) -> dict[str, dict[str, Any]]:
    found = boto3.client("dynamodb").query(
        TableName=cloud.settings.app_table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
    )["Items"]
    return {item["SK"]["S"]: item for item in found}


def seed_user(store: TenantStore, user_id: str) -> None:
    store.commit(Transaction().put(keys.item_sk(keys.USER, user_id), {"userId": user_id}), None)


def seed_group(store: TenantStore, group_id: str) -> None:
    store.commit(Transaction().put(keys.item_sk(keys.GROUP, group_id), {"groupId": group_id}), None)


def seed_dashboard(store: TenantStore, dashboard_id: str, owner: str) -> None:
    item = {"dashboardId": dashboard_id, "ownerId": owner, "name": dashboard_id}
    store.commit(Transaction().put(keys.item_sk(keys.DASHBOARD, dashboard_id), item), None)


def caller(user_id: str, role: str = "member", tenant_id: str = "t1") -> TenantContext:
    return TenantContext(tenant_id, user_id, role, "PRO")


def test_a_transaction_writes_every_item_and_its_audit_item(cloud: Cloud, client: CountingClient) -> None:
    store = store_of(cloud, client)
    tx = Transaction().put("GROUP#g1", {"name": "a"}).put("GROUPNAME#a", {"ownerId": "g1"})
    store.commit(tx, Change("group.create", "GROUP#g1"))
    items = items_of(cloud, "t1")
    assert items["GROUP#g1"]["name"] == {"S": "a"}
    assert items["GROUPNAME#a"]["ownerId"] == {"S": "g1"}
    audits = [item for sk, item in items.items() if sk.startswith("AUDIT#")]
    assert [a["action"]["S"] for a in audits] == ["group.create"]
    assert audits[0]["actorUserId"] == {"S": "u-admin"}


def test_a_refused_write_raises_its_own_refusal_and_writes_nothing(
    cloud: Cloud, client: CountingClient
) -> None:
    store = store_of(cloud, client)
    seed_group(store, "g1")
    before = items_of(cloud, "t1")
    seen: list[Any] = []

    def refusal(old: dict[str, Any] | None) -> Exception:
        seen.append(old)
        return ValueTakenError("GROUP_NAME_TAKEN", "taken")

    tx = Transaction().put("GROUP#g2", {"name": "b"}).put("GROUP#g1", {"name": "x"}, on_fail=refusal)
    with pytest.raises(ValueTakenError):
        store.commit(tx, Change("group.create", "GROUP#g2"))
    assert seen == [{"groupId": "g1"}]  # the item as it was (ALL_OLD), without its keys
    assert items_of(cloud, "t1") == before
    with pytest.raises(ConflictError):  # no refusal named: a plain conflict
        store.commit(Transaction().update("GROUP#missing", "SET a = :a", values={":a": 1}), None)


def test_every_write_is_pinned_to_the_stores_partition(cloud: Cloud, client: CountingClient) -> None:
    other = store_of(cloud, client, "t2")
    seed_group(other, "g1")
    mine = store_of(cloud, client, "t1")
    with pytest.raises(ConflictError):  # t1 has no g1: the update cannot reach t2's
        mine.commit(Transaction().update("GROUP#g1", "SET hacked = :h", values={":h": True}), None)
    assert "hacked" not in items_of(cloud, "t2")["GROUP#g1"]


def test_a_closed_partition_refuses_every_transaction(cloud: Cloud, client: CountingClient) -> None:
    store = store_of(cloud, client)
    boto3.client("dynamodb").delete_item(
        TableName=cloud.settings.app_table_name, Key={"PK": {"S": "TENANT#t1"}, "SK": {"S": "PARTITION"}}
    )
    with pytest.raises(TenantInactiveError):
        store.commit(Transaction().put("GROUP#g1", {}), None)


def test_transactions_over_the_limit_are_refused_before_any_call(
    cloud: Cloud, client: CountingClient
) -> None:
    store = store_of(cloud, client)
    tx = Transaction()
    for i in range(99):
        tx.put(f"GROUP#g{i}", {})
    client.calls.clear()
    with pytest.raises(ValueError, match="over DynamoDB's 100"):
        store.commit(tx, None)
    assert client.calls == []


def test_get_items_reads_only_what_exists_in_one_call_per_hundred_keys(
    cloud: Cloud, client: CountingClient
) -> None:
    store = store_of(cloud, client)
    for i in range(3):
        seed_group(store, f"g{i}")
    client.calls.clear()
    found = store.get_items([f"GROUP#g{i}" for i in range(150)])
    assert sorted(found) == ["GROUP#g0", "GROUP#g1", "GROUP#g2"]
    assert found["GROUP#g1"] == {"groupId": "g1"}
    assert client.calls == ["batch_get_item", "batch_get_item"]
    client.calls.clear()
    assert store.get_items([]) == {}
    assert client.calls == []


def test_a_prefix_query_pages_newest_first_and_its_cursor_stays_in_the_prefix(
    cloud: Cloud, client: CountingClient
) -> None:
    store = store_of(cloud, client)
    for day in range(1, 6):
        sk = keys.dashboard_by_owner_sk("u1", f"2026-12-0{day}", f"d{day}")
        store.commit(Transaction().put(sk, {"dashboardId": f"d{day}"}), None)
    store.commit(
        Transaction().put(keys.dashboard_by_owner_sk("u2", NOW, "other"), {"dashboardId": "x"}), None
    )
    prefix = keys.dashboards_by_owner_prefix("u1")
    first = store.query(prefix, limit=2, cursor=None, newest_first=True)
    assert [i["dashboardId"] for i in first.items] == ["d5", "d4"]
    second = store.query(prefix, limit=2, cursor=first.next_cursor, newest_first=True)
    assert [i["dashboardId"] for i in second.items] == ["d3", "d2"]
    third = store.query(prefix, limit=2, cursor=second.next_cursor, newest_first=True)
    assert [i["dashboardId"] for i in third.items] == ["d1"]
    assert third.next_cursor is None
    with pytest.raises(InvalidRequestError):  # a cursor of one owner's listing is not another's
        store.query(
            keys.dashboards_by_owner_prefix("u2"), limit=2, cursor=first.next_cursor, newest_first=True
        )


def test_query_items_reads_after_a_key_and_up_to_a_limit(cloud: Cloud, client: CountingClient) -> None:
    store = store_of(cloud, client)
    seed_user(store, "u1")
    for g in ("a", "b", "c", "d"):
        seed_group(store, g)
        store.commit(graph.add_member_writes(Transaction(), g, "u1", NOW, "admin"), None)
    prefix = keys.member_of_prefix("u1")
    assert [i["groupId"] for i in store.query_items(prefix)] == ["a", "b", "c", "d"]
    assert [i["groupId"] for i in store.query_items(prefix, after=prefix + "b", limit=1)] == ["c"]
    assert [i["groupId"] for i in store.query_items(prefix, limit=3)] == ["a", "b", "c"]


def test_memberships_are_both_ways_counted_and_refused_for_unknown_users_and_groups(
    cloud: Cloud, client: CountingClient
) -> None:
    store = store_of(cloud, client)
    seed_user(store, "u1")
    seed_group(store, "g1")
    store.commit(
        graph.add_member_writes(Transaction(), "g1", "u1", NOW, "admin"),
        Change("group.member.add", "GROUP#g1"),
    )
    items = items_of(cloud, "t1")
    assert "MEMBER#g1#u1" in items
    assert "MEMBEROF#u1#g1" in items
    assert items["GROUP#g1"]["memberCount"] == {"N": "1"}
    assert items["USER#u1"]["groupCount"] == {"N": "1"}
    with pytest.raises(ValueTakenError) as taken:
        store.commit(graph.add_member_writes(Transaction(), "g1", "u1", NOW, "admin"), None)
    assert taken.value.code == "ALREADY_MEMBER"
    with pytest.raises(ValidationFailedError):
        store.commit(graph.add_member_writes(Transaction(), "g1", "nobody", NOW, "admin"), None)
    with pytest.raises(NotFoundError):
        store.commit(graph.add_member_writes(Transaction(), "nogroup", "u1", NOW, "admin"), None)
    store.commit(graph.remove_member_writes(Transaction(), "g1", "u1"), None)
    items = items_of(cloud, "t1")
    assert "MEMBER#g1#u1" not in items
    assert "MEMBEROF#u1#g1" not in items
    assert items["GROUP#g1"]["memberCount"] == {"N": "0"}
    assert items["USER#u1"]["groupCount"] == {"N": "0"}
    with pytest.raises(NotFoundError):
        store.commit(graph.remove_member_writes(Transaction(), "g1", "u1"), None)


def test_a_user_belongs_to_at_most_the_groups_one_batch_read_resolves(
    cloud: Cloud, client: CountingClient
) -> None:
    store = store_of(cloud, client)
    seed_user(store, "u1")
    store.commit(
        Transaction().update("USER#u1", "SET groupCount = :n", values={":n": MAX_GROUPS_PER_USER}), None
    )
    seed_group(store, "g1")
    with pytest.raises(LimitReachedError):
        store.commit(graph.add_member_writes(Transaction(), "g1", "u1", NOW, "admin"), None)


def share(
    store: TenantStore, dashboard: str, owner: str, kind: TargetType, target: str, permission: str
) -> None:
    tx = Transaction()
    graph.add_share_writes(tx, dashboard, owner, kind, target, Permission(permission), NOW)
    store.commit(tx, Change("share.create", f"DASHBOARD#{dashboard}"))


def test_resolution_takes_two_calls_whatever_the_groups_and_shares(
    cloud: Cloud, client: CountingClient
) -> None:
    store = store_of(cloud, client)
    for user in ("owner", "u1", "u2", "admin"):
        seed_user(store, user)
    seed_dashboard(store, "d1", "owner")
    access = DashboardAccess(store)
    client.calls.clear()
    with pytest.raises(NotFoundError):
        access.resolve("d1", caller("u1"))
    assert client.calls == ["query", "batch_get_item"]
    for i in range(40):
        seed_group(store, f"g{i}")
        store.commit(graph.add_member_writes(Transaction(), f"g{i}", "u1", NOW, "admin"), None)
        share(store, "d1", "owner", TargetType.GROUP, f"g{i}", "viewer")
    share(store, "d1", "owner", TargetType.USER, "u2", "editor")
    client.calls.clear()
    assert access.resolve("d1", caller("u1")).permission is Permission.VIEWER
    assert client.calls == ["query", "batch_get_item"]
    assert access.resolve("d1", caller("u2")).permission is Permission.EDITOR
    assert access.resolve("d1", caller("owner")).permission is Permission.OWNER
    assert access.resolve("d1", caller("admin", "admin")).permission is Permission.VIEWER
    with pytest.raises(NotFoundError):
        access.resolve("d1", caller("stranger"))
    with pytest.raises(NotFoundError):  # the same ids in another tenant's partition: nothing
        DashboardAccess(store_of(cloud, client, "t2")).resolve("d1", caller("u1", tenant_id="t2"))


def test_removing_a_member_takes_away_the_groups_share_at_once(cloud: Cloud, client: CountingClient) -> None:
    store = store_of(cloud, client)
    for user in ("owner", "u1"):
        seed_user(store, user)
    seed_group(store, "g1")
    seed_dashboard(store, "d1", "owner")
    store.commit(graph.add_member_writes(Transaction(), "g1", "u1", NOW, "admin"), None)
    share(store, "d1", "owner", TargetType.GROUP, "g1", "editor")
    access = DashboardAccess(store)
    assert access.resolve("d1", caller("u1")).permission is Permission.EDITOR
    store.commit(graph.remove_member_writes(Transaction(), "g1", "u1"), None)
    with pytest.raises(NotFoundError):
        access.resolve("d1", caller("u1"))


def test_shares_are_both_ways_and_only_the_owner_shares_to_existing_targets(
    cloud: Cloud, client: CountingClient
) -> None:
    store = store_of(cloud, client)
    for user in ("owner", "u1"):
        seed_user(store, user)
    seed_dashboard(store, "d1", "owner")
    share(store, "d1", "owner", TargetType.USER, "u1", "viewer")
    items = items_of(cloud, "t1")
    assert items["SHARE#d1#user#u1"]["permission"] == {"S": "viewer"}
    assert items["SHARED#user#u1#d1"]["shareId"] == {"S": "user:u1"}
    with pytest.raises(ValueTakenError) as exists:
        share(store, "d1", "owner", TargetType.USER, "u1", "editor")
    assert exists.value.code == "SHARE_EXISTS"
    with pytest.raises(NotFoundError):  # no longer (or never) the owner
        share(store, "d1", "u1", TargetType.USER, "owner", "editor")
    with pytest.raises(ValidationFailedError):
        share(store, "d1", "owner", TargetType.GROUP, "nogroup", "viewer")
    tx = Transaction()
    graph.change_share_writes(tx, "d1", "owner", TargetType.USER, "u1", Permission.EDITOR, 1, NOW)
    store.commit(tx, None)
    items = items_of(cloud, "t1")
    assert items["SHARE#d1#user#u1"]["permission"] == {"S": "editor"}
    assert items["SHARED#user#u1#d1"]["permission"] == {"S": "editor"}
    assert items["SHARE#d1#user#u1"]["version"] == {"N": "2"}


def test_sweeps_remove_both_halves_of_every_edge(cloud: Cloud, client: CountingClient) -> None:
    store = store_of(cloud, client)
    for user in ("owner", "u1", "u2"):
        seed_user(store, user)
    seed_group(store, "g1")
    for dashboard in ("d1", "d2"):
        seed_dashboard(store, dashboard, "owner")
        share(store, dashboard, "owner", TargetType.GROUP, "g1", "viewer")
        share(store, dashboard, "owner", TargetType.USER, "u1", "viewer")
    for user in ("u1", "u2"):
        store.commit(graph.add_member_writes(Transaction(), "g1", user, NOW, "admin"), None)
    assert graph.remove_shares_to(store, TargetType.GROUP, "g1") == 2
    assert graph.remove_group_members(store, "g1") == 2
    assert graph.remove_shares_of(store, "d1") == 1
    assert graph.remove_user_memberships(store, "u1") == 0
    items = items_of(cloud, "t1")
    left = sorted(sk for sk in items if sk.startswith(("SHARE", "MEMBER")))
    assert left == ["SHARE#d2#user#u1", "SHARED#user#u1#d2"]
    assert items["USER#u1"]["groupCount"] == {"N": "0"}
    assert items["USER#u2"]["groupCount"] == {"N": "0"}
    assert graph.remove_shares_to(store, TargetType.GROUP, "g1") == 0  # idempotent


def test_share_ids_name_their_target(cloud: Cloud) -> None:
    assert graph.share_id(TargetType.GROUP, "g1") == "group:g1"
    assert graph.parse_share_id("user:u-1") == (TargetType.USER, "u-1")
    for bad in ("u1", "team:x", "user:", "user:a#b"):
        with pytest.raises(NotFoundError):
            graph.parse_share_id(bad)
