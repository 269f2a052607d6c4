"""The dashboards routes of the app API (`/dashboards`, clone, filter views)."""

from __future__ import annotations

from tenancy.common import http

router = http.router()
