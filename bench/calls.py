"""AWS calls per request, through botocore's event hooks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.client import BaseClient


class CallCounter:
    """Counts every AWS API call made by any client created after install()."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def install(self) -> None:
        import botocore.session

        original = botocore.session.Session.create_client
        counter = self

        # The replacement method: `self` is the botocore session (named as in the method it replaces).
        def create_client(
            self: botocore.session.Session, service_name: str, *args: Any, **kwargs: Any
        ) -> BaseClient:
            client = original(self, service_name, *args, **kwargs)
            client.meta.events.register("before-call", counter._count)
            return client

        # Patching botocore itself: every client any code creates from now on is counted.
        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def measure(self, action: Callable[[], Any]) -> Counter[str]:
        before = self.calls.copy()
        action()
        return self.calls - before
