"""A tenant's datasets: who may do what, and each route's steps (the import itself is importer.py).

- Every user of the tenant lists, reads and previews every dataset of the tenant (and may use it in
  a card); its owner (`ownerId`, the user who created it) or a tenant admin changes it, uploads a
  new file to it and deletes it; anyone else gets 403. A dataset being deleted is a 404.
- `POST /datasets` creates it `UPLOADING` (counted: 409 `LIMIT_REACHED` at the plan's `datasets`)
  and answers a presigned POST for `uploads/<uploadId>.csv`, capped at the plan's
  `datasetUploadBytes` (S3 refuses a larger body); the upload's object event runs the import.
- `POST /datasets/{id}/uploads`: a new `uploadId` and presigned POST (the previous import's data
  stays readable until the new one is READY).
- `PATCH` of `partitionColumn` (to another value) re-imports: one conditional write (new uploadId,
  `UPLOADING`), then a copy of the current source (`sourceKey`) to the new upload's key, as the
  tenant; its object event runs the import. No source yet: 409 `DATASET_NO_SOURCE`. A failed copy
  marks the dataset `FAILED` (`COPY_FAILED`) and is answered 502 (503 when S3 asked to slow down or
  could not be reached).
- `DELETE`: marks `deletingAt` (from then on no card may name it and no import completes), refuses
  with 409 `DATASET_IN_USE` {cardIds} while a card uses it (and unmarks), deletes its objects, then
  the item. A retried DELETE finishes an interrupted one.
- The view answers a dataset that can no longer move (an upload never made before its POST expired,
  an import running for more than 20 minutes) as `FAILED` (repository.stale_error).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tenancy.application.access.tenant_objects import ObjectNotFoundError, TenantObjects
from tenancy.application.datasets import layout
from tenancy.application.datasets.models import (
    COPY_FAILED,
    UPLOAD_SECONDS,
    CreateDatasetRequest,
    Dataset,
    DatasetStatus,
    DatasetWithUpload,
    Preview,
    UpdateDatasetRequest,
    Upload,
)
from tenancy.application.datasets.repository import (
    Datasets,
    StateChanged,
    as_dataset,
    iso,
    live,
    not_found,
)
from tenancy.common.dynamo import Page
from tenancy.common.errors import (
    ConflictError,
    Forbidden,
    InvalidRequestError,
    NotFoundError,
    TenancyError,
)
from tenancy.contracts.context import TenantContext
from tenancy.contracts.plans import Limit

# The tenant's objects, reached only when a route needs them (an STS session for S3 otherwise unused).
ObjectsOf = Callable[[], TenantObjects]
# S3 errors that say "try again later" rather than "this cannot work" (answered 503, not 502).
_UNAVAILABLE = frozenset({"SlowDown", "ServiceUnavailable", "Throttling", "ThrottlingException", "503"})


class DatasetInUseError(ConflictError):
    """A dataset cards use cannot be deleted: 409, naming them."""

    code = "DATASET_IN_USE"


class DatasetNotReadyError(ConflictError):
    """The dataset has no imported data yet (nothing to preview or execute over): 409."""

    code = "DATASET_NOT_READY"


class DatasetNoSourceError(ConflictError):
    """A re-import of a dataset that has no imported CSV to re-import: 409."""

    code = "DATASET_NO_SOURCE"


class CopyFailedError(TenancyError):
    """S3 refused the re-import's copy of the source: 502 (the dataset is FAILED, COPY_FAILED)."""

    status_code = 502
    code = "COPY_FAILED"


class StorageUnavailableError(TenancyError):
    """S3 could not be reached or asked to slow down during the copy: 503, retry the PATCH later."""

    status_code = 503
    code = "STORAGE_UNAVAILABLE"


# --- who may ---------------------------------------------------------------------------------------


def live_dataset(datasets: Datasets, dataset_id: str) -> dict[str, Any]:
    """The dataset as stored; 404 when there is none or it is being deleted."""
    item = datasets.find(dataset_id)
    if item is None or not live(item):
        raise not_found(dataset_id)
    return item


def _may_write(item: dict[str, Any], caller: TenantContext) -> bool:
    return bool(item.get("ownerId") == caller.user_id or caller.is_admin)


def writable(datasets: Datasets, dataset_id: str, caller: TenantContext, action: str) -> dict[str, Any]:
    item = live_dataset(datasets, dataset_id)
    if not _may_write(item, caller):
        raise Forbidden(f"only a dataset's owner or a tenant admin may {action} it")
    return item


def upload_cap(caller: TenantContext) -> int:
    """The largest file one upload may be: the tenant's plan's `datasetUploadBytes`."""
    return caller.effective_config().limit(Limit.DATASET_UPLOAD_BYTES)


def _new_id() -> str:
    return str(uuid.uuid4())


