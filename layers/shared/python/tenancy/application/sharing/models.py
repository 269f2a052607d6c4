"""Dashboard shares: request bodies and the views the API answers with."""

from __future__ import annotations

from typing import Any, Literal

from tenancy.application.sharing.permissions import Permission, TargetType
from tenancy.common.fields import IdRef, Request, Version, Versioned

# What a share grants: never `owner` (a dashboard has one owner; `PATCH /dashboards/{id}` moves it).
SharedPermission = Literal["editor", "viewer"]


class CreateShareRequest(Request):
    targetType: TargetType
    targetId: IdRef
    permission: SharedPermission


class UpdateShareRequest(Request):
    permission: SharedPermission
    version: Version


class Share(Versioned):
    shareId: str  # `<targetType>:<targetId>`: one share per dashboard and target
    dashboardId: str
    targetType: TargetType
    targetId: str
    permission: SharedPermission


# The fields of a dashboard that `GET /shared-with-me` shows (a summary: no layout, no filters).
SUMMARY_FIELDS = ("dashboardId", "name", "description", "ownerId", "version", "createdAt", "updatedAt")


class SharedDashboard(Versioned):
    """A dashboard shared with the caller (directly or through a group), as `GET /shared-with-me`
    lists it, with the highest permission the caller holds on it."""

    dashboardId: str
    name: str
    description: str = ""
    ownerId: str
    myPermission: Permission

    @classmethod
    def of(cls, dashboard: dict[str, Any], permission: Permission) -> SharedDashboard:
        fields = {name: dashboard[name] for name in SUMMARY_FIELDS if name in dashboard}
        return cls.model_validate({**fields, "myPermission": permission})
