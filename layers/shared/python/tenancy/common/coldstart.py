"""Cold-start tuning: every handler imports this module first (ruff's isort keeps it there).

A cold start allocates hundreds of thousands of objects that live as long as the execution
environment (modules, classes, pydantic schemas, botocore service models) and frees almost none of
them, yet the cyclic garbage collector walks them again and again while they are made: about a tenth
of the cold start. So the collector is off from this import until the first event has been handled.
Then `gc.freeze()` moves everything built so far out of its sight for good (no later collection
walks it either) and the collector is switched back on. Reference counting frees memory as usual
meanwhile; only reference cycles wait for the collector, and the few that the cold start leaves
unreachable (a few hundred objects after importing a handler) are frozen with the rest, never freed:
a once-per-environment cost, against a collection that would take longer than the pause saves.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])

# Only in an execution environment (Lambda, and its emulators such as SAM local, set the runtime API
# address): the tests and `make dev` import many handlers into one long-lived process, where the
# collector must keep running.
_paused = "AWS_LAMBDA_RUNTIME_API" in os.environ and gc.isenabled()
if _paused:
    gc.disable()


def collector_resumes_after_first_event(handler: Handler) -> Handler:
    """Decorate the Lambda handler (outermost): the first invocation, returning or raising, ends
    the cold start for the collector."""

    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            if _paused:
                resume_collector()

    return invoke  # type: ignore[return-value]


def resume_collector() -> None:
    """Freeze what the cold start built (no collection walks it again) and resume collecting."""
    global _paused
    _paused = False
    gc.freeze()
    gc.enable()
