"""Datasets and cards through the local cloud (`python -m localcloud`, as `make dev` starts it), over
HTTP with real tokens: a CSV uploaded with the presigned POST the API answers (the file never passes
through the API), the S3 event delivered to the import function, the dataset READY with its schema,
its preview, a card executed over it (then served from the cache), filtered, a dashboard rendered, a
hostile card stopped while the next one runs, a malformed CSV failing with its line, and another
tenant's user who reaches none of it. A pooled tenant and a silo tenant (its own bucket) alike."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.e2e.conftest import RunningCloud
from tests.e2e.test_app_plane import User, token
from tests.e2e.test_local_cloud import create, wait_for

ROWS = [("EU", 10), ("EU", 5), ("US", 7), ("US", 1), ("APAC", 4), ("EU", 10), ("EU", 5), ("US", 7), ("US", 1)]
SALES = "region,amount,day,paid\n" + "".join(
    f"{region},{amount},2026-0{month}-1{month},{str(amount % 2 == 1).lower()}\n"
    for month, (region, amount) in enumerate(ROWS, start=1)
)
TOTALS_CARD = """
totals = {}
for row in rows:
    totals[row["region"]] = totals.get(row["region"], 0) + row["amount"]
html = "<ul>" + "".join(f"<li>{escape(k)}: {v}</li>" for k, v in sorted(totals.items())) + "</ul>"
"""


@pytest.fixture(scope="module")
def tenants(cloud: RunningCloud) -> dict[str, Any]:
    api = cloud.client()
    made = {slug: create(api, slug, tier) for slug, tier in (("ds-pool", "PRO"), ("ds-silo", "ENTERPRISE"))}
    for tenant in made.values():
        status = wait_for(api, tenant["tenantId"], {"PROVISIONED", "FAILED"}, timeout=120)
        assert status["provisioningStatus"] == "PROVISIONED", status
    return made


def upload(user: User, path: str, body: dict[str, Any], csv: str) -> dict[str, Any]:
    """POST the dataset (or its new upload), then send the file to the presigned POST."""
    answer = user("POST", path, body)
    assert answer.status == 201, answer.body
    data = answer.body["data"]
    form = data.get("upload", data)
    sent = requests.post(
        form["url"], data=form["fields"], files={"file": ("data.csv", csv.encode())}, timeout=30
    )
    assert sent.status_code in (200, 201, 204), sent.text
    return data  # type: ignore[no-any-return]


def settled(user: User, dataset_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        dataset = user("GET", f"/datasets/{dataset_id}").body["data"]
        if dataset["status"] in ("READY", "FAILED") or time.monotonic() > deadline:
            return dataset  # type: ignore[no-any-return]
        time.sleep(0.2)


@pytest.mark.parametrize("slug", ["ds-pool", "ds-silo"])
def test_upload_import_preview_execute_render(
    cloud: RunningCloud, tenants: dict[str, Any], slug: str
) -> None:
    admin = User(cloud.client(), token(cloud, slug, f"a@{slug}.example"))
    made = upload(admin, "/datasets", {"name": "Sales", "hasHeader": True, "delimiter": ","}, SALES)
    dataset_id = made["dataset"]["datasetId"]
    assert made["dataset"]["status"] == "UPLOADING"
    assert f"tenants/{tenants[slug]['tenantId']}/datasets/{dataset_id}/uploads/" in made["upload"]["key"]

    dataset = settled(admin, dataset_id)
    assert dataset["status"] == "READY", dataset
    assert dataset["rowCount"] == 9
    assert [(c["name"], c["type"]) for c in dataset["columns"]] == [
        ("region", "string"),
        ("amount", "int64"),
        ("day", "date"),
        ("paid", "bool"),
    ]
    preview = admin("GET", f"/datasets/{dataset_id}/preview?rows=2")
    assert preview.status == 200, preview.body
    assert preview.body["data"]["totalRows"] == 9
    assert preview.body["data"]["rows"][0] == {
        "region": "EU",
        "amount": 10,
        "day": "2026-01-11",
        "paid": False,
    }
    assert len(preview.body["data"]["rows"]) == 2

    card = admin(
        "POST",
        "/cards",
        {
            "name": "Totals",
            "datasetIds": [dataset_id],
            "code": TOTALS_CARD,
            "usedColumns": ["region", "amount"],
            "filterColumns": ["region"],
        },
    )
    assert card.status == 201, card.body
    card_id = card.body["data"]["cardId"]
    first = admin("POST", f"/cards/{card_id}/execute", {})
    assert first.status == 200, first.body
    result = first.body["data"]
    assert result["html"] == "<ul><li>APAC: 4</li><li>EU: 30</li><li>US: 16</li></ul>"
    assert (result["cached"], result["usedColumns"]) == (False, ["region", "amount"])
    second = admin("POST", f"/cards/{card_id}/execute", {})
    assert second.body["data"]["cached"] is True
    assert second.body["data"]["html"] == result["html"]
    filtered = admin(
        "POST", f"/cards/{card_id}/execute", {"filters": [{"column": "region", "values": ["EU"]}]}
    )
    assert filtered.status == 200, filtered.body
    assert filtered.body["data"]["html"] == "<ul><li>EU: 30</li></ul>"
    assert filtered.body["data"]["filterApplicable"] is True

    layout = {"columns": 12, "items": [{"cardId": card_id, "x": 0, "y": 0, "w": 6, "h": 4}]}
    dashboard = admin("POST", "/dashboards", {"name": "Sales", "layout": layout})
    assert dashboard.status == 201, dashboard.body
    rendered = admin("POST", f"/dashboards/{dashboard.body['data']['dashboardId']}/render", {})
    assert rendered.status == 200, rendered.body
    cards = rendered.body["data"]["cards"]
    assert [(c["cardId"], c["status"], c["result"]["html"]) for c in cards] == [
        (card_id, 200, result["html"])
    ]

    # a dataset a card uses is not deleted
    assert admin("DELETE", f"/datasets/{dataset_id}").status == 409


def test_a_hostile_card_is_stopped_and_the_next_one_runs(
    cloud: RunningCloud, tenants: dict[str, Any]
) -> None:
    admin = User(cloud.client(), token(cloud, "ds-pool", "a@ds-pool.example"))
    dataset_id = upload(admin, "/datasets", {"name": "Tiny"}, "n\n1\n2\n")["dataset"]["datasetId"]
    assert settled(admin, dataset_id)["status"] == "READY"
    for code, error in (
        ("while True:\n    pass", "CARD_TIMEOUT"),
        ("import os\nhtml = os.environ['AWS_SECRET_ACCESS_KEY']", "CARD_ERROR"),
        ("html = open('/etc/passwd').read()", "CARD_ERROR"),
        ("import boto3", "CARD_ERROR"),
        ("html = 'x' * (100 * 1024 * 1024)", None),
    ):
        answer = admin("POST", "/cards/preview", {"code": code, "datasetIds": [dataset_id]})
        assert answer.status == 422, (code, answer.body)
        if error:
            assert answer.body["error"]["code"] == error, answer.body
        assert answer.body["error"]["code"] in {
            "CARD_TIMEOUT",
            "CARD_ERROR",
            "CARD_MEMORY",
            "CARD_OUTPUT_TOO_LARGE",
        }
        fine = admin(
            "POST",
            "/cards/preview",
            {"code": "html = str(sum(r['n'] for r in rows))", "datasetIds": [dataset_id]},
        )
        assert fine.status == 200, fine.body
        assert fine.body["data"]["html"] == "3"


def test_a_malformed_csv_fails_with_its_line(cloud: RunningCloud, tenants: dict[str, Any]) -> None:
    admin = User(cloud.client(), token(cloud, "ds-pool", "a@ds-pool.example"))
    dataset_id = upload(admin, "/datasets", {"name": "Broken"}, "a,b\n1,2\n3,4,5\n")["dataset"]["datasetId"]
    dataset = settled(admin, dataset_id)
    assert dataset["status"] == "FAILED", dataset
    assert (dataset["error"]["code"], dataset["error"]["line"]) == ("CSV_MALFORMED", 3)


def test_another_tenant_reaches_none_of_it(cloud: RunningCloud, tenants: dict[str, Any]) -> None:
    owner = User(cloud.client(), token(cloud, "ds-pool", "a@ds-pool.example"))
    other = User(cloud.client(), token(cloud, "ds-silo", "a@ds-silo.example"))
    dataset_id = upload(owner, "/datasets", {"name": "Private"}, "secret\n42\n")["dataset"]["datasetId"]
    assert settled(owner, dataset_id)["status"] == "READY"
    card = owner("POST", "/cards", {"name": "Secret", "datasetIds": [dataset_id], "code": "html = str(rows)"})
    card_id = card.body["data"]["cardId"]
    for method, path, body in (
        ("GET", f"/datasets/{dataset_id}", None),
        ("GET", f"/datasets/{dataset_id}/preview", None),
        ("PATCH", f"/datasets/{dataset_id}", {"name": "Mine", "version": 1}),
        ("DELETE", f"/datasets/{dataset_id}", None),
        ("POST", f"/datasets/{dataset_id}/uploads", {}),
        ("POST", f"/cards/{card_id}/execute", {}),
    ):
        assert other(method, path, body).status == 404, (method, path)
    used = other("POST", "/cards/preview", {"code": "html = 'x'", "datasetIds": [dataset_id]})
    assert used.status in (404, 422), used.body
    assert owner("GET", f"/datasets/{dataset_id}").body["data"]["name"] == "Private"
