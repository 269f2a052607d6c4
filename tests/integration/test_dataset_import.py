"""The dataset_import function on moto: an S3 `Object Created` event (EventBridge) for a dataset's
upload → Parquet under the import's prefix and the item READY (schema, counts, files), or FAILED with
its error while the previous import stays; re-imports switch atomically and delete the previous
import's objects; duplicates, superseded uploads, deleted datasets, crashes and another tenant's
bucket are each handled (the lifecycle of the datasets spec)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest

from localcloud.runtime import InvocationCrashed
from tenancy.application.datasets import importer, layout
from tenancy.application.store import keys
from tenancy.application.store.engine import Actor, Change, TenantStore
from tenancy.application.store.kinds import DATASET
from tests.helpers.cloud import Cloud

CSV = b"id,name,price,active,day\n1,apple,1.5,true,2024-01-02\n2,pear,,false,2024-01-03\n3,fig,2,true,\n"
COLUMNS = [
    {"name": "id", "type": "int64", "nullable": True},
    {"name": "name", "type": "string", "nullable": True},
    {"name": "price", "type": "float64", "nullable": True},
    {"name": "active", "type": "bool", "nullable": True},
    {"name": "day", "type": "date", "nullable": True},
]


class Tenant:
    def __init__(self, cloud: Cloud, tenant: dict[str, Any]) -> None:
        self.cloud = cloud
        self.id: str = tenant["tenantId"]
        self.store = TenantStore(
            boto3.client("dynamodb"), cloud.settings.app_table_name, self.id, Actor("api", "t")
        )
        route = boto3.client("ssm").get_parameter(
            Name=f"/{cloud.settings.app_name}/{cloud.settings.stage}/tenants/{self.id}/s3/bucket"
        )
        self.bucket: str = route["Parameter"]["Value"]
        self.prefix = f"tenants/{self.id}/"

    def create_dataset(self, max_bytes: int = 10_000_000, **fields: Any) -> tuple[str, str]:
        """The item as POST /datasets writes it: UPLOADING, waiting for a new upload."""
        dataset_id, upload_id = str(uuid.uuid4()), str(uuid.uuid4())
        attributes = {
            "datasetId": dataset_id,
            "ownerId": "owner-1",
            "name": "sales",
            "description": "",
            "hasHeader": True,
            "delimiter": ",",
            "encoding": "utf-8",
            "partitionColumn": None,
            "status": "UPLOADING",
            "uploadId": upload_id,
            "dataVersion": 0,
            "columns": [],
            "uploadExpiresAt": 2_000_000_000,
            "maxBytes": max_bytes,
            **fields,
        }
        self.store.create(DATASET, dataset_id, attributes, Change("dataset.create", f"DATASET#{dataset_id}"))
        return dataset_id, upload_id

    def new_upload(self, dataset_id: str, **fields: Any) -> str:
        """What POST /datasets/{id}/uploads (or a PATCH of partitionColumn) writes: a new uploadId."""
        upload_id = str(uuid.uuid4())
        changes = {"uploadId": upload_id, "status": "UPLOADING", **fields}
        self.store.update(
            DATASET, dataset_id, changes, None, Change("dataset.upload", f"DATASET#{dataset_id}")
        )
        return upload_id

    def item(self, dataset_id: str) -> dict[str, Any]:
        found = self.store.get_item(keys.item_sk(DATASET.prefix, dataset_id))
        assert found is not None
        return found

    def put(self, relative: str, body: bytes) -> str:
        key = self.prefix + relative
        boto3.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body)
        return key

    def upload(self, dataset_id: str, upload_id: str, body: bytes) -> str:
        return self.put(layout.upload_key(dataset_id, upload_id), body)

    def objects(self, dataset_id: str) -> list[str]:
        """Every object of the dataset, relative to the tenant's prefix."""
        listed = boto3.client("s3").list_objects_v2(
            Bucket=self.bucket, Prefix=self.prefix + layout.dataset_prefix(dataset_id)
        )
        return sorted(o["Key"][len(self.prefix) :] for o in listed.get("Contents", []))

    def read(self, relative: str) -> bytes:
        body = boto3.client("s3").get_object(Bucket=self.bucket, Key=self.prefix + relative)["Body"]
        return bytes(body.read())

    def audit(self) -> list[str]:
        found = boto3.client("dynamodb").query(
            TableName=self.cloud.settings.app_table_name,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :audit)",
            ExpressionAttributeValues={":pk": {"S": f"TENANT#{self.id}"}, ":audit": {"S": "AUDIT#"}},
            ConsistentRead=True,
        )["Items"]
        return [
            f"{item['action']['S']}:{item['actorUserId']['S']}"
            for item in found
            if item["action"]["S"].startswith("dataset.import")
        ]


