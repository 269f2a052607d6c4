"""Permission resolution of a dashboard (the seeds' model): owner → owner; else the highest of the
caller's direct share and their groups' shares (owner > editor > viewer); a tenant admin reads every
dashboard (at least viewer); no permission is a 404, like a dashboard that does not exist."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import pytest

from tenancy.application.sharing.permissions import (
    Access,
    DashboardAccess,
    Permission,
    TargetType,
    highest,
    resolve,
)
from tenancy.application.store import keys
from tenancy.common.errors import Forbidden, NotFoundError
from tenancy.contracts.context import TenantContext

V, E, OWN = Permission.VIEWER, Permission.EDITOR, Permission.OWNER

# The group shares a caller may hold: none, one viewer, one editor, several mixed (a group without
# a share on this dashboard reads as None).
GROUPS: dict[str, list[Permission | None]] = {
    "no groups": [],
    "groups without shares": [None, None],
    "one viewer group": [V],
    "one editor group": [E],
    "mixed groups": [V, None, E, V],
    "viewer groups": [V, V, None],
}
DIRECT: list[Permission | None] = [None, V, E]

# What a member who is not the owner holds, written out case by case (not computed).
EXPECTED: dict[tuple[Permission | None, str], Permission | None] = {
    (None, "no groups"): None,
    (None, "groups without shares"): None,
    (None, "one viewer group"): V,
    (None, "one editor group"): E,
    (None, "mixed groups"): E,
    (None, "viewer groups"): V,
    (V, "no groups"): V,
    (V, "groups without shares"): V,
    (V, "one viewer group"): V,
    (V, "one editor group"): E,
    (V, "mixed groups"): E,
    (V, "viewer groups"): V,
    (E, "no groups"): E,
    (E, "groups without shares"): E,
    (E, "one viewer group"): E,
    (E, "one editor group"): E,
    (E, "mixed groups"): E,
    (E, "viewer groups"): E,
}
CASES = list(itertools.product([True, False], DIRECT, list(GROUPS), [True, False]))


@pytest.mark.parametrize(
    ("is_owner", "direct", "groups", "is_admin"),
    CASES,
    ids=[f"{'owner' if o else 'other'}-direct:{d}-{g}-{'admin' if a else 'member'}" for o, d, g, a in CASES],
)
def test_resolve_every_combination(
    is_owner: bool, direct: Permission | None, groups: str, is_admin: bool
) -> None:
    found = resolve(
        caller_id="u1",
        is_admin=is_admin,
        owner_id="u1" if is_owner else "u2",
        direct=direct,
        via_groups=GROUPS[groups],
    )
    if is_owner:
        assert found is OWN  # whatever the shares and the role
    elif is_admin:
        assert found is (EXPECTED[direct, groups] or V)  # an admin reads every dashboard
    else:
        assert found is EXPECTED[direct, groups]


def test_resolve_takes_the_stored_strings() -> None:
    assert resolve(caller_id="u1", is_admin=False, owner_id="u2", direct="viewer", via_groups=["editor"]) is E
    assert resolve(caller_id="u1", is_admin=False, owner_id="u2") is None
    with pytest.raises(ValueError, match="'admin' is not a valid Permission"):
        resolve(caller_id="u1", is_admin=False, owner_id="u2", direct="admin")


def test_a_removed_membership_or_deleted_group_takes_away_what_its_share_gave() -> None:
    """Resolution is given the shares of the groups the caller belongs to *now*: once a membership
    is removed (or the group deleted, its memberships and shares swept) its share is not among them."""
    before = resolve(caller_id="u1", is_admin=False, owner_id="u2", direct=V, via_groups=[E, None])
    after = resolve(caller_id="u1", is_admin=False, owner_id="u2", direct=V, via_groups=[None])
    assert (before, after) == (E, V)
    only_group = resolve(caller_id="u1", is_admin=False, owner_id="u2", via_groups=[E])
    removed = resolve(caller_id="u1", is_admin=False, owner_id="u2", via_groups=[])
    assert (only_group, removed) == (E, None)
    # an admin keeps reading, no more
    assert resolve(caller_id="u1", is_admin=True, owner_id="u2", via_groups=[]) is V


@pytest.mark.parametrize(
    ("permissions", "expected"),
    [
        ([], None),
        ([None, None], None),
        ([None, ""], None),
        ([V], V),
        ([E, V], E),
        ([V, None, E], E),
        ([V, OWN, E], OWN),
        (["viewer", "editor"], E),
        ((p for p in [V, E, OWN]), OWN),  # any iterable, read once
    ],
)
def test_highest(permissions: Iterable[Permission | str | None], expected: Permission | None) -> None:
    assert highest(permissions) is expected


def test_permissions_are_ordered_viewer_editor_owner() -> None:
    allowed = {(held, needed) for held in Permission for needed in Permission if held.allows(needed)}
    assert allowed == {(V, V), (E, V), (E, E), (OWN, V), (OWN, E), (OWN, OWN)}
    assert [p.rank for p in (V, E, OWN)] == [1, 2, 3]


def test_access_require_refuses_less_than_needed_with_a_403_that_says_why() -> None:
    dashboard = {"dashboardId": "d1", "ownerId": "u2"}
    viewer = Access(dashboard, V)
    with pytest.raises(Forbidden) as refused:
        viewer.require(E, "change its layout")
    assert refused.value.status_code == 403
    assert refused.value.code == "FORBIDDEN"
    assert (
        refused.value.message
        == "only a dashboard's editor or above may change its layout; you are its viewer"
    )
    with pytest.raises(
        Forbidden, match="only a dashboard's owner or above may delete it; you are its editor"
    ):
        Access(dashboard, E).require(OWN, "delete it")
    assert viewer.require(V, "read it") is viewer
    assert Access(dashboard, OWN).require(OWN, "delete it").permission is OWN


# --- DashboardAccess over a store: which items it reads, and how it answers -----------------------


class FakeStore:
    """The two reads resolution makes, over a dict of items by sort key; every call recorded."""

    def __init__(self, items: dict[str, dict[str, Any]]) -> None:
        self.items = items
        self.calls: list[tuple[str, Any]] = []

    def query_items(
        self, prefix: str, *, after: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        self.calls.append(("query_items", (prefix, limit)))
        found = [{**item, "SK": sk} for sk, item in sorted(self.items.items()) if sk.startswith(prefix)]
        return found[:limit]

    def get_items(self, sks: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(sks)
        self.calls.append(("get_items", wanted))
        return {sk: self.items[sk] for sk in wanted if sk in self.items}


def caller(user_id: str = "u1", role: str = "member") -> TenantContext:
    return TenantContext("t1", user_id, role, "PRO")


def member_of(user_id: str, group_id: str) -> dict[str, dict[str, Any]]:
    return {keys.member_of_sk(user_id, group_id): {"groupId": group_id, "userId": user_id}}


def share(
    dashboard_id: str, kind: TargetType, target: str, permission: Permission
) -> dict[str, dict[str, Any]]:
    return {keys.share_sk(dashboard_id, kind, target): {"permission": str(permission)}}


DASHBOARD = {keys.item_sk(keys.DASHBOARD, "d1"): {"dashboardId": "d1", "ownerId": "owner"}}


def access_of(store: FakeStore) -> DashboardAccess:
    return DashboardAccess(store)  # type: ignore[arg-type]  # the two reads it makes


def test_resolution_reads_the_callers_groups_then_one_batch_of_the_dashboard_and_their_shares() -> None:
    store = FakeStore(
        {
            **DASHBOARD,
            **member_of("u1", "g1"),
            **member_of("u1", "g2"),
            **member_of("u9", "g3"),  # another user's group
            **share("d1", TargetType.GROUP, "g2", E),
            **share("d1", TargetType.GROUP, "g3", E),
            **share("d1", TargetType.USER, "u1", V),
        }
    )
    access = access_of(store).resolve("d1", caller())
    assert access.permission is E
    assert access.dashboard == {"dashboardId": "d1", "ownerId": "owner"}
    assert store.calls == [
        ("query_items", ("MEMBEROF#u1#", 98)),
        ("get_items", ["DASHBOARD#d1", "SHARE#d1#user#u1", "SHARE#d1#group#g1", "SHARE#d1#group#g2"]),
    ]


def test_a_dashboard_without_permission_is_the_same_404_as_none() -> None:
    store = FakeStore({**DASHBOARD, **share("d1", TargetType.USER, "u2", E)})
    with pytest.raises(NotFoundError) as hidden:
        access_of(store).resolve("d1", caller())
    with pytest.raises(NotFoundError) as missing:
        access_of(store).resolve("d2", caller())
    assert hidden.value.message == "dashboard d1 not found"
    assert missing.value.message == "dashboard d2 not found"
    with pytest.raises(NotFoundError):  # no permission: 404 before any 403
        access_of(store).require("d1", caller(), OWN, "delete it")
    with pytest.raises(NotFoundError):  # nor does an admin see a dashboard that does not exist
        access_of(store).resolve("d2", caller("admin", "admin"))
    assert access_of(store).resolve("d1", caller("admin", "admin")).permission is V
    assert access_of(store).resolve("d1", caller("owner")).permission is OWN


def test_require_is_403_for_a_reader_without_enough() -> None:
    store = FakeStore({**DASHBOARD, **member_of("u1", "g1"), **share("d1", TargetType.GROUP, "g1", V)})
    with pytest.raises(Forbidden, match="you are its viewer"):
        access_of(store).require("d1", caller(), E, "change its layout")
    assert access_of(store).require("d1", caller(), V, "read it").permission is V


def test_a_removed_membership_no_longer_grants_what_its_group_was_given() -> None:
    items = {**DASHBOARD, **member_of("u1", "g1"), **share("d1", TargetType.GROUP, "g1", E)}
    store = FakeStore(items)
    assert access_of(store).resolve("d1", caller()).permission is E
    del items[keys.member_of_sk("u1", "g1")]  # removed from the group; the group's share stays
    with pytest.raises(NotFoundError):
        access_of(store).resolve("d1", caller())
    items.update(share("d1", TargetType.USER, "u1", V))  # what a direct share gives stays
    assert access_of(store).resolve("d1", caller()).permission is V


def test_a_deleted_group_grants_nothing_from_its_first_sweep_on() -> None:
    items = {
        **DASHBOARD,
        **member_of("u1", "g1"),
        **member_of("u1", "g2"),
        **share("d1", TargetType.GROUP, "g1", E),
        **share("d1", TargetType.GROUP, "g2", V),
    }
    store = FakeStore(items)
    assert access_of(store).resolve("d1", caller()).permission is E
    # deleting g1 sweeps the shares to it first (their by-dashboard items, which resolution reads)
    del items[keys.share_sk("d1", TargetType.GROUP, "g1")]
    assert access_of(store).resolve("d1", caller()).permission is V
    # then its memberships: g2's share still gives what it gave
    del items[keys.member_of_sk("u1", "g1")]
    assert access_of(store).resolve("d1", caller()).permission is V
    del items[keys.share_sk("d1", TargetType.GROUP, "g2")]
    with pytest.raises(NotFoundError):
        access_of(store).resolve("d1", caller())


def test_listing_permissions_skip_the_owners_dashboards_and_resolve_the_rest() -> None:
    d2 = {"dashboardId": "d2", "ownerId": "u1"}
    d3 = {"dashboardId": "d3", "ownerId": "owner"}
    store = FakeStore(
        {
            **DASHBOARD,
            **member_of("u1", "g1"),
            **share("d1", TargetType.GROUP, "g1", E),
            **share("d3", TargetType.USER, "u1", V),
        }
    )
    found = access_of(store).permissions([DASHBOARD["DASHBOARD#d1"], d2, d3], caller())
    assert found == {"d1": E, "d2": OWN, "d3": V}
    assert store.calls[-1] == (
        "get_items",
        ["SHARE#d1#user#u1", "SHARE#d1#group#g1", "SHARE#d3#user#u1", "SHARE#d3#group#g1"],
    )
    store.calls.clear()
    assert access_of(store).permissions([d3], caller(), groups=[]) == {"d3": V}
    assert [name for name, _ in store.calls] == ["get_items"]  # groups given: no query
    assert access_of(store).permissions([d3], caller("u5"), groups=[]) == {"d3": None}
