"""Names of things: event sources and detail-types, resources, SSM routes. Pure functions, no I/O."""

from __future__ import annotations

DEFAULT_APP_NAME = "tenancy"
DEFAULT_STAGE = "dev"

CONTROL_PLANE = "control-plane"
APPLICATION_PLANE = "application-plane"

ONBOARDING = "TenantOnboarding"
OFFBOARDING = "TenantOffboarding"
PROVISIONED = "TenantProvisioned"
DEPROVISIONED = "TenantDeprovisioned"


def event_source(app_name: str, plane: str) -> str:
    """`<app>.control-plane` or `<app>.application-plane`."""
    return f"{app_name}.{plane}"


def resource_name(app_name: str, stage: str, suffix: str) -> str:
    """`<app>-<stage>-<suffix>`: tables, bus, stacks."""
    return f"{app_name}-{stage}-{suffix}"


def silo_stack_name(app_name: str, stage: str, tenant_id: str) -> str:
    """The CloudFormation stack holding one silo tenant's dedicated resources."""
    return resource_name(app_name, stage, f"tenant-{tenant_id}")


def pool_prefix(tenant_id: str) -> str:
    """A pooled tenant's S3 prefix in the shared bucket."""
    return f"tenants/{tenant_id}/"


def route_path(app_name: str, stage: str, tenant_id: str) -> str:
    """SSM path holding a tenant's route: `/<app>/<stage>/tenants/<tenantId>/`."""
    return f"/{app_name}/{stage}/tenants/{tenant_id}/"
