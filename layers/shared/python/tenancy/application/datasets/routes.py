"""The datasets routes of the app API (`/datasets`): see service.py for who may do what."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from tenancy.application.access.dependencies import Caller, Store, tenant_data
from tenancy.application.datasets import service
from tenancy.application.datasets.models import (
    DEFAULT_PREVIEW_ROWS,
    PREVIEW_ROWS,
    CreateDatasetRequest,
    UpdateDatasetRequest,
)
from tenancy.application.datasets.repository import Datasets
from tenancy.application.datasets.service import ObjectsOf
from tenancy.common import http
from tenancy.common.http import COMPONENTS, JSON, Cursor, Limit, PathId

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

router = http.router()
LINKS = ("getDataset", "updateDataset", "deleteDataset", "createDatasetUpload", "getDatasetPreview")
_UPSTREAM = {
    502: "Storage refused the re-import's copy of the dataset's source (`COPY_FAILED`; the dataset "
    "is FAILED with that error)",
    503: "Storage could not be reached or asked to slow down (`STORAGE_UNAVAILABLE`); try again",
}


def datasets(store: Store) -> Datasets:
    return Datasets(store)


def objects(caller: Caller) -> ObjectsOf:
    """The caller's tenant's objects, as the tenant, opened only if the route gets that far."""
    return lambda: tenant_data().objects(caller.tenant_id)


TenantDatasets = Annotated[Datasets, Depends(datasets)]
TenantObjectsOf = Annotated[ObjectsOf, Depends(objects)]
PreviewRows = Annotated[
    int, Query(ge=1, le=PREVIEW_ROWS, description=f"how many of the first rows (at most {PREVIEW_ROWS})")
]


def _created_with_links() -> dict[int, OpenAPIResponse]:
    """201 DatasetWithUpload, linked to the operations on the dataset it holds (`data.dataset`)."""
    documented = http.responses(201, "DatasetWithUpload", errors=[403, 409], body=True)
    documented[201]["links"] = {
        operation[0].upper() + operation[1:]: {
            "operationId": operation,
            "parameters": {"datasetId": "$response.body#/data/dataset/datasetId"},
        }
        for operation in LINKS
    }
    return documented


def _with_upstream(documented: dict[int, OpenAPIResponse]) -> dict[int, OpenAPIResponse]:
    for status, description in _UPSTREAM.items():
        documented[status] = {
            "description": description,
            "content": {JSON: {"schema": {"$ref": COMPONENTS + "ErrorResponse"}}},
        }
    return documented


@router.post("/datasets", operation_id="createDataset", responses=_created_with_links())
def create_dataset(
    body: CreateDatasetRequest, caller: Caller, datasets: TenantDatasets, objects: TenantObjectsOf
) -> Response[str]:
    return http.ok(service.create_dataset(datasets, caller, body, objects), status=201)


@router.get(
    "/datasets",
    operation_id="listDatasets",
    responses=http.responses(200, "Dataset", errors=[400, 403], page=True),
)
def list_datasets(datasets: TenantDatasets, limit: Limit = 20, cursor: Cursor = None) -> Response[str]:
    return http.page(service.list_datasets(datasets, limit, cursor), limit=limit)


@router.get(
    "/datasets/<datasetId>",
    operation_id="getDataset",
    responses=http.responses(200, "Dataset", errors=[403, 404]),
)
def get_dataset(datasetId: PathId, datasets: TenantDatasets) -> Response[str]:
    return http.ok(service.get_dataset(datasets, datasetId))


@router.patch(
    "/datasets/<datasetId>",
    operation_id="updateDataset",
    responses=_with_upstream(http.responses(200, "Dataset", errors=[403, 404, 409], body=True)),
)
def update_dataset(
    datasetId: PathId,
    body: UpdateDatasetRequest,
    caller: Caller,
    datasets: TenantDatasets,
    objects: TenantObjectsOf,
) -> Response[str]:
    return http.ok(service.update_dataset(datasets, caller, datasetId, body, objects))


@router.delete(
    "/datasets/<datasetId>",
    operation_id="deleteDataset",
    responses=http.responses(204, errors=[403, 404, 409]),
)
def delete_dataset(
    datasetId: PathId, caller: Caller, datasets: TenantDatasets, objects: TenantObjectsOf
) -> Response[str]:
    service.delete_dataset(datasets, caller, datasetId, objects)
    return http.no_content()


@router.post(
    "/datasets/<datasetId>/uploads",
    operation_id="createDatasetUpload",
    responses=http.responses(201, "Upload", errors=[403, 404]),
)
def create_upload(
    datasetId: PathId, caller: Caller, datasets: TenantDatasets, objects: TenantObjectsOf
) -> Response[str]:
    return http.ok(service.new_upload(datasets, caller, datasetId, objects), status=201)


@router.get(
    "/datasets/<datasetId>/preview",
    operation_id="getDatasetPreview",
    responses=http.responses(200, "Preview", errors=[403, 404, 409]),
)
def get_preview(
    datasetId: PathId,
    datasets: TenantDatasets,
    objects: TenantObjectsOf,
    rows: PreviewRows = DEFAULT_PREVIEW_ROWS,
) -> Response[str]:
    return http.ok(service.preview(datasets, datasetId, rows, objects))
