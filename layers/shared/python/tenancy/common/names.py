"""Names of things: event sources and detail-types, resources, SSM routes. Pure functions, no I/O."""

from __future__ import annotations

DEFAULT_APP_NAME = "tenancy"
DEFAULT_STAGE = "dev"
# What an app name and a stage may be: both end up in resource names and ARNs (checked by
# tenancy.common.config.Settings and by the CDK app).
APP_NAME_PATTERN = r"^[a-z][a-z0-9-]{1,20}$"
STAGE_PATTERN = r"^[a-z][a-z0-9-]{0,15}$"

# The CloudWatch metrics namespace every function publishes to.
METRICS_NAMESPACE = "Tenancy"

# `<app>-<stage>-<suffix>` resource names (resource_name below).
CONTROL_TABLE_SUFFIX = "control"
APP_TABLE_SUFFIX = "app"
IDEMPOTENCY_TABLE_SUFFIX = "idempotency"
USAGE_TABLE_SUFFIX = "usage"
EVENT_BUS_SUFFIX = "bus"
TENANT_ACCESS_ROLE_SUFFIX = "tenant-access"

CONTROL_PLANE = "control-plane"
APPLICATION_PLANE = "application-plane"

ONBOARDING = "TenantOnboarding"
OFFBOARDING = "TenantOffboarding"
PROVISIONED = "TenantProvisioned"
DEPROVISIONED = "TenantDeprovisioned"
# Every change of a tenant (name, tier, overrides, status), with the fields that changed.
UPDATED = "TenantUpdated"


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


# A tenant's SSM service discovery parameters, beside its route under route_path (kept by
# tenancy.application.discovery from TenantUpdated; the CDK grants exactly these names).
DISCOVERY_STATUS = "provisioning-status"
DISCOVERY_ERROR = "provisioning-error"
DISCOVERY_TIER = "tier"
DISCOVERY_CONFIG = "config"
# The record the others are kept from: JSON of the tenant's version and those values.
DISCOVERY_STATE = "state"
DISCOVERY_PARAMETERS = (
    DISCOVERY_STATUS,
    DISCOVERY_ERROR,
    DISCOVERY_TIER,
    DISCOVERY_CONFIG,
    DISCOVERY_STATE,
)


def platform_parameter(app_name: str, stage: str, name: str) -> str:
    """SSM name of a platform parameter: `/<app>/<stage>/platform/<name>`."""
    return f"/{app_name}/{stage}/platform/{name}"
