"""No object is left behind by a crash, on moto through the functions: the dataset_import function and
the app API's DELETE die at each point where objects are written or deleted (`InvocationCrashed`, as
Lambda's execution environment dies: a timeout, an out-of-memory kill), then the event is delivered
again (Lambda's retry) or something else comes next (another import, the DELETE), and the tenant's
storage — listed whole, with a client that is not the tenant's — holds exactly the current import's
objects and nothing else; what was left to delete is no longer recorded on the item either."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from localcloud.runtime import InvocationCrashed
from tenancy.application.access.tenant_objects import TenantObjects
from tenancy.application.datasets import importer, layout
from tenancy.application.datasets.repository import Datasets
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.integration.conftest import admin_of
from tests.integration.test_dataset_import import CSV, Tenant, event, run

FIRST = b"region,n\nnorth,1\nsouth,2\n"
SECOND = b"region,n\neast,1\nwest,2\nnorth,3\n"
THIRD = b"region,n\nsouth,9\n"


class Stored(Tenant):
    def __init__(self, cloud: Cloud, tenant: dict[str, Any]) -> None:
        super().__init__(cloud, tenant)
        self.baseline = stored(self)  # what onboarding wrote under the prefix, if anything


@pytest.fixture
def acme(cloud: Cloud, onboard: Callable[[str, str], dict[str, Any]]) -> Stored:
    return Stored(cloud, onboard("acme", "PRO"))


def stored(tenant: Tenant) -> set[str]:
    """Every object under the tenant's prefix (relative keys), listed with the test's own client."""
    found: set[str] = set()
    for page in (
        boto3.client("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=tenant.bucket, Prefix=tenant.prefix)
    ):
        found.update(o["Key"][len(tenant.prefix) :] for o in page.get("Contents", []))
    return found


def left(tenant: Stored) -> set[str]:
    return stored(tenant) - tenant.baseline


def import_objects(dataset_id: str, upload_id: str, values: list[str] | None = None) -> set[str]:
    """The objects of one import: its Parquet (one per partition value), its preview, its CSV."""
    files = (
        {layout.data_key(dataset_id, upload_id)}
        if values is None
        else {layout.partition_key(dataset_id, upload_id, "region", v) for v in values}
    )
    return files | {layout.preview_key(dataset_id, upload_id), layout.upload_key(dataset_id, upload_id)}


def crash(*_args: Any, **_kwargs: Any) -> Any:
    raise InvocationCrashed("the execution environment died")


def deleting_then_crash(after: int) -> Callable[..., None]:
    """TenantObjects.delete that deletes the first `after` keys, then dies."""
    real = TenantObjects.delete

    def delete(self: TenantObjects, relatives: list[str]) -> None:
        real(self, relatives[:after])
        raise InvocationCrashed(f"died after deleting {after} object(s)")

    return delete


def crashed(cloud: Cloud, tenant: Tenant, key: str) -> None:
    invocation = cloud.runtime.invoke("dataset_import", event(tenant.bucket, key))
    assert isinstance(invocation.error, InvocationCrashed), invocation


def partitioned(cloud: Cloud, tenant: Stored) -> tuple[str, str]:
    """A dataset partitioned by region, READY with FIRST (north, south)."""
    dataset_id, upload_id = tenant.create_dataset(partitionColumn="region")
    assert run(cloud, tenant, tenant.upload(dataset_id, upload_id, FIRST))["outcome"] == "ready"
    assert left(tenant) == import_objects(dataset_id, upload_id, ["north", "south"])
    return dataset_id, upload_id


def clean(tenant: Stored, dataset_id: str) -> dict[str, Any]:
    item = tenant.item(dataset_id)
    assert "garbage" not in item
    assert "pending" not in item
    return item


# --- after the switch: the previous import's objects -----------------------------------------------


@pytest.mark.parametrize(
    "dies",
    [
        pytest.param(lambda mp: mp.setattr(importer._Import, "_collect", crash), id="before-deleting"),
        pytest.param(lambda mp: mp.setattr(TenantObjects, "delete", deleting_then_crash(1)), id="midway"),
        pytest.param(
            lambda mp: mp.setattr(TenantObjects, "delete", deleting_then_crash(100)), id="before-unrecording"
        ),
    ],
)
def test_a_crash_after_the_switch_leaves_the_previous_import_to_the_redelivery(
    cloud: Cloud, acme: Stored, monkeypatch: pytest.MonkeyPatch, dies: Callable[[pytest.MonkeyPatch], None]
) -> None:
    dataset_id, first = partitioned(cloud, acme)
    second = acme.new_upload(dataset_id)
    key = acme.upload(dataset_id, second, SECOND)
    with monkeypatch.context() as patched:
        dies(patched)
        crashed(cloud, acme, key)
    item = acme.item(dataset_id)
    assert (item["status"], item["importId"]) == ("READY", second)  # switched, then died
    # the switch itself recorded what is to go
    assert item["garbage"] == import_objects(dataset_id, first, ["north", "south"])
    assert "pending" not in item
    assert left(acme) >= import_objects(dataset_id, second, ["east", "west", "north"])
    assert run(cloud, acme, key)["outcome"] == "duplicate"
    assert left(acme) == import_objects(dataset_id, second, ["east", "west", "north"])
    assert clean(acme, dataset_id)["importId"] == second


def test_after_such_a_crash_without_redelivery_the_next_import_deletes_what_was_left(
    cloud: Cloud, acme: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id, _ = partitioned(cloud, acme)
    second = acme.new_upload(dataset_id)
    with monkeypatch.context() as patched:
        patched.setattr(importer._Import, "_collect", crash)
        crashed(cloud, acme, acme.upload(dataset_id, second, SECOND))
    third = acme.new_upload(dataset_id)
    assert run(cloud, acme, acme.upload(dataset_id, third, THIRD))["outcome"] == "ready"
    assert left(acme) == import_objects(dataset_id, third, ["south"])
    assert clean(acme, dataset_id)["importId"] == third


# --- while writing: the import's own objects --------------------------------------------------------


def test_a_crash_while_writing_then_a_new_upload_the_redelivery_deletes_what_was_written(
    cloud: Cloud, acme: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id, first = partitioned(cloud, acme)
    second = acme.new_upload(dataset_id)
    key = acme.upload(dataset_id, second, SECOND)
    real = TenantObjects.upload
    calls: list[str] = []

    def upload_then_die(self: TenantObjects, path: str, relative: str) -> None:
        calls.append(relative)
        if len(calls) == 2:
            raise InvocationCrashed("died while writing")
        real(self, path, relative)

    with monkeypatch.context() as patched:
        patched.setattr(TenantObjects, "upload", upload_then_die)
        crashed(cloud, acme, key)
    written = {layout.partition_key(dataset_id, second, "region", "east")}
    assert left(acme) == import_objects(dataset_id, first, ["north", "south"]) | {
        layout.upload_key(dataset_id, second),
        *written,
    }
    item = acme.item(dataset_id)
    assert item["status"] == "IMPORTING"
    # recorded before anything was written: every key this import was going to write
    assert item["pending"] == import_objects(dataset_id, second, ["east", "west", "north"])
    third = acme.new_upload(dataset_id)  # the user gave up and uploads again: the retry is superseded
    assert run(cloud, acme, key)["outcome"] == "superseded"
    assert left(acme) == import_objects(dataset_id, first, ["north", "south"])
    clean(acme, dataset_id)
    assert run(cloud, acme, acme.upload(dataset_id, third, THIRD))["outcome"] == "ready"
    assert left(acme) == import_objects(dataset_id, third, ["south"])


def test_a_crash_while_writing_then_the_delete_deletes_what_was_written(
    cloud: Cloud, acme: Stored, app: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id, _ = partitioned(cloud, acme)
    second = acme.new_upload(dataset_id)
    real = TenantObjects.put_bytes

    def preview_then_die(self: TenantObjects, relative: str, body: bytes, content_type: str = "") -> None:
        real(self, relative, body, content_type)
        raise InvocationCrashed("died after the last write, before the switch")

    with monkeypatch.context() as patched:
        patched.setattr(TenantObjects, "put_bytes", preview_then_die)
        crashed(cloud, acme, acme.upload(dataset_id, second, SECOND))
    assert layout.partition_key(dataset_id, second, "region", "west") in left(acme)
    assert admin_of(cloud, app, "acme").request("DELETE", f"/datasets/{dataset_id}").status == 204
    assert left(acme) == set()


def test_a_crash_discarding_a_refused_switch_is_finished_by_the_redelivery(
    cloud: Cloud, acme: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id, first = partitioned(cloud, acme)
    second = acme.new_upload(dataset_id)
    key = acme.upload(dataset_id, second, SECOND)
    real = TenantObjects.put_bytes
    newer: list[str] = []

    def superseded_meanwhile(self: TenantObjects, relative: str, body: bytes, content_type: str = "") -> None:
        real(self, relative, body, content_type)
        newer.append(acme.new_upload(dataset_id))  # a new upload while the import wrote its files

    with monkeypatch.context() as patched:
        patched.setattr(TenantObjects, "put_bytes", superseded_meanwhile)
        patched.setattr(TenantObjects, "delete", deleting_then_crash(1))  # the discard dies
        crashed(cloud, acme, key)
    assert acme.item(dataset_id)["importId"] == first  # refused
    assert run(cloud, acme, key)["outcome"] == "superseded"
    assert left(acme) == import_objects(dataset_id, first, ["north", "south"])
    assert clean(acme, dataset_id)["uploadId"] == newer[0]


def test_a_crash_after_failing_leaves_its_files_to_the_redelivery(
    cloud: Cloud, acme: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id, first = partitioned(cloud, acme)
    second = acme.new_upload(dataset_id)
    key = acme.upload(dataset_id, second, SECOND)

    def storage_error(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("S3 refused the preview")  # after every Parquet file was written

    with monkeypatch.context() as patched:
        patched.setattr(TenantObjects, "put_bytes", storage_error)
        patched.setattr(importer._Import, "_collect", crash)
        crashed(cloud, acme, key)
    item = acme.item(dataset_id)
    assert (item["status"], item["error"]["code"], item["importId"]) == ("FAILED", "IMPORT_FAILED", first)
    assert layout.partition_key(dataset_id, second, "region", "east") in left(acme)
    assert run(cloud, acme, key)["outcome"] == "not importable"
    assert left(acme) == import_objects(dataset_id, first, ["north", "south"])
    assert clean(acme, dataset_id)["status"] == "FAILED"


def test_a_late_event_of_the_current_import_keeps_its_source(cloud: Cloud, acme: Stored) -> None:
    """Superseded by a new upload, the current import's upload is still its source (a re-import
    copies it): a late duplicate of its event must not delete it."""
    dataset_id, first = partitioned(cloud, acme)
    acme.new_upload(dataset_id)
    assert run(cloud, acme, acme.prefix + layout.upload_key(dataset_id, first))["outcome"] == "superseded"
    assert left(acme) == import_objects(dataset_id, first, ["north", "south"])


def test_an_unpartitioned_import_after_crashes_holds_exactly_its_objects(
    cloud: Cloud, acme: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id, first = acme.create_dataset()
    assert run(cloud, acme, acme.upload(dataset_id, first, CSV))["outcome"] == "ready"
    second = acme.new_upload(dataset_id)
    key = acme.upload(dataset_id, second, CSV)
    with monkeypatch.context() as patched:
        patched.setattr(TenantObjects, "delete", deleting_then_crash(2))
        crashed(cloud, acme, key)
    assert run(cloud, acme, key)["outcome"] == "duplicate"
    assert left(acme) == import_objects(dataset_id, second)
    clean(acme, dataset_id)


# --- DELETE ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dies", "objects_left"),
    [
        pytest.param(
            lambda mp: mp.setattr(TenantObjects, "delete", deleting_then_crash(3)), True, id="objects"
        ),
        pytest.param(lambda mp: mp.setattr(Datasets, "delete", crash), False, id="item"),
    ],
)
def test_an_interrupted_delete_retried_deletes_everything_the_item_knew_of(
    cloud: Cloud,
    acme: Stored,
    app: ApiClient,
    monkeypatch: pytest.MonkeyPatch,
    dies: Callable[[pytest.MonkeyPatch], None],
    objects_left: bool,
) -> None:
    """The item knows of every kind of object: the current import (files, preview, source), the
    previous import's left by a crash (garbage), an import's written before it died (pending), and
    a pending upload's file."""
    dataset_id, first = partitioned(cloud, acme)
    second = acme.new_upload(dataset_id)
    with monkeypatch.context() as patched:
        patched.setattr(importer._Import, "_collect", crash)
        crashed(cloud, acme, acme.upload(dataset_id, second, SECOND))  # garbage: the first import
    third = acme.new_upload(dataset_id)
    with monkeypatch.context() as patched:
        real = TenantObjects.put_bytes

        def preview_then_die(self: TenantObjects, relative: str, body: bytes, content_type: str = "") -> None:
            real(self, relative, body, content_type)
            raise InvocationCrashed("died before the switch")

        patched.setattr(TenantObjects, "put_bytes", preview_then_die)
        crashed(cloud, acme, acme.upload(dataset_id, third, THIRD))  # pending: the third's files
    fourth = acme.new_upload(dataset_id)
    acme.upload(dataset_id, fourth, CSV)  # uploaded, its event not delivered yet
    item = acme.item(dataset_id)
    assert item["garbage"] == import_objects(dataset_id, first, ["north", "south"])
    assert item["pending"] == import_objects(dataset_id, third, ["south"])
    assert (
        len(left(acme)) == 4 + 5 + 3 + 1
    )  # the first's and second's (files, preview, source), third's, fourth
    admin = admin_of(cloud, app, "acme")
    with monkeypatch.context() as patched:
        dies(patched)
        with pytest.raises(InvocationCrashed):
            admin.request("DELETE", f"/datasets/{dataset_id}")
    assert acme.item(dataset_id)["deletingAt"]  # marked; the item is still there
    assert bool(left(acme)) is objects_left  # died while deleting objects: some still there
    assert admin.request("DELETE", f"/datasets/{dataset_id}").status == 204
    assert left(acme) == set()
    assert admin.get(f"/datasets/{dataset_id}").status == 404
    # the fourth upload's event, delivered late, finds nothing to do and leaves nothing
    assert run(cloud, acme, acme.prefix + layout.upload_key(dataset_id, fourth))["outcome"] == "superseded"
    assert left(acme) == set()
