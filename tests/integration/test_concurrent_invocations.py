"""Concurrent invocations in one process (the local cloud's runtime) never see each other's request."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud


def test_concurrent_creates_each_answer_their_own_request(api: ApiClient, cloud: Cloud) -> None:
    """Powertools keeps the event being resolved on a class; concurrent invocations used to read each
    other's body: one client got another's tenant, another a 409 for a slug nobody had taken."""
    slugs = [f"tenant-{i:02d}" for i in range(24)]

    def create(slug: str) -> tuple[str, int, str | None]:
        response = api.post(
            "/tenants", {"name": slug, "slug": slug, "tier": "FREE", "adminEmail": f"a@{slug}.example"}
        )
        return slug, response.status, (response.data["slug"] if response.status == 201 else None)

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(create, slugs))
    assert answers == [(slug, 201, slug) for slug in slugs]
    stored = sorted(i["slug"] for i in cloud.control_items() if i["SK"] == "METADATA")
    assert stored == slugs
