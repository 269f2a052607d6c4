"""Datasets through the app API's handlers (behind the real authorizer, on moto): every route and
status, the item each mutation writes (status, uploadId, maxBytes, uploadExpiresAt), the presigned
POST uploading to the right key (and refusing more than the plan's cap), a re-import copying the
source, DELETE removing objects and item (refused while a card uses the dataset, finishing an
interrupted one), the stale views, who may do what, another tenant's token, and the cards' check
that their datasets exist."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from tenancy.application.access.tenant_data import TenantData
from tenancy.application.datasets import layout
from tenancy.application.store import keys
from tenancy.application.store.engine import TenantStore
from tenancy.application.store.transaction import Transaction
from tenancy.common.dynamo import from_item
from tenancy.contracts.plans import GiB, MiB
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.helpers.dataset_seeds import ROWS, bucket_of, seed_dataset, seed_dataset_objects
from tests.helpers.workspace_seeds import tenant_store
from tests.integration.conftest import admin_of, token_for

NEVER = "00000000-0000-4000-8000-000000000000"
BODY = {
    "name": "Sales",
    "description": "monthly sales",
    "hasHeader": True,
    "delimiter": ";",
    "encoding": "latin-1",
    "partitionColumn": "region",
}


class Acme:
    def __init__(self, cloud: Cloud, app: ApiClient, api: ApiClient, tenant: dict[str, Any]) -> None:
        self.cloud, self.api, self.tenant = cloud, api, tenant
        self.tenant_id = str(tenant["tenantId"])
        self.admin = admin_of(cloud, app, "acme")
        self.ids = {"admin": self.admin.get("/me").data["userId"]}
        self.clients = {"admin": self.admin}
        for name in ("alice", "bob"):
            created = self.admin.post("/users", {"email": f"{name}@acme.example", "role": "member"})
            assert created.status == 201, created.body
            self.ids[name] = created.data["userId"]
            self.clients[name] = app.as_user(token_for(cloud, f"{name}@acme.example"))
        self.alice, self.bob = self.clients["alice"], self.clients["bob"]
        self.store: TenantStore = tenant_store(cloud, tenant)
        self.bucket = bucket_of(tenant, cloud.settings.tenant_bucket_name)
        self.prefix = f"tenants/{self.tenant_id}/"

    def item(self, dataset_id: str) -> dict[str, Any] | None:
        found = boto3.client("dynamodb").get_item(
            TableName=str(
                self.tenant["resources"].get("dedicatedTable") or self.cloud.settings.app_table_name
            ),
            Key={"PK": {"S": f"TENANT#{self.tenant_id}"}, "SK": {"S": f"DATASET#{dataset_id}"}},
            ConsistentRead=True,
        )
        return from_item(found["Item"]) if "Item" in found else None

    def items(self, prefix: str) -> dict[str, dict[str, Any]]:
        found = boto3.client("dynamodb").query(
            TableName=str(
                self.tenant["resources"].get("dedicatedTable") or self.cloud.settings.app_table_name
            ),
            KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
            ExpressionAttributeValues={":pk": {"S": f"TENANT#{self.tenant_id}"}, ":p": {"S": prefix}},
            ConsistentRead=True,
        )["Items"]
        return {item["SK"]["S"]: from_item(item) for item in found}

    def audit(self, dataset_id: str) -> list[str]:
        return [
            str(item["action"])
            for item in self.items("AUDIT#").values()
            if item["resource"] == f"DATASET#{dataset_id}"
        ]

    def counter(self) -> int:
        return int(self.items("COUNT#DATASET")["COUNT#DATASET"]["n"])

    def object(self, relative: str) -> bytes | None:
        try:
            body = boto3.client("s3").get_object(Bucket=self.bucket, Key=self.prefix + relative)["Body"]
        except ClientError:
            return None
        return bytes(body.read())

    def set_item(self, dataset_id: str, expression: str, values: dict[str, Any] | None = None) -> None:
        names = {"#s": "status"} if "#s" in expression else None
        tx = Transaction().update(
            keys.item_sk(keys.DATASET, dataset_id), expression, names=names, values=values
        )
        self.store.commit(tx, None)

    def seeded(self, dataset_id: str, owner: str = "alice", **attributes: Any) -> dict[str, Any]:
        """A READY dataset of `owner` with its objects (data file, preview, source) in storage."""
        item = seed_dataset(self.store, dataset_id, self.ids[owner], **attributes)
        seed_dataset_objects(self.bucket, self.tenant_id, item)
        return item


@pytest.fixture
def acme(cloud: Cloud, app: ApiClient, api: ApiClient, onboard: Any) -> Acme:
    return Acme(cloud, app, api, onboard("acme", "PRO"))


def created(client: ApiClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = client.post("/datasets", body or {"name": "Sales"})
    assert answer.status == 201, answer.body
    return answer.data  # type: ignore[no-any-return]


def post_file(upload: dict[str, Any], content: bytes) -> requests.Response:
    """The presigned POST as a browser or curl sends it: the fields, then the file."""
    return requests.post(
        upload["url"], data=upload["fields"], files={"file": ("data.csv", content)}, timeout=30
    )


# --- POST /datasets ---------------------------------------------------------------------------------


def test_create_writes_an_uploading_dataset_and_answers_its_presigned_post(acme: Acme) -> None:
    before = time.time()
    made = created(acme.alice, BODY)
    dataset, upload = made["dataset"], made["upload"]
    dataset_id, upload_id = dataset["datasetId"], dataset["uploadId"]
    assert {k: dataset[k] for k in BODY} == BODY
    assert (dataset["status"], dataset["ownerId"], dataset["version"]) == ("UPLOADING", acme.ids["alice"], 1)
    assert (dataset["importId"], dataset["dataVersion"], dataset["columns"], dataset["error"]) == (
        None,
        0,
        [],
        None,
    )
    key = f"{acme.prefix}datasets/{dataset_id}/uploads/{upload_id}.csv"
    assert (upload["key"], upload["fields"]["key"], upload["method"]) == (key, key, "POST")
    assert upload["maxBytes"] == 1 * GiB  # PRO's datasetUploadBytes
    assert acme.bucket in upload["url"] or upload["fields"].get("bucket") == acme.bucket
    stored = acme.item(dataset_id)
    assert stored is not None
    assert (stored["status"], stored["uploadId"], stored["maxBytes"]) == ("UPLOADING", upload_id, 1 * GiB)
    assert before + 900 - 1 <= stored["uploadExpiresAt"] <= time.time() + 900
    expires = datetime.fromtimestamp(int(stored["uploadExpiresAt"]), UTC)
    assert upload["expiresAt"] == expires.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert not {"files", "sourceKey", "importStartedAt"} & set(stored)
    assert acme.audit(dataset_id) == ["dataset.create"]
    assert acme.counter() == 1
    assert acme.alice.get(f"/datasets/{dataset_id}").data == dataset


def test_the_presigned_post_uploads_the_file_to_the_upload_key(acme: Acme) -> None:
    made = created(acme.alice)
    sent = post_file(made["upload"], b"region,amount\nEU,10\n")
    assert sent.status_code in (200, 201, 204), sent.text
    relative = layout.upload_key(made["dataset"]["datasetId"], made["dataset"]["uploadId"])
    assert acme.object(relative) == b"region,amount\nEU,10\n"


def test_the_presigned_post_refuses_a_file_over_the_plans_cap(acme: Acme) -> None:
    """The cap is the POST policy's content-length-range, which S3 (and moto) enforce: a tenant
    override of `datasetUploadBytes` to 16 bytes lets 16 through and refuses 17."""
    version = acme.api.get(f"/tenants/{acme.tenant_id}").data["version"]
    changed = acme.api.patch(
        f"/tenants/{acme.tenant_id}/config", {"limits": {"datasetUploadBytes": 16}, "version": version}
    )
    assert changed.status == 200, changed.body
    made = created(acme.alice)
    assert made["upload"]["maxBytes"] == 16
    assert acme.item(made["dataset"]["datasetId"])["maxBytes"] == 16  # type: ignore[index]
    relative = layout.upload_key(made["dataset"]["datasetId"], made["dataset"]["uploadId"])
    over = post_file(made["upload"], b"x" * 17)
    assert over.status_code == 400, over.text
    assert "EntityTooLarge" in over.text
    assert acme.object(relative) is None
    fits = post_file(made["upload"], b"x" * 16)
    assert fits.status_code in (200, 201, 204), fits.text
    assert acme.object(relative) == b"x" * 16


def test_a_free_tenants_cap_is_10_mib_and_its_datasets_are_limited(
    cloud: Cloud, app: ApiClient, onboard: Any
) -> None:
    onboard("tiny", "FREE")
    admin = admin_of(cloud, app, "tiny")
    made = [created(admin, {"name": f"d{n}"}) for n in range(5)]
    assert {m["upload"]["maxBytes"] for m in made} == {10 * MiB}
    refused = admin.post("/datasets", {"name": "one too many"})
    assert refused.status == 409
    assert refused.error["code"] == "LIMIT_REACHED"
    assert refused.error["details"] == {"limit": "datasets", "maximum": 5, "current": 5}
    assert len(admin.get("/datasets?limit=100").data) == 5
    assert admin.request("DELETE", f"/datasets/{made[0]['dataset']['datasetId']}").status == 204
    assert admin.post("/datasets", {"name": "fits again"}).status == 201  # the delete freed a slot


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x", "delimiter": ",,"}, "delimiter"),
        ({"name": "x", "delimiter": '"'}, "delimiter"),
        ({"name": "x", "delimiter": "\n"}, "delimiter"),
        ({"name": "x", "encoding": "ebcdic"}, "encoding"),
        ({"name": "x", "hasHeader": "yes"}, "hasHeader"),
        ({"name": "x", "partitionColumn": ""}, "partitionColumn"),
        ({"name": "x", "tenantId": "other"}, "tenantId"),
    ],
)
def test_create_refuses_an_invalid_body_naming_the_field(
    acme: Acme, body: dict[str, Any], field: str
) -> None:
    refused = acme.alice.post("/datasets", body)
    assert refused.status == 422, refused.body
    assert field in {d["field"] for d in refused.error["details"]}
    assert acme.items("DATASET#") == {}


def test_create_and_every_route_needs_a_token(acme: Acme, app: ApiClient) -> None:
    anonymous = app.as_user(None)
    assert anonymous.post("/datasets", {"name": "x"}).status == 401
    assert anonymous.get("/datasets").status == 401
    assert anonymous.get(f"/datasets/{NEVER}/preview").status == 401


# --- GET /datasets, GET /datasets/{id} -------------------------------------------------------------


def test_every_user_of_the_tenant_lists_and_reads_every_dataset_in_pages(acme: Acme) -> None:
    ids = sorted(created(client)["dataset"]["datasetId"] for client in (acme.alice, acme.bob, acme.admin))
    acme.seeded("ds-gone", deletingAt="2026-12-03T10:00:00.000Z")  # a delete under way: not shown
    for client in (acme.alice, acme.bob, acme.admin):
        assert [d["datasetId"] for d in client.get("/datasets?limit=100").data] == ids
        for dataset_id in ids:
            assert client.get(f"/datasets/{dataset_id}").status == 200
    seen, cursor = [], None
    while True:
        page = acme.bob.get("/datasets?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status == 200, page.body
        seen += [d["datasetId"] for d in page.data]
        cursor = page.body["pagination"]["next_cursor"]
        if not page.body["pagination"]["has_next"]:
            break
    assert seen == ids
    assert acme.bob.get("/datasets?cursor=not-a-cursor").status == 400
    assert acme.bob.get("/datasets?limit=0").status == 422
    assert acme.bob.get("/datasets/ds-gone").status == 404


def test_the_view_holds_no_bookkeeping(acme: Acme) -> None:
    acme.seeded("ds-sales")
    dataset = acme.bob.get("/datasets/ds-sales").data
    assert not {"files", "sourceKey", "maxBytes", "uploadExpiresAt", "importStartedAt", "deletingAt"} & set(
        dataset
    )
    assert (dataset["status"], dataset["importId"], dataset["rowCount"], dataset["columnCount"]) == (
        "READY",
        "imp-ds-sales",
        3,
        2,
    )
    assert [c["name"] for c in dataset["columns"]] == ["region", "amount"]


def test_an_unknown_dataset_is_404_and_a_malformed_id_422(acme: Acme) -> None:
    missing = acme.alice.get(f"/datasets/{NEVER}")
    assert (missing.status, missing.error["code"]) == (404, "NOT_FOUND")
    assert acme.alice.get("/datasets/" + "x" * 129).status == 422


# --- stale states ----------------------------------------------------------------------------------


def test_an_upload_never_made_before_it_expired_reads_failed_upload_expired(acme: Acme) -> None:
    dataset_id = created(acme.alice)["dataset"]["datasetId"]
    acme.set_item(dataset_id, "SET uploadExpiresAt = :t", {":t": int(time.time()) - 1})
    dataset = acme.alice.get(f"/datasets/{dataset_id}").data
    assert dataset["status"] == "FAILED"
    assert dataset["error"]["code"] == "UPLOAD_EXPIRED"
    assert acme.alice.get("/datasets").data[0]["status"] == "FAILED"
    assert acme.item(dataset_id)["status"] == "UPLOADING"  # type: ignore[index]  # only the view says so
    again = acme.alice.post(f"/datasets/{dataset_id}/uploads")
    assert again.status == 201
    fresh = acme.alice.get(f"/datasets/{dataset_id}").data
    assert (fresh["status"], fresh["error"]) == ("UPLOADING", None)


def test_an_import_running_for_more_than_20_minutes_reads_failed_import_timed_out(acme: Acme) -> None:
    dataset_id = created(acme.alice)["dataset"]["datasetId"]
    acme.set_item(
        dataset_id, "SET #s = :s, importStartedAt = :t", {":s": "IMPORTING", ":t": int(time.time()) - 60}
    )
    assert acme.alice.get(f"/datasets/{dataset_id}").data["status"] == "IMPORTING"  # 1 minute: still going
    acme.set_item(dataset_id, "SET importStartedAt = :t", {":t": int(time.time()) - 20 * 60 - 5})
    dataset = acme.alice.get(f"/datasets/{dataset_id}").data
    assert (dataset["status"], dataset["error"]["code"]) == ("FAILED", "IMPORT_TIMED_OUT")


# --- PATCH /datasets/{id} --------------------------------------------------------------------------


def test_patch_changes_name_and_description_at_its_version(acme: Acme) -> None:
    dataset_id = created(acme.alice)["dataset"]["datasetId"]
    changed = acme.alice.patch(
        f"/datasets/{dataset_id}", {"name": "Renamed", "description": "d", "version": 1}
    )
    assert changed.status == 200, changed.body
    assert (changed.data["name"], changed.data["description"], changed.data["version"]) == ("Renamed", "d", 2)
    assert changed.data["status"] == "UPLOADING"  # metadata only: no re-import
    stale = acme.alice.patch(f"/datasets/{dataset_id}", {"name": "Again", "version": 1})
    assert (stale.status, stale.error["code"]) == (409, "VERSION_CONFLICT")
    assert stale.error["details"] == {"currentVersion": 2, "expectedVersion": 1}
    assert acme.audit(dataset_id) == ["dataset.create", "dataset.update"]
    nothing = acme.alice.patch(f"/datasets/{dataset_id}", {"version": 2})
    assert nothing.status == 400
    assert acme.alice.patch(f"/datasets/{dataset_id}", {"name": None, "version": 2}).status == 422
    assert acme.alice.patch(f"/datasets/{dataset_id}", {"files": [], "version": 2}).status == 422
    assert acme.alice.patch(f"/datasets/{NEVER}", {"name": "x", "version": 1}).status == 404


def test_only_the_owner_or_an_admin_changes_uploads_to_or_deletes_a_dataset(acme: Acme) -> None:
    acme.seeded("ds-sales", owner="alice")
    before = acme.item("ds-sales")
    for method, path, body in (
        ("PATCH", "/datasets/ds-sales", {"name": "mine", "version": 1}),
        ("POST", "/datasets/ds-sales/uploads", None),
        ("DELETE", "/datasets/ds-sales", None),
    ):
        refused = acme.bob.request(method, path, body)
        assert (refused.status, refused.error["code"]) == (403, "FORBIDDEN"), (method, refused.body)
    assert acme.item("ds-sales") == before
    assert acme.bob.get("/datasets/ds-sales/preview").status == 200  # every user reads it
    assert acme.admin.patch("/datasets/ds-sales", {"name": "by admin", "version": 1}).status == 200
    assert acme.admin.post("/datasets/ds-sales/uploads").status == 201
    assert acme.alice.patch("/datasets/ds-sales", {"name": "by owner", "version": 3}).status == 200
    assert acme.admin.request("DELETE", "/datasets/ds-sales").status == 204


def test_patch_of_the_partition_column_reimports_by_copying_the_source(acme: Acme) -> None:
    acme.seeded("ds-sales")
    source = acme.object("datasets/ds-sales/uploads/imp-ds-sales.csv")
    assert source is not None
    changed = acme.alice.patch("/datasets/ds-sales", {"partitionColumn": "region", "version": 1})
    assert changed.status == 200, changed.body
    dataset = changed.data
    upload_id = dataset["uploadId"]
    assert upload_id != "imp-ds-sales"
    assert (dataset["status"], dataset["partitionColumn"], dataset["version"]) == ("UPLOADING", "region", 2)
    assert dataset["importId"] == "imp-ds-sales"  # the previous import stays readable meanwhile
    assert acme.object(layout.upload_key("ds-sales", upload_id)) == source  # its event runs the import
    stored = acme.item("ds-sales")
    assert stored is not None
    assert stored["uploadExpiresAt"] > time.time()
    assert acme.bob.get("/datasets/ds-sales/preview").status == 200
    # null: no partitioning, again by a re-import
    unpartitioned = acme.alice.patch("/datasets/ds-sales", {"partitionColumn": None, "version": 2}).data
    assert unpartitioned["partitionColumn"] is None
    assert "partitionColumn" not in acme.item("ds-sales")  # type: ignore[operator]
    assert acme.object(layout.upload_key("ds-sales", unpartitioned["uploadId"])) == source
    # the same column as now: nothing to re-import
    same = acme.alice.patch("/datasets/ds-sales", {"partitionColumn": None, "name": "n", "version": 3}).data
    assert (same["uploadId"], same["name"]) == (unpartitioned["uploadId"], "n")
    assert acme.audit("ds-sales") == ["dataset.create", "dataset.update", "dataset.update", "dataset.update"]


def test_a_reimport_without_a_source_is_409_dataset_no_source(acme: Acme) -> None:
    dataset_id = created(acme.alice)["dataset"]["datasetId"]
    refused = acme.alice.patch(f"/datasets/{dataset_id}", {"partitionColumn": "region", "version": 1})
    assert (refused.status, refused.error["code"]) == (409, "DATASET_NO_SOURCE")
    assert acme.item(dataset_id)["version"] == 1  # type: ignore[index]


def test_a_failed_copy_marks_the_dataset_failed_and_answers_502(acme: Acme) -> None:
    acme.seeded("ds-sales")
    boto3.client("s3").delete_object(
        Bucket=acme.bucket, Key=acme.prefix + "datasets/ds-sales/uploads/imp-ds-sales.csv"
    )
    refused = acme.alice.patch("/datasets/ds-sales", {"partitionColumn": "region", "version": 1})
    assert (refused.status, refused.error["code"]) == (502, "COPY_FAILED")
    dataset = acme.alice.get("/datasets/ds-sales").data
    assert (dataset["status"], dataset["error"]["code"], dataset["version"]) == ("FAILED", "COPY_FAILED", 3)
    assert dataset["importId"] == "imp-ds-sales"


def test_a_copy_s3_asks_to_retry_answers_503(acme: Acme, monkeypatch: pytest.MonkeyPatch) -> None:
    acme.seeded("ds-sales")
    opened = TenantData.objects

    class SlowS3:
        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        def copy_object(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "CopyObject")

    def slow(self: TenantData, tenant_id: str) -> Any:
        objects = opened(self, tenant_id)
        return type(objects)(SlowS3(objects.s3), objects.bucket, objects.prefix)

    monkeypatch.setattr(TenantData, "objects", slow)
    refused = acme.alice.patch("/datasets/ds-sales", {"partitionColumn": "region", "version": 1})
    assert (refused.status, refused.error["code"]) == (503, "STORAGE_UNAVAILABLE")
    assert acme.alice.get("/datasets/ds-sales").data["error"]["code"] == "COPY_FAILED"


# --- POST /datasets/{id}/uploads -------------------------------------------------------------------


def test_a_new_upload_starts_again_from_any_status_keeping_the_data_readable(acme: Acme) -> None:
    acme.seeded("ds-sales", status="FAILED", error={"code": "CSV_MALFORMED", "message": "bad", "line": 3})
    answer = acme.alice.post("/datasets/ds-sales/uploads")
    assert answer.status == 201, answer.body
    upload = answer.data
    stored = acme.item("ds-sales")
    assert stored is not None
    upload_id = stored["uploadId"]
    assert upload["key"] == acme.prefix + layout.upload_key("ds-sales", upload_id)
    assert (stored["status"], stored["maxBytes"], stored["importId"]) == (
        "UPLOADING",
        1 * GiB,
        "imp-ds-sales",
    )
    assert "error" not in stored
    assert time.time() < stored["uploadExpiresAt"] <= time.time() + 900
    assert upload["maxBytes"] == 1 * GiB
    assert acme.audit("ds-sales") == ["dataset.create", "dataset.upload"]
    assert post_file(upload, b"a\n1\n").status_code in (200, 201, 204)
    assert acme.object(layout.upload_key("ds-sales", upload_id)) == b"a\n1\n"
    assert acme.alice.get("/datasets/ds-sales/preview").status == 200  # the previous import's data
    assert acme.alice.post(f"/datasets/{NEVER}/uploads").status == 404


# --- GET /datasets/{id}/preview --------------------------------------------------------------------


def test_preview_answers_the_first_rows_of_the_current_import(acme: Acme) -> None:
    acme.seeded("ds-sales")
    preview = acme.bob.get("/datasets/ds-sales/preview")
    assert preview.status == 200, preview.body
    assert preview.data["rows"] == ROWS  # 3 rows: fewer than the default 20
    assert (preview.data["datasetId"], preview.data["totalRows"]) == ("ds-sales", 3)
    assert [(c["name"], c["type"]) for c in preview.data["columns"]] == [
        ("region", "string"),
        ("amount", "int64"),
    ]
    assert acme.bob.get("/datasets/ds-sales/preview?rows=2").data["rows"] == ROWS[:2]
    for rows in ("0", "101", "x"):
        assert acme.bob.get(f"/datasets/ds-sales/preview?rows={rows}").status == 422
    assert acme.bob.get("/datasets/ds-sales/preview?rows=100").status == 200
    assert acme.bob.get(f"/datasets/{NEVER}/preview").status == 404


def test_preview_before_any_import_is_409_dataset_not_ready(acme: Acme) -> None:
    dataset_id = created(acme.alice)["dataset"]["datasetId"]
    refused = acme.alice.get(f"/datasets/{dataset_id}/preview")
    assert (refused.status, refused.error["code"]) == (409, "DATASET_NOT_READY")


# --- DELETE /datasets/{id} -------------------------------------------------------------------------


def test_delete_removes_the_objects_and_the_item(acme: Acme) -> None:
    item = acme.seeded("ds-sales")
    pending = layout.upload_key("ds-sales", "pending-upload")
    acme.set_item("ds-sales", "SET uploadId = :u, #s = :s", {":u": "pending-upload", ":s": "UPLOADING"})
    boto3.client("s3").put_object(Bucket=acme.bucket, Key=acme.prefix + pending, Body=b"a\n1\n")
    keys_ = [*item["files"], item["sourceKey"], layout.preview_key("ds-sales", "imp-ds-sales"), pending]
    assert all(acme.object(k) is not None for k in keys_)
    assert acme.counter() == 1
    deleted = acme.alice.request("DELETE", "/datasets/ds-sales")
    assert deleted.status == 204, deleted.body
    assert [k for k in keys_ if acme.object(k) is not None] == []
    assert acme.item("ds-sales") is None
    assert acme.counter() == 0
    assert acme.audit("ds-sales") == ["dataset.create", "dataset.delete"]
    assert acme.alice.get("/datasets/ds-sales").status == 404
    assert acme.alice.request("DELETE", "/datasets/ds-sales").status == 404


def test_delete_is_refused_while_a_card_uses_the_dataset(acme: Acme) -> None:
    item = acme.seeded("ds-sales")
    card = acme.bob.post("/cards", {"name": "Totals", "datasetIds": ["ds-sales"]})
    assert card.status == 201, card.body
    before = acme.item("ds-sales")
    refused = acme.alice.request("DELETE", "/datasets/ds-sales")
    assert (refused.status, refused.error["code"]) == (409, "DATASET_IN_USE")
    assert refused.error["details"] == {"cardIds": [card.data["cardId"]]}
    assert acme.item("ds-sales") == before  # unmarked: no deletingAt left
    assert all(acme.object(k) is not None for k in [*item["files"], item["sourceKey"]])
    assert acme.alice.get("/datasets/ds-sales").status == 200
    assert acme.bob.request("DELETE", f"/cards/{card.data['cardId']}").status == 204
    assert acme.alice.request("DELETE", "/datasets/ds-sales").status == 204


def test_a_retried_delete_finishes_an_interrupted_one(acme: Acme) -> None:
    item = acme.seeded("ds-sales")
    acme.set_item("ds-sales", "SET deletingAt = :t", {":t": "2026-12-03T10:00:00.000Z"})  # marked, then died
    assert acme.alice.get("/datasets/ds-sales").status == 404
    assert acme.alice.get("/datasets").data == []
    refused = acme.bob.post("/cards", {"name": "late", "datasetIds": ["ds-sales"]})  # no new use
    assert (refused.status, refused.error["details"][0]["field"]) == (422, "datasetIds.0")
    assert acme.bob.request("DELETE", "/datasets/ds-sales").status == 404  # not theirs to finish
    assert acme.alice.post("/datasets/ds-sales/uploads").status == 404
    assert acme.alice.request("DELETE", "/datasets/ds-sales").status == 204
    assert acme.item("ds-sales") is None
    assert acme.object(item["sourceKey"]) is None
    assert acme.counter() == 0


def test_delete_of_a_new_dataset_removes_its_uploaded_file(acme: Acme) -> None:
    made = created(acme.alice)
    assert post_file(made["upload"], b"a\n1\n").status_code in (200, 201, 204)
    relative = layout.upload_key(made["dataset"]["datasetId"], made["dataset"]["uploadId"])
    assert acme.object(relative) is not None
    assert acme.alice.request("DELETE", f"/datasets/{made['dataset']['datasetId']}").status == 204
    assert acme.object(relative) is None


# --- cards name existing datasets ------------------------------------------------------------------


def test_a_card_naming_an_unknown_dataset_is_422_naming_it(acme: Acme) -> None:
    acme.seeded("ds-sales")
    refused = acme.alice.post("/cards", {"name": "x", "datasetIds": ["ds-sales", "ds-nowhere"]})
    assert (refused.status, refused.error["code"]) == (422, "VALIDATION_ERROR")
    assert [d["field"] for d in refused.error["details"]] == ["datasetIds.1"]
    assert acme.items("CARD") == {}
    card = acme.alice.post("/cards", {"name": "x", "datasetIds": ["ds-sales"]}).data
    acme.seeded("ds-other")
    added = acme.alice.patch(
        f"/cards/{card['cardId']}", {"datasetIds": ["ds-sales", "ds-other", NEVER], "version": 1}
    )
    assert (added.status, added.error["details"][0]["field"]) == (422, "datasetIds.2")
    fine = acme.alice.patch(
        f"/cards/{card['cardId']}", {"datasetIds": ["ds-other", "ds-sales"], "version": 1}
    )
    assert fine.status == 200, fine.body


# --- another tenant --------------------------------------------------------------------------------


def test_another_tenants_token_gets_404_on_every_route(
    cloud: Cloud, app: ApiClient, onboard: Any, acme: Acme
) -> None:
    acme.seeded("ds-sales")
    before = acme.item("ds-sales")
    onboard("other", "ENTERPRISE")
    other = admin_of(cloud, app, "other")
    for method, path, body in (
        ("GET", "/datasets/ds-sales", None),
        ("GET", "/datasets/ds-sales/preview", None),
        ("PATCH", "/datasets/ds-sales", {"name": "mine", "version": 1}),
        ("PATCH", "/datasets/ds-sales", {"partitionColumn": "region", "version": 1}),
        ("POST", "/datasets/ds-sales/uploads", None),
        ("DELETE", "/datasets/ds-sales", None),
    ):
        answer = other.request(method, path, body)
        assert (answer.status, answer.error["code"]) == (404, "NOT_FOUND"), (method, path, answer.body)
    assert other.get("/datasets").data == []
    assert other.post("/cards", {"name": "x", "datasetIds": ["ds-sales"]}).status == 422
    assert acme.item("ds-sales") == before
    assert (
        json.loads(acme.object("datasets/ds-sales/imports/imp-ds-sales/preview.json") or b"{}")["rows"]
        == ROWS
    )
