"""The groups routes of the app API (`/groups`, `/groups/{groupId}/members`)."""

from __future__ import annotations

from tenancy.common import http

router = http.router()
