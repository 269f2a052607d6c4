"""The analytics routes (function `analytics_api`): card execution, preview and dashboard render."""

from __future__ import annotations

from tenancy.common import http

router = http.router()
