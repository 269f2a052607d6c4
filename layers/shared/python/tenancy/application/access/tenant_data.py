"""A tenant's data, reached as that tenant: its route (SSM, TTL-cached) and clients with credentials
scoped to it (STS session tag `TenantId`, cached until near expiry). The app API and the
authorizer both open a tenant's store this way; each execution environment holds one. Metered
creates (executions) are counted in the usage table, in the same transaction, as the tenant."""

from __future__ import annotations

from tenancy.application.access.credentials import TenantCredentials
from tenancy.application.access.routing import Router, RouteStore
from tenancy.application.access.tenant_objects import TenantObjects
from tenancy.application.store.engine import Actor, TenantStore
from tenancy.common.clients import client, client_with_credentials
from tenancy.common.config import Settings


class TenantData:
    def __init__(
        self, router: Router, credentials: TenantCredentials, usage_table: str | None = None
    ) -> None:
        self.router = router
        self.credentials = credentials
        self.usage_table = usage_table

    @classmethod
    def from_settings(cls, settings: Settings) -> TenantData:
        routes = RouteStore(client("ssm"), settings.app_name, settings.stage)
        return cls(
            Router(routes, settings.route_cache_seconds),
            TenantCredentials(client("sts"), settings.tenant_access_role_arn, client_with_credentials),
            settings.usage_table_name,
        )

    def store(self, tenant_id: str, actor: Actor) -> TenantStore:
        """The store bound to `tenant_id`, in its own table (pool or silo), as the tenant."""
        route = self.router.resolve(tenant_id)
        dynamodb = self.credentials.client("dynamodb", tenant_id)
        return TenantStore(dynamodb, route.table_name, tenant_id, actor, usage_table=self.usage_table)

    def objects(self, tenant_id: str) -> TenantObjects:
        """The tenant's objects under `tenants/<tenantId>/` of its bucket (pool or silo), as the tenant."""
        route = self.router.resolve(tenant_id)
        s3 = self.credentials.client("s3", tenant_id)
        return TenantObjects(s3, route.bucket, route.prefix)
