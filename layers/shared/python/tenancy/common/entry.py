"""The one decorator every Lambda handler wears: the four it composes, in the order that matters.

Outermost first: the garbage collector resumes after the first event (`coldstart`), the logger
injects the Lambda context (and a correlation id where the trigger has one) with fresh keys per
invocation, metrics are flushed when the handler returns, and the tracer's segment covers the
handler alone (its response is never captured: it may hold tenant data).
"""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event

from collections.abc import Callable
from typing import Any, TypeVar, cast

from tenancy.common.observability import logger, metrics, tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])


def lambda_entry(*, correlation_id_path: str | None = None) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        traced = tracer.capture_lambda_handler(capture_response=False)(handler)
        measured = metrics.log_metrics(traced)
        logged = logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(
            measured
        )
        return collector_resumes_after_first_event(cast(Handler, logged))

    return decorate
