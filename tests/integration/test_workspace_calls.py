"""AWS calls per request of the workspace's dashboard reads, counted through botocore's event hooks
(every client any code makes: the authorizer's, the limiter's, the route's), with 0, 10 and 98
groups and shares.

`GET /dashboards/{dashboardId}` by a member who is not the dashboard's owner, holding a direct viewer
share, a member of N groups (N = 0, 10, 98 = MAX_GROUPS_PER_USER), each group holding a share of the
dashboard (one editor's), and N // 10 other users holding one too:

- the route alone (API Gateway's cached authorization, as between two requests of one token):
  3 DynamoDB calls at every N: the limiter's UpdateItem (usage table), the resolution's consistent
  Query of the caller's memberships and one consistent BatchGetItem of the dashboard, the caller's
  share and each of the caller's groups' shares (2 + N keys, 100 at most);
- with the authorizer run for the request (no cache): 4 DynamoDB calls, its GetItem of the caller's
  user item besides those 3 (its JWKS is cached in the function, and an HTTP fetch, not an AWS call).

The same calls, whatever N. `GET /dashboards/{dashboardId}/filter-views` is the same resolution and
one Query of the views: 4 calls behind a cached authorization at every N.
`GET /shared-with-me` is not flat, by design (the spec): 1 Query of the caller's groups, then one
Query per target (the caller and each group) and one BatchGetItem of the page's dashboards, besides
the limiter's UpdateItem: 3 + N + 1 calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest

from localcloud.apigateway import AuthorizerCache
from tenancy.application.sharing import graph
from tenancy.application.sharing.permissions import MAX_GROUPS_PER_USER, Permission, TargetType
from tenancy.application.store import keys
from tenancy.application.store.transaction import Transaction
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud, reset_process_caches
from tests.helpers.workspace_seeds import CREATED, seed_group, tenant_store
from tests.integration.conftest import admin_of, token_for

LEVELS = (0, 10, MAX_GROUPS_PER_USER)
ROUTE_CALLS = {"dynamodb:BatchGetItem": 1, "dynamodb:Query": 1, "dynamodb:UpdateItem": 1}


class Calls:
    """Every AWS call made through a client created while counting, as `service:Operation`."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def count(self, model: Any, **_: Any) -> None:
        self.seen[f"{model.service_model.service_name}:{model.name}"] += 1

    def during(self, action: Callable[[], Any]) -> tuple[Any, Counter[str]]:
        before = self.seen.copy()
        result = action()
        return result, self.seen - before


