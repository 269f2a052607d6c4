"""The sharing routes of the app API (`/dashboards/{id}/shares`, `/shared-with-me`)."""

from __future__ import annotations

from tenancy.common import http

router = http.router()
