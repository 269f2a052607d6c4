"""TenantOnboarding/TenantOffboarding -> pool or silo resources -> TenantProvisioned/TenantDeprovisioned."""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event  # noqa: F401 (first: pauses the GC)

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.application.access.routing import RouteStore
from tenancy.application.provisioning import Deadline, Ledger, Provisioner
from tenancy.application.provisioning.silo import SiloStacks
from tenancy.application.users.directory import UserDirectory
from tenancy.common.clients import LazyClient
from tenancy.common.config import get_settings
from tenancy.common.entry import lambda_entry
from tenancy.common.observability import bind_tenant
from tenancy.contracts.envelopes import TenantLifecycleEvent
from tenancy.contracts.publisher import EventPublisher


@lru_cache(maxsize=1)
def provisioner() -> Provisioner:
    settings = get_settings()
    return Provisioner(
        settings=settings,
        s3=LazyClient("s3"),
        dynamodb=LazyClient("dynamodb"),
        routes=RouteStore(LazyClient("ssm"), settings.app_name, settings.stage),
        stacks=SiloStacks(
            LazyClient("cloudformation"), settings.silo_template_url, settings.silo_stack_role_arn
        ),
        publisher=EventPublisher(
            LazyClient("events"), settings.event_bus_name, settings.application_plane_source
        ),
        users=UserDirectory(LazyClient("cognito-idp"), settings.user_pool_id),
        ledger=Ledger(LazyClient("dynamodb"), settings.app_table_name),
        secretsmanager=LazyClient("secretsmanager"),
    )


@lambda_entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = TenantLifecycleEvent.model_validate(event)
    bind_tenant(request.detail.tenant_id)
    settings = get_settings()
    deadline = Deadline(
        context.get_remaining_time_in_millis,
        settings.provisioner_safety_margin_seconds,
        settings.provisioner_poll_seconds,
    )
    # OperationInProgress (another invocation works on the tenant) propagates: the invocation fails
    # having done nothing, and Lambda's asynchronous retry delivers the request again later.
    result = provisioner().handle(request.detail_type, request.detail, deadline, context.aws_request_id)
    if isinstance(result, str):  # a stale request, ignored
        return {"ignored": result}
    return {"detailType": result.detail_type, "detail": result.detail.model_dump(by_alias=True, mode="json")}
