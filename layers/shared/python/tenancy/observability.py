"""Logger, metrics and tracer shared by every function; `bind_tenant` tags all three with tenant_id.

The service name comes from POWERTOOLS_SERVICE_NAME (set per function by the deployer).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

METRICS_NAMESPACE = "Tenancy"

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)
tracer = Tracer()

__all__ = ["MetricUnit", "bind_tenant", "count", "logger", "metrics", "tracer"]


def bind_tenant(tenant_id: str, *, dimension: bool = True) -> None:
    """Carry tenant_id on every log line, as a metric dimension and as a trace annotation.

    Batch consumers pass dimension=False (one flush covers many tenants) and use `count` instead.
    """
    logger.append_keys(tenant_id=tenant_id)
    tracer.put_annotation(key="tenant_id", value=tenant_id)
    if dimension:
        metrics.add_dimension(name="tenant_id", value=tenant_id)


def count(name: str, tenant_id: str | None = None) -> None:
    """One metric point, with its own tenant_id dimension when given (safe inside batches)."""
    if tenant_id is None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        return
    from aws_lambda_powertools.metrics import single_metric

    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE) as metric:
        metric.add_dimension(name="tenant_id", value=tenant_id)
