"""Datasets written straight into a tenant's partition (and, when asked, their objects into its
storage), for tests of what uses them (cards, previews, deletes) without running an import."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tenancy.application.datasets import layout
from tenancy.application.store import keys, kinds
from tenancy.application.store.engine import Change, TenantStore

COLUMNS = [
    {"name": "region", "type": "string", "nullable": False},
    {"name": "amount", "type": "int64", "nullable": True},
]
ROWS = [{"region": "EU", "amount": 10}, {"region": "US", "amount": None}, {"region": "APAC", "amount": 4}]


def seed_dataset(
    store: TenantStore, dataset_id: str, owner_id: str = "seed", **attributes: Any
) -> dict[str, Any]:
    """A READY dataset as an import leaves it (import `imp-<datasetId>`, its files, preview and
    source named on the item), created through the store's counted kind (so the `datasets` counter
    holds it); `attributes` override any of it."""
    import_id = f"imp-{dataset_id}"
    item = {
        "datasetId": dataset_id,
        "ownerId": owner_id,
        "name": f"dataset {dataset_id}",
        "description": "",
        "hasHeader": True,
        "delimiter": ",",
        "encoding": "utf-8",
        "status": "READY",
        "uploadId": import_id,
        "importId": import_id,
        "dataVersion": 1,
        "rowCount": len(ROWS),
        "columnCount": len(COLUMNS),
        "columns": COLUMNS,
        "sizeBytes": 100,
        "sourceBytes": 40,
        "importedAt": "2026-12-03T10:00:00.000Z",
        "files": [layout.data_key(dataset_id, import_id)],
        "sourceKey": layout.upload_key(dataset_id, import_id),
        "maxBytes": 1024,
        "uploadExpiresAt": 0,
        **attributes,
    }
    return store.create(
        kinds.DATASET, dataset_id, item, Change("dataset.create", keys.item_sk(keys.DATASET, dataset_id))
    )


def seed_dataset_objects(bucket: str, tenant_id: str, item: dict[str, Any]) -> list[str]:
    """The objects `item` names (its files, its preview with ROWS, its source), written under the
    tenant's prefix of `bucket`; their full keys."""
    s3, prefix = boto3.client("s3"), f"tenants/{tenant_id}/"
    dataset_id, import_id = str(item["datasetId"]), str(item["importId"])
    preview = {"columns": item["columns"], "rows": ROWS, "totalRows": len(ROWS)}
    bodies = {key: b"PAR1" for key in item["files"]}
    bodies[layout.preview_key(dataset_id, import_id)] = json.dumps(preview).encode()
    bodies[str(item["sourceKey"])] = b"region,amount\nEU,10\nUS,\nAPAC,4\n"
    for relative, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=prefix + relative, Body=body)
    return [prefix + relative for relative in bodies]


def bucket_of(tenant: dict[str, Any], pool_bucket: str) -> str:
    """The tenant's bucket: its own (silo) or the pool's."""
    return str(tenant["resources"].get("dedicatedBucket") or pool_bucket)
