"""Where a dataset's objects live, relative to the tenant's prefix (`tenants/<tenantId>/`, pool and
silo alike; tenancy.application.access.tenant_objects) — the only place these keys are spelled.

    datasets/<datasetId>/uploads/<uploadId>.csv                       what a client uploaded
    datasets/<datasetId>/imports/<uploadId>/data/part-0000.parquet    the data of one import
    datasets/<datasetId>/imports/<uploadId>/partitions/<column>=<value>/part-0000.parquet
    datasets/<datasetId>/imports/<uploadId>/preview.json              its first rows, for /preview

Every upload (a new file, or a re-import, which copies the current source to a new upload) gets a
new `uploadId`, and its import writes under its own `imports/<uploadId>/`. The dataset item names
the import readers use (`importId`) and its files; an import switches it in one conditional write
after every file is written, then deletes the previous import's files. A reader thus sees the old
data or the new, never half of either. (The brief's `datasets/<id>/data/...` gains the
`imports/<uploadId>/` level for exactly this.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from tenancy.common.keys import checked_id

DATASETS = "datasets"
UPLOADS = "uploads"
IMPORTS = "imports"
UPLOAD_SUFFIX = ".csv"
PREVIEW = "preview.json"
PART = "part-0000.parquet"

# The full object key of an upload: tenants/<tenantId>/datasets/<datasetId>/uploads/<uploadId>.csv
_UPLOAD_KEY = re.compile(
    r"^tenants/(?P<tenant>[^/]+)/datasets/(?P<dataset>[^/]+)/uploads/(?P<upload>[^/]+)\.csv$"
)


def dataset_prefix(dataset_id: str) -> str:
    return f"{DATASETS}/{checked_id(dataset_id, 'datasetId')}/"


def upload_key(dataset_id: str, upload_id: str) -> str:
    return f"{dataset_prefix(dataset_id)}{UPLOADS}/{checked_id(upload_id, 'uploadId')}{UPLOAD_SUFFIX}"


def import_prefix(dataset_id: str, upload_id: str) -> str:
    return f"{dataset_prefix(dataset_id)}{IMPORTS}/{checked_id(upload_id, 'uploadId')}/"


def data_key(dataset_id: str, upload_id: str) -> str:
    return f"{import_prefix(dataset_id, upload_id)}data/{PART}"


def partition_value_segment(value: str | None) -> str:
    """A partition value as one key segment: percent-encoded (Hive style), `__null__` for null."""
    if value is None:
        return "__null__"
    return quote(value, safe="") or "__empty__"


def partition_key(dataset_id: str, upload_id: str, column: str, value: str | None) -> str:
    column_segment = quote(column, safe="")
    return (
        f"{import_prefix(dataset_id, upload_id)}partitions/"
        f"{column_segment}={partition_value_segment(value)}/{PART}"
    )


def preview_key(dataset_id: str, upload_id: str) -> str:
    return f"{import_prefix(dataset_id, upload_id)}{PREVIEW}"


@dataclass(frozen=True)
class UploadRef:
    tenant_id: str
    dataset_id: str
    upload_id: str


def parse_upload_key(key: str) -> UploadRef | None:
    """The upload a full object key names, or None for any other key (an S3 event for an object
    that is not an upload is ignored)."""
    match = _UPLOAD_KEY.fullmatch(key)
    if match is None:
        return None
    try:
        return UploadRef(
            checked_id(match["tenant"], "tenantId"),
            checked_id(match["dataset"], "datasetId"),
            checked_id(match["upload"], "uploadId"),
        )
    except ValueError:
        return None