def _upload(objects: TenantObjects, dataset_id: str, upload_id: str, max_bytes: int, expires: int) -> Upload:
    relative = layout.upload_key(dataset_id, upload_id)
    post = objects.presigned_post(relative, max_bytes, expires_in=max(1, expires - int(time.time())))
    return Upload(
        url=str(post["url"]),
        fields={str(k): str(v) for k, v in post["fields"].items()},
        key=objects.key(relative),
        method="POST",
        maxBytes=max_bytes,
        expiresAt=iso(expires),
    )


# --- routes ----------------------------------------------------------------------------------------


def create_dataset(
    datasets: Datasets, caller: TenantContext, request: CreateDatasetRequest, objects: ObjectsOf
) -> DatasetWithUpload:
    tenant_objects = objects()  # the tenant's storage first: nothing is created if it cannot be reached
    dataset_id, upload_id = _new_id(), _new_id()
    expires, max_bytes = int(time.time()) + UPLOAD_SECONDS, upload_cap(caller)
    attributes = {
        "datasetId": dataset_id,
        "ownerId": caller.user_id,
        **request.model_dump(),
        "status": DatasetStatus.UPLOADING.value,
        "uploadId": upload_id,
        "uploadExpiresAt": expires,
        "maxBytes": max_bytes,
        "dataVersion": 0,
        "columns": [],
    }
    item = datasets.create(dataset_id, attributes, caller.effective_config().limit(Limit.DATASETS))
    return DatasetWithUpload(
        dataset=as_dataset(item), upload=_upload(tenant_objects, dataset_id, upload_id, max_bytes, expires)
    )


def list_datasets(datasets: Datasets, limit: int, cursor: str | None) -> Page[Dataset]:
    found = datasets.page(limit=limit, cursor=cursor)
    now = time.time()
    return Page([as_dataset(item, now) for item in found.items], found.next_cursor)


def get_dataset(datasets: Datasets, dataset_id: str) -> Dataset:
    return as_dataset(live_dataset(datasets, dataset_id))


def update_dataset(
    datasets: Datasets,
    caller: TenantContext,
    dataset_id: str,
    request: UpdateDatasetRequest,
    objects: ObjectsOf,
) -> Dataset:
    """New name/description at `version`; a `partitionColumn` other than the current one re-imports
    the current source into the new layout (the module's docstring)."""
    changes = request.model_dump(include={"name", "description"}, exclude_none=True)
    partitioning = "partitionColumn" in request.model_fields_set
    if not changes and not partitioning:
        raise InvalidRequestError(
            "nothing to change",
            [{"field": "body", "message": "name, description or partitionColumn besides version"}],
        )
    item = writable(datasets, dataset_id, caller, "change")
    column = request.partitionColumn
    if not partitioning or column == item.get("partitionColumn"):
        datasets.update(dataset_id, verb="update", set_values=changes, expected_version=request.version)
        return get_dataset(datasets, dataset_id)
    source = item.get("sourceKey")
    if not source:
        raise DatasetNoSourceError(
            f"dataset {dataset_id} has no imported file to re-import; upload one first",
            {"status": str(item.get("status"))},
        )
    tenant_objects = objects()
    upload_id, expires = _new_id(), int(time.time()) + UPLOAD_SECONDS
    set_values: dict[str, Any] = {
        **changes,
        "status": DatasetStatus.UPLOADING.value,
        "uploadId": upload_id,
        "uploadExpiresAt": expires,
    }
    remove: tuple[str, ...] = ("error",)
    if column is None:
        remove += ("partitionColumn",)
    else:
        set_values["partitionColumn"] = column
    datasets.update(
        dataset_id, verb="update", set_values=set_values, remove=remove, expected_version=request.version
    )
    _copy_source(datasets, tenant_objects, dataset_id, str(source), upload_id)
    return get_dataset(datasets, dataset_id)


def _copy_source(
    datasets: Datasets, objects: TenantObjects, dataset_id: str, source: str, upload_id: str
) -> None:
    """CopyObject (as the tenant) of the current source to the new upload's key; its object event
    runs the import. A failed copy marks the dataset FAILED (if that upload is still its own)."""
    target = layout.upload_key(dataset_id, upload_id)
    try:
        objects.s3.copy_object(
            Bucket=objects.bucket,
            Key=objects.key(target),
            CopySource={"Bucket": objects.bucket, "Key": objects.key(source)},
        )
        return
    except (ClientError, BotoCoreError) as error:
        code = str(error.response.get("Error", {}).get("Code", "")) if isinstance(error, ClientError) else ""
        unavailable = code in _UNAVAILABLE or not isinstance(error, ClientError)
        reason = code or type(error).__name__
    message = f"the re-import could not copy the dataset's source ({reason})"
    # superseded by a newer upload, or being deleted: that one tells its own story
    with contextlib.suppress(StateChanged, NotFoundError):
        datasets.update(
            dataset_id,
            verb="import.failed",
            set_values={
                "status": DatasetStatus.FAILED.value,
                "error": {"code": COPY_FAILED, "message": message},
            },
            condition="uploadId = :upload",
            condition_values={":upload": upload_id},
        )
    if unavailable:
        raise StorageUnavailableError(message + "; try again", {"datasetId": dataset_id})
    raise CopyFailedError(message, {"datasetId": dataset_id})