@pytest.fixture
def calls(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    counted = Calls()
    original = botocore.session.Session.create_client

    def create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        made = original(self, *args, **kwargs)
        made.meta.events.register("before-call", counted.count)
        return made

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    reset_process_caches()  # the functions' cached clients are made again, counted
    yield counted
    monkeypatch.undo()
    reset_process_caches()


@pytest.fixture
def world(cloud: Cloud, app: ApiClient, onboard: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """acme: its admin owns dashboard `Sales` (made through the route) and shares it with `reader`."""
    tenant = onboard("acme", "PRO")
    admin = admin_of(cloud, app, "acme")
    created = admin.post("/users", {"email": "reader@acme.example", "role": "member"})
    assert created.status == 201, created.body
    dashboard = admin.post("/dashboards", {"name": "Sales"})
    assert dashboard.status == 201, dashboard.body
    dashboard_id = dashboard.data["dashboardId"]
    share = {"targetType": "user", "targetId": created.data["userId"], "permission": "viewer"}
    assert admin.post(f"/dashboards/{dashboard_id}/shares", share).status == 201
    return {
        "tenant": tenant,
        "admin_id": admin.get("/me").data["userId"],
        "reader_id": created.data["userId"],
        "reader_token": token_for(cloud, "reader@acme.example"),
        "dashboard_id": dashboard_id,
        "groups": 0,
        "users": 0,
    }


def grow(cloud: Cloud, world: dict[str, Any], level: int) -> None:
    """Up to `level` groups of the reader, each with a share of the dashboard (the first an
    editor's), and level // 10 other users with a share each."""
    store = tenant_store(cloud, world["tenant"])
    dashboard_id, owner = world["dashboard_id"], world["admin_id"]
    for n in range(world["groups"], level):
        group_id = f"g{n:03}"
        seed_group(store, group_id, world["reader_id"])
        permission = Permission.EDITOR if n == 0 else Permission.VIEWER
        tx = Transaction()
        graph.add_share_writes(tx, dashboard_id, owner, TargetType.GROUP, group_id, permission, CREATED)
        store.commit(tx, None)
    for n in range(world["users"], level // 10):
        user_id = f"other-{n:02}"
        store.commit(Transaction().put(keys.item_sk(keys.USER, user_id), {"userId": user_id}), None)
        tx = Transaction()
        graph.add_share_writes(tx, dashboard_id, owner, TargetType.USER, user_id, Permission.VIEWER, CREATED)
        store.commit(tx, None)
    world["groups"], world["users"] = level, level // 10


def test_a_dashboard_read_makes_the_same_calls_whatever_the_groups_and_shares(
    cloud: Cloud, app: ApiClient, world: dict[str, Any], calls: Calls
) -> None:
    path = f"/dashboards/{world['dashboard_id']}"
    uncached = app.as_user(world["reader_token"])
    cached = ApiClient(cloud.runtime, "app_api", world["reader_token"], AuthorizerCache(ttl_seconds=3600))
    found: dict[int, dict[str, Counter[str]]] = {}
    for level in LEVELS:
        grow(cloud, world, level)
        assert uncached.get(path).status == 200  # warm: the tenant's credentials, the token's keys
        cached.get(path)  # the authorization kept from here on
        answer, with_authorizer = calls.during(lambda: uncached.get(path))
        assert answer.status == 200, answer.body
        assert answer.data["myPermission"] == ("editor" if level else "viewer")
        answer, route_alone = calls.during(lambda: cached.get(path))
        assert answer.status == 200, answer.body
        found[level] = {"with_authorizer": with_authorizer, "route": route_alone}
    for level in LEVELS:
        assert dict(found[level]["route"]) == ROUTE_CALLS, level
        assert dict(found[level]["with_authorizer"]) == {**ROUTE_CALLS, "dynamodb:GetItem": 1}, level
    assert found[0] == found[10] == found[MAX_GROUPS_PER_USER]


def test_filter_views_are_one_query_besides_the_same_resolution(
    cloud: Cloud, app: ApiClient, world: dict[str, Any], calls: Calls
) -> None:
    path = f"/dashboards/{world['dashboard_id']}/filter-views"
    cached = ApiClient(cloud.runtime, "app_api", world["reader_token"], AuthorizerCache(ttl_seconds=3600))
    for level in (0, MAX_GROUPS_PER_USER):
        grow(cloud, world, level)
        assert cached.get(path).status == 200
        answer, route_alone = calls.during(lambda: cached.get(path))
        assert answer.status == 200, answer.body
        assert dict(route_alone) == {**ROUTE_CALLS, "dynamodb:Query": 2}, level


def test_shared_with_me_makes_one_query_per_group(
    cloud: Cloud, app: ApiClient, world: dict[str, Any], calls: Calls
) -> None:
    cached = ApiClient(cloud.runtime, "app_api", world["reader_token"], AuthorizerCache(ttl_seconds=3600))
    for level in (0, 10):
        grow(cloud, world, level)
        assert cached.get("/shared-with-me").status == 200
        answer, route_alone = calls.during(lambda: cached.get("/shared-with-me"))
        assert answer.status == 200, answer.body
        assert [d["dashboardId"] for d in answer.data] == [world["dashboard_id"]]  # once, at its highest
        assert answer.data[0]["myPermission"] == ("editor" if level else "viewer")
        assert dict(route_alone) == {
            "dynamodb:UpdateItem": 1,
            "dynamodb:Query": 1 + 1 + level,  # the caller's groups; the caller's shares; each group's
            "dynamodb:BatchGetItem": 1,
        }, level
