"""Pool isolation: a prefix in the shared bucket and a partition (`PK=TENANT#<id>`) in the shared table."""

from __future__ import annotations

import json
import time
from typing import Any

from tenancy.application.store import keys
from tenancy.common.dynamo import all_items, to_value
from tenancy.common.keys import tenant_pk
from tenancy.common.names import pool_prefix
from tenancy.common.timestamps import now_iso

MARKER = ".tenant.json"


def create_prefix(s3: Any, bucket: str, tenant_id: str) -> str:
    """Claim the tenant's prefix with a marker object (idempotent); returns the prefix."""
    prefix = pool_prefix(tenant_id)
    s3.put_object(
        Bucket=bucket,
        Key=prefix + MARKER,
        Body=json.dumps({"tenantId": tenant_id, "provisionedAt": now_iso()}).encode(),
        ContentType="application/json",
    )
    return prefix


def delete_prefix(s3: Any, bucket: str, prefix: str) -> int:
    """Delete every object under `prefix`; returns how many were deleted."""
    if not prefix.endswith("/") or prefix == "/":
        raise ValueError(f"refusing to purge {prefix!r}: a tenant prefix ends with '/'")
    deleted = 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if objects:
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            if response.get("Errors"):
                raise RuntimeError(f"could not delete {len(response['Errors'])} object(s) under {prefix}")
            deleted += len(objects)
    return deleted


def purge_partition(dynamodb: Any, table: str, tenant_id: str, max_attempts: int = 8) -> int:
    """Delete every item of the tenant's partition (exact `PK`, never a prefix); returns the count.

    The open-partition marker goes first: from then on every tenant write is refused (a request
    still carrying a cached authorization), so nothing lands behind the purge."""
    pk = tenant_pk(tenant_id)
    dynamodb.delete_item(TableName=table, Key={"PK": to_value(pk), "SK": to_value(keys.PARTITION)})
    deleted = 0
    query: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": to_value(pk)},
        "ProjectionExpression": "PK, SK",
        "ConsistentRead": True,
    }
    batch: list[dict[str, Any]] = []
    for item_key in all_items(dynamodb, query):
        batch.append(item_key)
        if len(batch) == 25:
            _batch_delete(dynamodb, table, batch, max_attempts)
            deleted, batch = deleted + len(batch), []
    if batch:
        _batch_delete(dynamodb, table, batch, max_attempts)
    return deleted + len(batch)


def _batch_delete(dynamodb: Any, table: str, item_keys: list[dict[str, Any]], max_attempts: int) -> None:
    requests: list[dict[str, Any]] = [{"DeleteRequest": {"Key": key}} for key in item_keys]
    for attempt in range(max_attempts):
        unprocessed = dynamodb.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
        requests = unprocessed.get(table, [])
        if not requests:
            return
        time.sleep(min(2.0, 0.05 * 2**attempt))
    raise RuntimeError(f"{len(requests)} item(s) of the partition were still unprocessed")
