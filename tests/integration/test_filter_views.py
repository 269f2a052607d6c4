"""Filter views through the app API: any reader of a dashboard saves one, its values must name the
dashboard's filters with the right shape, only its creator or the dashboard's owner changes or
deletes it, and deleting the default view clears the dashboard's default in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tenancy.application.sharing.permissions import Permission
from tenancy.application.store import keys
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.integration.test_dashboards import (
    FILTERS,
    Workspace,
    create,
    dashboard_sk,
    make_workspace,
    refused,
)

SINGLE = {"filterId": "tier", "type": "category", "column": "tier", "label": "Tier", "options": []}
EU_JANUARY = {"region": ["EU"], "period": {"from": "2026-01-01", "to": "2026-01-31"}}


@pytest.fixture
def acme(cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]]) -> Workspace:
    """alice's dashboard `sales` with FILTERS and a single-select `tier`; bob a viewer, carol an
    editor; the admin a tenant admin without a share."""
    world = make_workspace(cloud, app, onboard, "acme")
    world.ids["sales"] = create(world.alice, "Sales", filters=[*FILTERS, SINGLE])["dashboardId"]
    world.share(world.ids["sales"], "bob", Permission.VIEWER)
    world.share(world.ids["sales"], "carol", Permission.EDITOR)
    return world


def views_url(acme: Workspace, view_id: str | None = None) -> str:
    return f"/dashboards/{acme.ids['sales']}/filter-views" + (f"/{view_id}" if view_id else "")


def test_a_reader_saves_lists_and_reads_views(acme: Workspace) -> None:
    created = acme.bob.post(views_url(acme), {"name": "EU January", "values": EU_JANUARY})
    assert created.status == 201, created.body
    view = created.data
    assert (view["name"], view["values"], view["creatorId"], view["dashboardId"], view["version"]) == (
        "EU January",
        EU_JANUARY,
        acme.ids["bob"],
        acme.ids["sales"],
        1,
    )
    view_sk = keys.filter_view_sk(acme.ids["sales"], view["viewId"])
    assert set(acme.items("VIEW#")) == {view_sk}
    assert acme.audit()[-1] == ("filterView.create", view_sk)
    assert acme.bob.get(views_url(acme, view["viewId"])).data == view
    assert acme.admin.get(views_url(acme, view["viewId"])).data == view  # admins read every dashboard

    empty = acme.alice.post(views_url(acme), {"name": "everything"})
    assert (empty.status, empty.data["values"]) == (201, {})
    third = acme.carol.post(views_url(acme), {"name": "US", "values": {"region": ["US", "EU"]}}).data
    ids = sorted([view["viewId"], empty.data["viewId"], third["viewId"]])
    first = acme.bob.get(views_url(acme) + "?limit=2")
    assert [v["viewId"] for v in first.data] == ids[:2]
    cursor = first.body["pagination"]["next_cursor"]
    rest = acme.bob.get(views_url(acme) + f"?limit=2&cursor={cursor}")
    assert [v["viewId"] for v in rest.data] == ids[2:]
    assert rest.body["pagination"]["has_next"] is False

    refused(acme.bob.get(views_url(acme, "nope")), 404, "NOT_FOUND")
    refused(acme.bob.get(views_url(acme) + "?limit=101"), 422, "VALIDATION_ERROR", "limit")
    refused(acme.bob.get(views_url(acme) + "?cursor=garbage"), 400, "BAD_REQUEST")
    # the view of one dashboard is not found under another
    other = create(acme.alice, "Other")["dashboardId"]
    refused(acme.alice.get(f"/dashboards/{other}/filter-views/{view['viewId']}"), 404, "NOT_FOUND")


REFUSED_VALUES: list[tuple[dict[str, Any], str]] = [
    ({"nope": ["EU"]}, "values.nope"),  # not a filter of the dashboard
    ({"region": ["FR"]}, "values.region"),  # not among the options
    ({"region": ["EU", "EU"]}, "values.region"),
    ({"tier": ["gold", "silver"]}, "values.tier"),  # not multi-select
    ({"region": {"from": "2026-01-01", "to": "2026-01-02"}}, "values.region"),  # a range for a category
    ({"period": ["2026-01-01"]}, "values.period"),  # a list for a date range
    ({"period": {"from": "2026-02-30", "to": "2026-03-01"}}, "values.period.dateRange.from"),
    ({"period": {"from": "2026-03-01", "to": "2026-02-01"}}, "values.period.dateRange"),
    ({"period": {"from": "2026-03-01"}}, "values.period.dateRange.to"),
    ({"period": {"from": "2026-03-01", "to": "2026-03-02", "tz": "UTC"}}, "values.period.dateRange.tz"),
    ({"region": "EU"}, "values.region.category"),
    ({"region": [""]}, "values.region.category.0"),
    ({"a#b": ["EU"]}, "values.a#b.[key]"),
]


def test_values_must_fit_the_dashboards_filters(acme: Workspace) -> None:
    for values, field in REFUSED_VALUES:
        response = acme.bob.post(views_url(acme), {"name": "v", "values": values})
        assert response.status == 422, (values, response.body)
        assert field in [d["field"] for d in response.error["details"]], (values, response.error)
    refused(acme.bob.post(views_url(acme), {"values": {}}), 422, "VALIDATION_ERROR", "name")
    refused(acme.bob.post(views_url(acme), {"name": "v", "extra": 1}), 422, "VALIDATION_ERROR", "extra")
    assert acme.items("VIEW#") == {}
    # single-select with one value, and free values where a filter has no options
    ok = acme.bob.post(views_url(acme), {"name": "v", "values": {"tier": ["anything"]}})
    assert ok.status == 201, ok.body


def test_only_the_creator_or_the_owner_changes_a_view(acme: Workspace) -> None:
    view = acme.bob.post(views_url(acme), {"name": "mine", "values": EU_JANUARY}).data
    url = views_url(acme, view["viewId"])
    changed = acme.bob.patch(url, {"name": "renamed", "version": 1})
    assert (changed.status, changed.data["name"], changed.data["values"], changed.data["version"]) == (
        200,
        "renamed",
        EU_JANUARY,
        2,
    )
    assert acme.bob.get(url).data == changed.data
    view_sk = keys.filter_view_sk(acme.ids["sales"], view["viewId"])
    assert acme.audit()[-1] == ("filterView.update", view_sk)
    refused(
        acme.carol.patch(url, {"name": "x", "version": 2}), 403, "FORBIDDEN"
    )  # an editor, not its creator
    refused(acme.admin.patch(url, {"name": "x", "version": 2}), 403, "FORBIDDEN")
    refused(acme.carol.delete(url), 403, "FORBIDDEN")
    owner = acme.alice.patch(url, {"values": {"region": ["US"]}, "version": 2})
    assert (owner.status, owner.data["values"], owner.data["creatorId"]) == (
        200,
        {"region": ["US"]},
        acme.ids["bob"],
    )

    refused(acme.bob.patch(url, {"name": "late", "version": 2}), 409, "VERSION_CONFLICT")
    refused(acme.bob.patch(url, {"version": 3}), 400, "BAD_REQUEST")
    refused(acme.bob.patch(url, {"name": None, "version": 3}), 422, "VALIDATION_ERROR", "name")
    refused(
        acme.bob.patch(url, {"values": {"nope": []}, "version": 3}), 422, "VALIDATION_ERROR", "values.nope"
    )
    refused(acme.bob.patch(views_url(acme, "nope"), {"name": "x", "version": 1}), 404, "NOT_FOUND")
    assert acme.bob.get(url).data["version"] == 3

    assert acme.bob.delete(url).status == 204
    assert acme.items("VIEW#") == {}
    assert acme.audit()[-1] == ("filterView.delete", view_sk)
    refused(acme.bob.delete(url), 404, "NOT_FOUND")
    refused(acme.bob.get(url), 404, "NOT_FOUND")
    # the owner deletes anyone's view
    other = acme.carol.post(views_url(acme), {"name": "carol's"}).data
    assert acme.alice.delete(views_url(acme, other["viewId"])).status == 204


def test_deleting_the_default_view_clears_the_default(acme: Workspace) -> None:
    d = acme.ids["sales"]
    default = acme.bob.post(views_url(acme), {"name": "default", "values": EU_JANUARY}).data
    other = acme.bob.post(views_url(acme), {"name": "other"}).data
    chosen = acme.carol.patch(f"/dashboards/{d}", {"defaultFilterViewId": default["viewId"], "version": 1})
    assert (chosen.status, chosen.data["defaultFilterViewId"]) == (200, default["viewId"])

    assert acme.bob.delete(views_url(acme, other["viewId"])).status == 204
    kept = acme.alice.get(f"/dashboards/{d}").data
    assert (kept["defaultFilterViewId"], kept["version"]) == (default["viewId"], 2)  # untouched

    assert acme.bob.delete(views_url(acme, default["viewId"])).status == 204
    cleared = acme.alice.get(f"/dashboards/{d}").data
    assert "defaultFilterViewId" not in cleared
    assert cleared["version"] == 3
    assert acme.audit()[-1] == ("filterView.delete", keys.filter_view_sk(d, default["viewId"]))
    assert "defaultFilterViewId" not in acme.store.get_item(dashboard_sk(d))  # type: ignore[operator]


def test_views_need_a_permission_on_their_dashboard(acme: Workspace) -> None:
    view = acme.bob.post(views_url(acme), {"name": "v"}).data
    outsider = create(acme.alice, "Private")["dashboardId"]
    # carol has no share of `outsider`
    for method, path, body in (
        ("GET", f"/dashboards/{outsider}/filter-views", None),
        ("POST", f"/dashboards/{outsider}/filter-views", {"name": "x"}),
    ):
        refused(acme.carol.request(method, path, body), 404, "NOT_FOUND")
    refused(acme.bob.get(f"/dashboards/nope/filter-views/{view['viewId']}"), 404, "NOT_FOUND")
    # the dashboard deleted: its views went with it
    assert acme.alice.delete(f"/dashboards/{acme.ids['sales']}").status == 204
    refused(acme.bob.get(views_url(acme, view["viewId"])), 404, "NOT_FOUND")
    assert acme.items("VIEW#") == {}