def event(bucket: str, key: str, size: int = 100) -> dict[str, Any]:
    """EventBridge's S3 Object Created event (moto sends `time` as a number)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": 1767225600.0,
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "etag": "x"},
            "request-id": "r",
            "requester": "123456789012",
            "reason": "PutObject",
        },
    }


def run(cloud: Cloud, tenant: Tenant, key: str, request_id: str | None = None) -> dict[str, Any]:
    invocation = cloud.runtime.invoke("dataset_import", event(tenant.bucket, key), request_id=request_id)
    assert invocation.error is None, invocation.error
    return invocation.result  # type: ignore[no-any-return]


def parquet_rows(tenant: Tenant, relative: str, tmp_path: Path) -> list[tuple[Any, ...]]:
    local = tmp_path / f"{uuid.uuid4()}.parquet"
    local.write_bytes(tenant.read(relative))
    with duckdb.connect() as connection:
        query = "SELECT * FROM read_parquet(?, hive_partitioning = false)"
        return connection.execute(query, [str(local)]).fetchall()


@pytest.fixture
def acme(cloud: Cloud, onboard: Callable[[str, str], dict[str, Any]]) -> Tenant:
    return Tenant(cloud, onboard("acme", "PRO"))


def imported(cloud: Cloud, tenant: Tenant, body: bytes = CSV, **fields: Any) -> tuple[str, str]:
    dataset_id, upload_id = tenant.create_dataset(**fields)
    result = run(cloud, tenant, tenant.upload(dataset_id, upload_id, body))
    assert result["outcome"] == "ready", result
    return dataset_id, upload_id


# --- READY --------------------------------------------------------------------------------------


def test_an_upload_is_imported_to_parquet_and_ready(cloud: Cloud, acme: Tenant, tmp_path: Path) -> None:
    dataset_id, upload_id = acme.create_dataset()
    version = acme.item(dataset_id)["version"]
    result = run(cloud, acme, acme.upload(dataset_id, upload_id, CSV), request_id="req-1")
    assert result == {
        "datasetId": dataset_id,
        "uploadId": upload_id,
        "outcome": "ready",
        "rowCount": 3,
        "files": 1,
    }
    item = acme.item(dataset_id)
    data = layout.data_key(dataset_id, upload_id)
    assert {k: item[k] for k in ("status", "importId", "files", "sourceKey", "rowCount", "columnCount")} == {
        "status": "READY",
        "importId": upload_id,
        "files": [data],
        "sourceKey": layout.upload_key(dataset_id, upload_id),
        "rowCount": 3,
        "columnCount": 5,
    }
    assert item["columns"] == COLUMNS
    assert item["sourceBytes"] == len(CSV)
    assert item["sizeBytes"] == len(acme.read(data))
    assert item["dataVersion"] == 1
    assert "partitions" not in item
    assert "error" not in item
    assert item["importedAt"]
    assert abs(int(item["importStartedAt"]) - time.time()) < 60  # epoch seconds
    assert item["version"] == version + 2  # IMPORTING, then READY
    assert acme.objects(dataset_id) == sorted(
        [data, layout.preview_key(dataset_id, upload_id), layout.upload_key(dataset_id, upload_id)]
    )
    rows = parquet_rows(acme, data, tmp_path)
    assert [row[:4] for row in rows] == [
        (1, "apple", 1.5, True),
        (2, "pear", None, False),
        (3, "fig", 2.0, True),
    ]
    assert [str(row[4]) for row in rows] == ["2024-01-02", "2024-01-03", "None"]
    preview = json.loads(acme.read(layout.preview_key(dataset_id, upload_id)))
    assert preview == {
        "columns": COLUMNS,
        "rows": [
            {"id": 1, "name": "apple", "price": 1.5, "active": True, "day": "2024-01-02"},
            {"id": 2, "name": "pear", "price": None, "active": False, "day": "2024-01-03"},
            {"id": 3, "name": "fig", "price": 2.0, "active": True, "day": None},
        ],
        "totalRows": 3,
    }
    assert acme.audit() == ["dataset.import.start:system", "dataset.import.ready:system"]


def test_a_partitioned_import_writes_one_file_per_value(cloud: Cloud, acme: Tenant, tmp_path: Path) -> None:
    body = b"region,n\nnorth,1\nsouth america,2\nnorth,3\n,4\n"
    dataset_id, upload_id = imported(cloud, acme, body, partitionColumn="region")
    item = acme.item(dataset_id)
    assert item["partitions"] == ["north", "south america", None]
    files = {
        value: layout.partition_key(dataset_id, upload_id, "region", value) for value in item["partitions"]
    }
    assert item["files"] == list(files.values())
    assert files["south america"].endswith("partitions/region=south%20america/part-0000.parquet")
    assert files[None].endswith("partitions/region=__null__/part-0000.parquet")
    assert parquet_rows(acme, files["north"], tmp_path) == [("north", 1), ("north", 3)]
    assert parquet_rows(acme, files["south america"], tmp_path) == [("south america", 2)]
    assert parquet_rows(acme, files[None], tmp_path) == [(None, 4)]
    assert item["sizeBytes"] == sum(len(acme.read(key)) for key in files.values())


def test_a_reimport_switches_and_deletes_the_previous_imports_objects(
    cloud: Cloud, acme: Tenant, tmp_path: Path
) -> None:
    dataset_id, _ = imported(cloud, acme)
    second = acme.new_upload(dataset_id)
    run(cloud, acme, acme.upload(dataset_id, second, b"id\n7\n8\n"))
    item = acme.item(dataset_id)
    assert (item["status"], item["importId"], item["rowCount"], item["dataVersion"]) == (
        "READY",
        second,
        2,
        2,
    )
    assert item["columns"] == [{"name": "id", "type": "int64", "nullable": True}]
    # nothing of the first import is left: its Parquet, its preview and its source
    assert acme.objects(dataset_id) == sorted(
        [
            layout.data_key(dataset_id, second),
            layout.preview_key(dataset_id, second),
            layout.upload_key(dataset_id, second),
        ]
    )
    assert parquet_rows(acme, layout.data_key(dataset_id, second), tmp_path) == [(7,), (8,)]


# --- duplicates, superseded uploads, deletes -------------------------------------------------


def test_a_duplicate_event_changes_nothing(cloud: Cloud, acme: Tenant) -> None:
    dataset_id, upload_id = imported(cloud, acme)
    before, objects = acme.item(dataset_id), acme.objects(dataset_id)
    result = run(cloud, acme, acme.prefix + layout.upload_key(dataset_id, upload_id))
    assert result["outcome"] == "duplicate"
    assert acme.item(dataset_id) == before
    assert acme.objects(dataset_id) == objects
    assert acme.audit() == ["dataset.import.start:system", "dataset.import.ready:system"]


def test_a_superseded_upload_is_ignored_and_its_object_deleted(cloud: Cloud, acme: Tenant) -> None:
    dataset_id, old = acme.create_dataset()
    newer = acme.new_upload(dataset_id)
    before = acme.item(dataset_id)
    result = run(cloud, acme, acme.upload(dataset_id, old, CSV))
    assert result["outcome"] == "superseded"
    assert acme.item(dataset_id) == before
    assert acme.objects(dataset_id) == []
    assert acme.audit() == []
    # the newer upload still imports
    assert run(cloud, acme, acme.upload(dataset_id, newer, CSV))["outcome"] == "ready"


def test_a_dataset_deleted_meanwhile(cloud: Cloud, acme: Tenant) -> None:
    dataset_id, upload_id = acme.create_dataset()
    acme.store.delete(DATASET, dataset_id, Change("dataset.delete", f"DATASET#{dataset_id}"))
    assert run(cloud, acme, acme.upload(dataset_id, upload_id, CSV))["outcome"] == "superseded"
    assert acme.objects(dataset_id) == []
    # and one being deleted (deletingAt set): the same
    other, other_upload = acme.create_dataset()
    acme.store.update(
        DATASET, other, {"deletingAt": "now"}, None, Change("dataset.delete", f"DATASET#{other}")
    )
    assert run(cloud, acme, acme.upload(other, other_upload, CSV))["outcome"] == "superseded"
    assert acme.objects(other) == []
    assert acme.item(other)["status"] == "UPLOADING"


def test_a_delete_during_the_import_discards_what_it_wrote(
    cloud: Cloud, acme: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id, upload_id = acme.create_dataset()
    convert = importer.convert

    def and_delete_meanwhile(*args: Any, **kwargs: Any) -> importer.Converted:
        converted = convert(*args, **kwargs)
        acme.store.update(
            DATASET,
            dataset_id,
            {"deletingAt": "now"},
            None,
            Change("dataset.delete", f"DATASET#{dataset_id}"),
        )
        return converted

    monkeypatch.setattr(importer, "convert", and_delete_meanwhile)
    assert run(cloud, acme, acme.upload(dataset_id, upload_id, CSV))["outcome"] == "superseded"
    assert acme.objects(dataset_id) == []
    assert acme.item(dataset_id)["status"] == "IMPORTING"  # the delete finishes it


# --- FAILED ---------------------------------------------------------------------------------------


def test_too_large_against_the_items_cap(cloud: Cloud, acme: Tenant) -> None:
    dataset_id, upload_id = acme.create_dataset(max_bytes=len(CSV) - 1)
    result = run(cloud, acme, acme.upload(dataset_id, upload_id, CSV))
    assert result["outcome"] == "failed"
    item = acme.item(dataset_id)
    assert item["status"] == "FAILED"
    assert item["error"]["code"] == "TOO_LARGE"
    assert acme.objects(dataset_id) == []
    assert acme.audit() == ["dataset.import.start:system", "dataset.import.failed:system"]


def test_a_malformed_csv_fails_with_its_line_and_the_previous_data_stays(cloud: Cloud, acme: Tenant) -> None:
    dataset_id, first = imported(cloud, acme)
    objects = acme.objects(dataset_id)
    second = acme.new_upload(dataset_id)
    result = run(cloud, acme, acme.upload(dataset_id, second, b"a,b\n1,2\n3,4,5\n"))
    assert result["outcome"] == "failed"
    item = acme.item(dataset_id)
    assert item["status"] == "FAILED"
    assert item["error"] == {
        "code": "CSV_MALFORMED",
        "message": "line 3: expected 2 fields, found 3",
        "line": 3,
    }
    assert (item["importId"], item["rowCount"], item["columns"], item["dataVersion"]) == (
        first,
        3,
        COLUMNS,
        1,
    )
    assert acme.objects(dataset_id) == objects  # the first import's files; nothing of the second
    # a redelivery of the failed upload's event does nothing more
    assert (
        run(cloud, acme, acme.prefix + layout.upload_key(dataset_id, second))["outcome"] == "not importable"
    )
    # and the next upload imports, without the error
    third = acme.new_upload(dataset_id)
    run(cloud, acme, acme.upload(dataset_id, third, CSV))
    item = acme.item(dataset_id)
    assert (item["status"], item["importId"], item.get("error"), item["dataVersion"]) == (
        "READY",
        third,
        None,
        2,
    )


def test_an_unknown_partition_column_fails(cloud: Cloud, acme: Tenant) -> None:
    dataset_id, upload_id = acme.create_dataset(partitionColumn="nope")
    assert run(cloud, acme, acme.upload(dataset_id, upload_id, CSV))["outcome"] == "failed"
    assert acme.item(dataset_id)["error"]["code"] == "PARTITION_COLUMN_UNKNOWN"


def test_an_unexpected_error_fails_the_import_without_raising(
    cloud: Cloud, acme: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id, upload_id = acme.create_dataset()

    def broken(*args: Any, **kwargs: Any) -> importer.Converted:
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "convert", broken)
    assert run(cloud, acme, acme.upload(dataset_id, upload_id, CSV))["outcome"] == "failed"
    assert acme.item(dataset_id)["error"] == {
        "code": "IMPORT_FAILED",
        "message": "the import failed unexpectedly",
    }


# --- crashes and retries ----------------------------------------------------------------------


def test_a_crash_before_the_switch_is_completed_by_the_redelivery(
    cloud: Cloud, acme: Tenant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dataset_id, first = imported(cloud, acme)
    second = acme.new_upload(dataset_id)
    key = acme.upload(dataset_id, second, b"id\n5\n")
    switch = importer._Import._switch

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise InvocationCrashed

    monkeypatch.setattr(importer._Import, "_switch", crash)
    invocation = cloud.runtime.invoke("dataset_import", event(acme.bucket, key), request_id="same")
    assert isinstance(invocation.error, InvocationCrashed)
    item = acme.item(dataset_id)
    assert (item["status"], item["importId"]) == ("IMPORTING", first)
    assert layout.data_key(dataset_id, second) in acme.objects(dataset_id)  # written, not switched
    monkeypatch.setattr(importer._Import, "_switch", switch)
    assert run(cloud, acme, key, request_id="same")["outcome"] == "ready"
    item = acme.item(dataset_id)
    assert (item["status"], item["importId"], item["rowCount"], item["dataVersion"]) == (
        "READY",
        second,
        1,
        2,
    )
    assert acme.objects(dataset_id) == sorted(
        [
            layout.data_key(dataset_id, second),
            layout.preview_key(dataset_id, second),
            layout.upload_key(dataset_id, second),
        ]
    )
    assert parquet_rows(acme, layout.data_key(dataset_id, second), tmp_path) == [(5,)]


# --- isolation ----------------------------------------------------------------------------------


def test_an_upload_key_of_one_tenant_in_another_tenants_bucket_is_ignored(
    cloud: Cloud, onboard: Callable[[str, str], dict[str, Any]], acme: Tenant
) -> None:
    silo = Tenant(cloud, onboard("globex", "ENTERPRISE"))
    assert silo.bucket != acme.bucket
    dataset_id, upload_id = acme.create_dataset()
    # acme's upload key, written into globex's bucket
    key = f"tenants/{acme.id}/{layout.upload_key(dataset_id, upload_id)}"
    boto3.client("s3").put_object(Bucket=silo.bucket, Key=key, Body=CSV)
    result = run(cloud, silo, key)
    assert result == {"ignored": "not the tenant's bucket"}
    assert acme.item(dataset_id)["status"] == "UPLOADING"
    assert acme.audit() == []
    listed = boto3.client("s3").list_objects_v2(Bucket=silo.bucket, Prefix=key)
    assert [o["Key"] for o in listed["Contents"]] == [key]  # not touched either


def test_a_key_that_is_not_an_upload_is_ignored(cloud: Cloud, acme: Tenant) -> None:
    key = acme.put("datasets/x/imports/y/data/part-0000.parquet", b"x")
    assert run(cloud, acme, key) == {"ignored": "not an upload"}