def new_upload(datasets: Datasets, caller: TenantContext, dataset_id: str, objects: ObjectsOf) -> Upload:
    """A new upload of the dataset (from any status): a new uploadId, UPLOADING, at the plan's cap."""
    writable(datasets, dataset_id, caller, "upload to")
    tenant_objects = objects()
    upload_id, expires, max_bytes = _new_id(), int(time.time()) + UPLOAD_SECONDS, upload_cap(caller)
    datasets.update(
        dataset_id,
        verb="upload",
        set_values={
            "status": DatasetStatus.UPLOADING.value,
            "uploadId": upload_id,
            "uploadExpiresAt": expires,
            "maxBytes": max_bytes,
        },
        remove=("error",),
    )
    return _upload(tenant_objects, dataset_id, upload_id, max_bytes, expires)


def delete_dataset(datasets: Datasets, caller: TenantContext, dataset_id: str, objects: ObjectsOf) -> None:
    item = datasets.find(dataset_id)
    if item is None:
        raise not_found(dataset_id)
    if not _may_write(item, caller):
        if not live(item):
            raise not_found(dataset_id)
        raise Forbidden("only a dataset's owner or a tenant admin may delete it")
    if live(item):
        datasets.mark_deleting(dataset_id)
    # No card can name the dataset from the mark on (cards check `DATASET#<id>` for it), so the
    # cards that use it are exactly what this query finds.
    card_ids = datasets.cards_using(dataset_id)
    if card_ids:
        datasets.unmark_deleting(dataset_id)
        raise DatasetInUseError(
            f"dataset {dataset_id} is used by {len(card_ids)} card(s); change or delete them first",
            {"cardIds": card_ids},
        )
    marked = datasets.find(dataset_id)  # an import may have completed between the read and the mark
    if marked is None:
        raise not_found(dataset_id)
    tenant_objects = objects()
    tenant_objects.delete(list(dict.fromkeys(_objects_of(dataset_id, marked))))
    datasets.delete(dataset_id)


def _objects_of(dataset_id: str, item: dict[str, Any]) -> list[str]:
    """Every object the item knows of (relative keys): the current import's files and preview, its
    source, the pending upload and what its import writes for sure (its data file and preview), the
    objects an earlier import left to delete (`garbage`) and those an import recorded before
    writing them (`pending`; importer.py). Read after the mark, so it is the final record: no
    import records or switches from then on. What an import still running writes after this read,
    it deletes itself when its final write finds the dataset being deleted."""
    found = [str(key) for key in item.get("files") or []]
    if item.get("importId"):
        found.append(layout.preview_key(dataset_id, str(item["importId"])))
    if item.get("sourceKey"):
        found.append(str(item["sourceKey"]))
    if item.get("uploadId"):
        upload_id = str(item["uploadId"])
        found.append(layout.upload_key(dataset_id, upload_id))
        found.append(layout.data_key(dataset_id, upload_id))
        found.append(layout.preview_key(dataset_id, upload_id))
    for recorded in ("garbage", "pending"):
        found.extend(sorted(str(key) for key in item.get(recorded) or ()))
    return found


def preview(datasets: Datasets, dataset_id: str, rows: int, objects: ObjectsOf) -> Preview:
    """The first `rows` rows of the current import (its `preview.json`), its columns and row count;
    409 DATASET_NOT_READY while no import has completed."""
    item = live_dataset(datasets, dataset_id)
    tenant_objects: TenantObjects | None = None
    for _ in range(3):
        import_id = item.get("importId")
        if not import_id:
            raise DatasetNotReadyError(
                f"dataset {dataset_id} has no imported data yet", {"status": as_dataset(item).status.value}
            )
        tenant_objects = tenant_objects or objects()
        try:
            document = json.loads(tenant_objects.get_bytes(layout.preview_key(dataset_id, str(import_id))))
        except ObjectNotFoundError:
            # a newer import completed meanwhile and removed this one's files: read the new one's
            item = live_dataset(datasets, dataset_id)
            if item.get("importId") == import_id:
                raise RuntimeError(
                    f"the preview of import {import_id} of dataset {dataset_id} is missing"
                ) from None
            continue
        return _preview(dataset_id, item, document, rows)
    raise RuntimeError(f"dataset {dataset_id} kept changing while its preview was read")


def _preview(dataset_id: str, item: dict[str, Any], document: Any, rows: int) -> Preview:
    """preview.json is the import's first rows: a list of row objects, or an object holding them
    (`rows`, with `columns` and `totalRows`); the item's columns and rowCount (of the same import)
    come first."""
    listed = document.get("rows", []) if isinstance(document, dict) else document
    meta = document if isinstance(document, dict) else {}
    columns = item.get("columns") or meta.get("columns") or []
    total = item.get("rowCount")
    if total is None:
        total = meta.get("totalRows", len(listed))
    return Preview.model_validate(
        {"datasetId": dataset_id, "columns": columns, "rows": list(listed)[:rows], "totalRows": int(total)}
    )
