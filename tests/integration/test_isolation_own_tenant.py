"""The control of the isolation matrix (test_isolation.py): every route it refuses on another
tenant's resource works on the caller's own, so the 404s there are isolation, not a broken route.

These tests write (a DELETE deletes, a PATCH changes), so each makes its own resources (a member, an
agent, a card...: only those its route names) in tenants onboarded once for the module; onboarding a
tenant takes seconds, making a resource milliseconds.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.helpers.isolation import ROUTE_IDS, ROUTES, TENANTS, Resources, admin_session, filled

_uses = itertools.count()


@pytest.fixture(scope="module")
def tenants(
    module_cloud: Cloud, module_app: ApiClient, module_onboard: Any
) -> dict[str, tuple[dict[str, Any], ApiClient, str]]:
    """Tenant A (pool) and tenant B (silo): each one's view, its admin and the admin's user id."""
    found = {}
    for slug, tier in TENANTS:
        tenant = module_onboard(slug, tier)
        found[slug] = (tenant, *admin_session(module_cloud, module_app, tenant))
    return found


@pytest.mark.parametrize("slug", [slug for slug, _ in TENANTS])
@pytest.mark.parametrize(("method", "template", "body"), ROUTES, ids=ROUTE_IDS)
def test_the_same_route_works_on_the_own_tenant(
    module_cloud: Cloud,
    tenants: dict[str, tuple[dict[str, Any], ApiClient, str]],
    slug: str,
    method: str,
    template: str,
    body: Any,
) -> None:
    tenant, admin, admin_id = tenants[slug]
    own = Resources(module_cloud, tenant, admin, admin_id, tag=f"use-{next(_uses)}")
    response = admin.request(method, template.format_map(own), filled(body, own))
    assert response.status in (200, 201, 204), response.body
