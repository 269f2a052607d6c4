"""Logger, metrics and tracer shared by every function; `bind_tenant` tags all three with tenant_id.

The service name comes from POWERTOOLS_SERVICE_NAME (set per function by the deployer).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

METRICS_NAMESPACE = "Tenancy"

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)
tracer = Tracer()

__all__ = ["MetricUnit", "bind_tenant", "count", "logger", "metrics", "tracer"]


def bind_tenant(tenant_id: str) -> None:
    """Carry tenant_id on every log line and as a trace annotation of this invocation.

    Metrics carry it as a dimension through `count`, one metric point at a time: a shared
    dimension set would outlive the request (and a batch covers many tenants).
    """
    logger.append_keys(tenant_id=tenant_id)
    tracer.put_annotation(key="tenant_id", value=tenant_id)


def count(name: str, tenant_id: str | None = None) -> None:
    """One Count metric point, with a tenant_id dimension when given."""
    if tenant_id is None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE) as metric:
        metric.add_dimension(name="tenant_id", value=tenant_id)
