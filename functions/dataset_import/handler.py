"""S3 Object Created (EventBridge) for `tenants/<t>/datasets/<d>/uploads/<u>.csv` -> the dataset's
import: CSV to Parquet in the tenant's storage and the item READY or FAILED, all as the tenant."""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event  # noqa: F401 (first: pauses the GC)

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.application.access.tenant_data import TenantData
from tenancy.application.datasets.importer import DatasetImporter
from tenancy.common.config import get_settings
from tenancy.common.entry import lambda_entry


@lru_cache(maxsize=1)
def importer() -> DatasetImporter:
    return DatasetImporter(TenantData.from_settings(get_settings()))


@lambda_entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return importer().handle(event, context.aws_request_id)
