"""Scheduled: re-drive tenants whose lifecycle request was lost, fail those whose result never came."""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event  # noqa: F401 (first: pauses the GC)

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.common.clients import client
from tenancy.common.config import get_settings
from tenancy.common.entry import lambda_entry
from tenancy.contracts.publisher import EventPublisher
from tenancy.control.reconciler import reconcile
from tenancy.control.store import ControlStore


@lambda_entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    report = reconcile(
        ControlStore(client("dynamodb"), settings.control_table_name),
        EventPublisher(client("events"), settings.event_bus_name, settings.control_plane_source),
        redrive_after=timedelta(seconds=settings.reconciler_redrive_after_seconds),
        fail_after=timedelta(seconds=settings.reconciler_fail_after_seconds),
    )
    return {"redriven": report.redriven, "timedOut": report.timed_out}
