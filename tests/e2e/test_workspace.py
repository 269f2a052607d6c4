"""The BI workspace through the local cloud (`python -m localcloud`, as `make dev` starts it), over
HTTP with real tokens: an admin and a member of one tenant, a group, a dashboard with a card shared
to the group as viewer, the member's read, shared-with-me and clone, the membership revoked (the
next read of the original is a 404, the clone stays the member's), and another tenant's user who
never reaches any of it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import RunningCloud
from tests.e2e.test_app_plane import User, token
from tests.e2e.test_local_cloud import create, wait_for


@pytest.fixture(scope="module")
def tenants(cloud: RunningCloud) -> dict[str, Any]:
    api = cloud.client()
    made = {slug: create(api, slug, "PRO") for slug in ("ws-one", "ws-two")}
    for tenant in made.values():
        assert (
            wait_for(api, tenant["tenantId"], {"PROVISIONED", "FAILED"})["provisioningStatus"]
            == "PROVISIONED"
        )
    return made


def test_a_group_share_a_clone_and_a_revoked_membership(cloud: RunningCloud, tenants: dict[str, Any]) -> None:
    admin = User(cloud.client(), token(cloud, "ws-one", "a@ws-one.example"))
    added = admin("POST", "/users", {"email": "member@ws-one.example", "role": "member"})
    assert added.status == 201, added.body
    member_id = added.body["data"]["userId"]
    member = User(cloud.client(), token(cloud, "ws-one", "member@ws-one.example"))
    assert member("GET", "/me").body["data"]["userId"] == member_id

    # a group with the member in it (admins manage groups; a member may not)
    assert member("POST", "/groups", {"name": "Analysts"}).status == 403
    group = admin("POST", "/groups", {"name": "Analysts", "description": "the analysts"})
    assert group.status == 201, group.body
    group_id = group.body["data"]["groupId"]
    joined = admin("POST", f"/groups/{group_id}/members", {"userId": member_id})
    assert joined.status == 201, joined.body
    assert (joined.body["data"]["groupId"], joined.body["data"]["userId"]) == (group_id, member_id)
    assert admin("GET", f"/groups/{group_id}").body["data"]["memberCount"] == 1
    members = admin("GET", f"/groups/{group_id}/members").body["data"]
    assert [m["userId"] for m in members] == [member_id]

    # the admin's dashboard, with a card on it
    card = admin("POST", "/cards", {"name": "Revenue", "code": "select sum(amount) from sales"})
    assert card.status == 201, card.body
    card_id = card.body["data"]["cardId"]
    layout = {"columns": 12, "items": [{"cardId": card_id, "x": 0, "y": 0, "w": 6, "h": 4}]}
    made = admin("POST", "/dashboards", {"name": "Sales", "layout": layout})
    assert made.status == 201, made.body
    dashboard = made.body["data"]
    dashboard_id = dashboard["dashboardId"]
    assert dashboard["myPermission"] == "owner"
    assert member("GET", f"/dashboards/{dashboard_id}").status == 404  # not shared yet: as if none

    # shared with the group as viewer: the member reads it through the membership
    share = admin(
        "POST",
        f"/dashboards/{dashboard_id}/shares",
        {"targetType": "group", "targetId": group_id, "permission": "viewer"},
    )
    assert share.status == 201, share.body
    assert share.body["data"]["shareId"] == f"group:{group_id}"
    read = member("GET", f"/dashboards/{dashboard_id}")
    assert read.status == 200, read.body
    assert read.body["data"]["myPermission"] == "viewer"
    assert read.body["data"]["name"] == "Sales"
    assert [item["cardId"] for item in read.body["data"]["layout"]["items"]] == [card_id]
    # the card is readable through the dashboard that holds it, not on its own
    assert member("GET", f"/cards/{card_id}?dashboardId={dashboard_id}").status == 200
    assert member("GET", f"/cards/{card_id}").status == 404
    shared = member("GET", "/shared-with-me")
    assert shared.status == 200, shared.body
    assert [(d["dashboardId"], d["myPermission"]) for d in shared.body["data"]] == [(dashboard_id, "viewer")]
    assert shared.body["pagination"]["has_next"] is False
    # a viewer reads; it neither changes nor shares the dashboard
    renamed = member(
        "PATCH", f"/dashboards/{dashboard_id}", {"name": "Mine", "version": read.body["data"]["version"]}
    )
    assert renamed.status == 403, renamed.body
    assert (
        member(
            "POST",
            f"/dashboards/{dashboard_id}/shares",
            {"targetType": "user", "targetId": member_id, "permission": "editor"},
        ).status
        == 403
    )

    # the member's own copy
    cloned = member("POST", f"/dashboards/{dashboard_id}/clone", {})
    assert cloned.status == 201, cloned.body
    clone = cloned.body["data"]
    clone_id = clone["dashboardId"]
    assert clone_id != dashboard_id
    assert (clone["ownerId"], clone["myPermission"], clone["name"]) == (member_id, "owner", "Sales (copy)")
    # the admin's card is not the member's to place: the clone holds the member's own copy of it
    [copy_id] = [item["cardId"] for item in clone["layout"]["items"]]
    assert copy_id != card_id
    copy = member("GET", f"/cards/{copy_id}").body["data"]
    assert (copy["ownerId"], copy["copiedFrom"], copy["code"]) == (
        member_id,
        card_id,
        "select sum(amount) from sales",
    )
    assert [d["dashboardId"] for d in member("GET", "/dashboards").body["data"]] == [clone_id]
    # the original is on the original dashboard only: it cannot be deleted, and the refusal names it
    refused = admin("DELETE", f"/cards/{card_id}")
    assert (refused.status, refused.body["error"]["code"]) == (409, "CARD_IN_USE")
    assert [d["dashboardId"] for d in refused.body["error"]["details"]["dashboards"]] == [dashboard_id]

    # the membership revoked: the next read of the original is a 404 at once; the clone stays
    assert admin("DELETE", f"/groups/{group_id}/members/{member_id}").status == 204
    gone = member("GET", f"/dashboards/{dashboard_id}")
    assert gone.status == 404, gone.body
    assert member("GET", f"/cards/{card_id}?dashboardId={dashboard_id}").status == 404
    assert member("GET", "/shared-with-me").body["data"] == []
    kept = member("GET", f"/dashboards/{clone_id}")
    assert kept.status == 200, kept.body
    # the clone is no way back to the original card: only to the member's own copy
    assert member("GET", f"/cards/{card_id}?dashboardId={clone_id}").status == 404
    assert member("GET", f"/cards/{copy_id}?dashboardId={clone_id}").status == 200
    assert (kept.body["data"]["ownerId"], kept.body["data"]["myPermission"]) == (member_id, "owner")
    assert admin("GET", f"/groups/{group_id}").body["data"]["memberCount"] == 0
    # the admin still sees both: the original as its owner, the member's clone as a tenant admin
    assert admin("GET", f"/dashboards/{dashboard_id}").body["data"]["myPermission"] == "owner"
    assert admin("GET", f"/dashboards/{clone_id}").body["data"]["myPermission"] == "viewer"

    # another tenant's user reaches none of it: each is a 404 like a dashboard never made
    other = User(cloud.client(), token(cloud, "ws-two", "a@ws-two.example"))
    assert other("GET", "/me").body["data"]["role"] == "admin"  # even their tenant's admin
    elsewhere: list[tuple[str, str, Any]] = [
        ("GET", f"/dashboards/{dashboard_id}", None),
        ("GET", f"/dashboards/{clone_id}", None),
        ("POST", f"/dashboards/{dashboard_id}/clone", {}),
        ("GET", f"/dashboards/{dashboard_id}/shares", None),
        ("GET", f"/dashboards/{dashboard_id}/shares/group:{group_id}", None),
        ("DELETE", f"/dashboards/{dashboard_id}", None),
        ("GET", f"/groups/{group_id}", None),
        ("GET", f"/cards/{card_id}", None),
        ("GET", f"/cards/{card_id}?dashboardId={dashboard_id}", None),
    ]
    for method, path, body in elsewhere:
        answer = other(method, path, body)
        assert answer.status == 404, (method, path, answer.body)
    assert other("GET", "/shared-with-me").body["data"] == []
    assert other("GET", "/dashboards").body["data"] == []
    assert admin("GET", f"/dashboards/{dashboard_id}").status == 200  # and nothing of ws-one changed
