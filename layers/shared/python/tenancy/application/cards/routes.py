"""The cards routes of the app API (`/cards`)."""

from __future__ import annotations

from tenancy.common import http

router = http.router()
