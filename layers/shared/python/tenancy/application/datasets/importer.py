"""A dataset's import (work in progress)."""

from __future__ import annotations

from typing import Any

import duckdb  # noqa: F401

from tenancy.application.access.tenant_data import TenantData


class DatasetImporter:
    def __init__(self, data: TenantData) -> None:
        self.data = data

    def handle(self, event: dict[str, Any], request_id: str) -> dict[str, Any]:
        raise NotImplementedError
