"""The OpenAPI documents are generated from the code: every topology route is in them."""

from __future__ import annotations

import pytest

from localcloud.runtime import FunctionRuntime
from tenancy_infra.topology import FUNCTIONS, ApiTrigger


@pytest.mark.parametrize(
    "spec", [s for s in FUNCTIONS if isinstance(s.trigger, ApiTrigger)], ids=lambda s: s.name
)
def test_every_route_is_documented(spec: object) -> None:
    trigger = spec.trigger  # type: ignore[attr-defined]
    document = FunctionRuntime().module(spec.name).app.get_openapi_schema(title=spec.name)  # type: ignore[attr-defined]
    paths = document.paths or {}
    documented = {
        (method.upper(), path)
        for path, item in paths.items()
        for method in ("get", "post", "patch", "delete")
        if getattr(item, method)
    }
    expected = {(route.method, route.path) for route in trigger.routes}
    assert documented == expected
