"""Logger, metrics and tracer shared by every function; `bind_tenant` tags all three with tenant_id.

The service name comes from POWERTOOLS_SERVICE_NAME (set per function by the deployer).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from tenancy.common.names import METRICS_NAMESPACE

Handler = TypeVar("Handler", bound=Callable[..., Any])


class LazyTracer:
    """Powertools' Tracer, created only where tracing is on. The X-Ray SDK costs hundreds of
    milliseconds of cold start to import, and Powertools imports it even to disable tracing; where
    tracing is off (tests, the local cloud, POWERTOOLS_TRACE_DISABLED) it is never loaded."""

    def __init__(self) -> None:
        self._tracer: Any = None

    @staticmethod
    def enabled() -> bool:
        disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true", "yes", "on")
        in_lambda = "AWS_LAMBDA_FUNCTION_NAME" in os.environ and "AWS_SAM_LOCAL" not in os.environ
        return in_lambda and not disabled

    def _real(self) -> Any:
        if self._tracer is None:
            from aws_lambda_powertools import Tracer

            self._tracer = Tracer()
        return self._tracer

    def capture_lambda_handler(self, capture_response: bool = False) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            if not self.enabled():
                return handler
            return self._real().capture_lambda_handler(handler, capture_response=capture_response)  # type: ignore[no-any-return]

        return decorate

    def put_annotation(self, key: str, value: str) -> None:
        if self.enabled():
            self._real().put_annotation(key=key, value=value)


logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)
tracer = LazyTracer()

__all__ = ["MetricUnit", "bind_tenant", "count", "logger", "measure", "metrics", "tracer"]


def bind_tenant(tenant_id: str) -> None:
    """Carry tenant_id on every log line and as a trace annotation of this invocation.

    Metrics carry it as a dimension through `count`, one metric point at a time: a shared
    dimension set would outlive the request (and a batch covers many tenants).
    """
    logger.append_keys(tenant_id=tenant_id)
    tracer.put_annotation(key="tenant_id", value=tenant_id)


def measure(name: str, value: float, unit: MetricUnit, tenant_id: str | None = None) -> None:
    """One metric point of any unit, with a tenant_id dimension when given (as `count`)."""
    if tenant_id is None:
        metrics.add_metric(name=name, unit=unit, value=value)
        return
    with single_metric(name=name, unit=unit, value=value, namespace=METRICS_NAMESPACE) as metric:
        metric.add_dimension(name="tenant_id", value=tenant_id)


def count(name: str, tenant_id: str | None = None) -> None:
    """One Count metric point, with a tenant_id dimension when given."""
    if tenant_id is None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE) as metric:
        metric.add_dimension(name="tenant_id", value=tenant_id)
