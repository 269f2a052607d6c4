"""The tenant-scoped application API: one router per domain (users, agents, executions, audit,
configuration, secrets, usage, and the BI workspace: groups, dashboards, cards, sharing, datasets).

The tenant comes only from the authorizer's context (the verified token). Every data call goes
through a store bound to that tenant, with credentials scoped to it by IAM (LeadingKeys); the
routers are given both through Powertools' dependency injection (`tenancy.application.access.dependencies`).
"""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event  # noqa: F401 (first: pauses the GC)

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.application.access import request_metrics
from tenancy.application.agents.routes import router as agents
from tenancy.application.audit.routes import router as audit
from tenancy.application.cards.routes import router as cards
from tenancy.application.configuration.routes import router as configuration
from tenancy.application.dashboards.routes import router as dashboards
from tenancy.application.datasets.routes import router as datasets
from tenancy.application.executions.routes import router as executions
from tenancy.application.groups.routes import router as groups
from tenancy.application.quotas import middleware as quotas
from tenancy.application.quotas.routes import router as usage
from tenancy.application.secrets.routes import router as secrets
from tenancy.application.sharing.routes import router as sharing
from tenancy.application.users.routes import router as users
from tenancy.common import http
from tenancy.common.entry import lambda_entry

app = http.RestResolver(enable_validation=True)
http.install(app)
request_metrics.install(app)  # first: refused and failed requests are measured too
quotas.install(app)  # every request is counted against its tenant's limits before its route runs
for router in (
    users,
    agents,
    executions,
    audit,
    configuration,
    secrets,
    usage,
    groups,
    dashboards,
    cards,
    sharing,
    datasets,
):
    app.include_router(router)


@lambda_entry(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)
