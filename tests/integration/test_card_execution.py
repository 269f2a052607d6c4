"""Card execution through the analytics API's handler (behind the real authorizer), on moto: a
dataset is Parquet written with DuckDB under the layout's keys plus its READY item; the executor is
replaced by one that runs the card in this process (`executor.install`), so its calls are seen.

Covered: a card's HTML, projection (usedColumns), filters applied or not applicable, partition
pruning (a pruned file is never downloaded), the result cache (hit, miss after a card update or a
re-import, expired item ignored, useCache false), every error code and its status, who may run a
card (404 for others and for another tenant, nothing read), a preview of unsaved code, a
dashboard's render with one failing card, the filter view a render applies."""

from __future__ import annotations

import datetime
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import duckdb
import pytest

from tenancy.application.access.dependencies import tenant_data
from tenancy.application.access.tenant_objects import TenantObjects
from tenancy.application.analytics import executor, rows, service
from tenancy.application.datasets import layout
from tenancy.application.store import keys
from tenancy.application.store.engine import Actor, TenantStore
from tenancy.application.store.transaction import Transaction
from tenancy.common.dynamo import from_item
from tests.helpers.api import ApiClient
from tests.helpers.cloud import Cloud
from tests.integration.conftest import admin_of, token_for

NEVER = "00000000-0000-4000-8000-000000000000"
SALES = [
    ("north", 10, datetime.date(2024, 1, 5), 1.5),
    ("north", 20, datetime.date(2024, 2, 5), 2.5),
    ("south", 30, datetime.date(2024, 1, 20), 3.5),
    ("east", 40, datetime.date(2024, 3, 1), None),
]
COLUMNS = [("region", "string"), ("amount", "int64"), ("day", "date"), ("ratio", "float64")]
SQL_TYPES = {"string": "VARCHAR", "int64": "BIGINT", "date": "DATE", "float64": "DOUBLE"}
# A card's code: the contract's globals (rows, data, columns, params, filters, escape).
TOTAL = "html = f\"<b>{sum(r['amount'] for r in rows)}</b> {params.get('unit', '')}\""


# --- the executor, in-process ---------------------------------------------------------------------


class Executor:
    """The card_executor function's logic in this process (`handler.run`: its runner runs the code
    in a child process with limits, as deployed); a card whose first line is `#CARD_<X>` answers
    that error code instead (the limits themselves are the sandbox's tests). Every request it was
    given is kept."""

    def __init__(self, cloud: Cloud) -> None:
        self.run: Callable[[dict[str, Any]], dict[str, Any]] = cloud.runtime.module("card_executor").run
        self.requests: list[dict[str, Any]] = []

    def __call__(self, payload: bytes) -> bytes:
        request = json.loads(payload)
        self.requests.append(request)
        code = str(request["code"])
        if code.startswith("#CARD_"):
            error = {"code": code.split()[0][1:], "message": "limit"}
            return json.dumps({"ok": False, "error": error, "executionTimeMs": 3}).encode()
        return json.dumps(self.run(request)).encode()

    @property
    def calls(self) -> int:
        return len(self.requests)


@pytest.fixture
def fake(cloud: Cloud) -> Iterator[Executor]:
    double = Executor(cloud)
    executor.install(double)
    yield double
    executor.install(None)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every object key downloaded (as the tenant) while a test runs; the file cache starts empty."""
    rows.cache().clear()
    seen: list[str] = []
    original = TenantObjects.download

    def download(self: TenantObjects, relative: str, path: str) -> None:
        seen.append(self.key(relative))
        original(self, relative, path)

    monkeypatch.setattr(TenantObjects, "download", download)
    return seen


# --- datasets --------------------------------------------------------------------------------------


def _write_parquet(path: str, data: list[tuple[Any, ...]], columns: list[tuple[str, str]]) -> None:
    connection = duckdb.connect(":memory:")
    definition = ", ".join(f'"{name}" {SQL_TYPES[kind]}' for name, kind in columns)
    connection.execute(f"CREATE TABLE t ({definition})")
    if data:
        marks = ", ".join("?" for _ in columns)
        connection.executemany(f"INSERT INTO t VALUES ({marks})", [list(row) for row in data])  # noqa: S608
    connection.execute(f"COPY t TO '{path}' (FORMAT parquet, COMPRESSION snappy)")
    connection.close()


def put_dataset(
    tenant_id: str,
    dataset_id: str,
    *,
    import_id: str = "imp-1",
    data: list[tuple[Any, ...]] = SALES,
    partition: str | None = None,
    data_version: int = 1,
    ready: bool = True,
) -> dict[str, Any]:
    """Parquet under the layout's keys (partitioned by `partition`: files without that column, as
    Hive's layout has it) and the dataset's item, as an import leaves them."""
    objects = tenant_data().objects(tenant_id)
    files: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        if partition is None:
            files.append(layout.data_key(dataset_id, import_id))
            _write_parquet(os.path.join(folder, "data.parquet"), data, COLUMNS)
            objects.upload(os.path.join(folder, "data.parquet"), files[0])
        else:
            at = [name for name, _ in COLUMNS].index(partition)
            for value in sorted({row[at] for row in data}):
                key = layout.partition_key(dataset_id, import_id, partition, value)
                local = os.path.join(folder, f"{value}.parquet")
                kept = [(n, k) for n, k in COLUMNS if n != partition]
                _write_parquet(local, [row[:at] + row[at + 1 :] for row in data if row[at] == value], kept)
                objects.upload(local, key)
                files.append(key)
    now = "2026-01-01T00:00:00.000000Z"
    item = {
        "datasetId": dataset_id,
        "ownerId": "seed",
        "name": dataset_id,
        "description": "",
        "hasHeader": True,
        "delimiter": ",",
        "encoding": "utf-8",
        "partitionColumn": partition,
        "status": "READY" if ready else "UPLOADING",
        "uploadId": import_id,
        "importId": import_id if ready else None,
        "dataVersion": data_version if ready else 0,
        "rowCount": len(data),
        "columnCount": len(COLUMNS),
        "columns": [{"name": n, "type": k, "nullable": True} for n, k in COLUMNS],
        "files": files if ready else [],
        "version": 1,
        "createdAt": now,
        "updatedAt": now,
    }
    tenant_store(tenant_id).commit(
        Transaction().put(keys.item_sk(keys.DATASET, dataset_id), item, new=False), None
    )
    return item


def tenant_store(tenant_id: str) -> TenantStore:
    """The tenant's store in its own table (pool or silo), as the tenant."""
    return tenant_data().store(tenant_id, Actor("seed", "t"))


def partition_items(cloud: Cloud, tenant_id: str, prefix: str = "") -> dict[str, dict[str, Any]]:
    found = boto3.client("dynamodb").query(
        TableName=cloud.settings.app_table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
        ConsistentRead=True,
    )["Items"]
    return {item["SK"]["S"]: from_item(item) for item in found if item["SK"]["S"].startswith(prefix)}


# --- the world -------------------------------------------------------------------------------------


@pytest.fixture
def acme(cloud: Cloud, app: ApiClient, onboard: Any, fake: Executor, downloads: list[str]) -> dict[str, Any]:
    """A pool tenant with its admin and two members, clients of both APIs, and a sales dataset."""
    tenant = onboard("acme", "PRO")
    analytics = ApiClient(cloud.runtime, "analytics_api")
    users: dict[str, Any] = {"admin": admin_of(cloud, app, "acme")}
    for name in ("alice", "bob"):
        created = users["admin"].post("/users", {"email": f"{name}@acme.example", "role": "member"})
        assert created.status == 201, created.body
        users[name] = app.as_user(token_for(cloud, f"{name}@acme.example"))
    put_dataset(tenant["tenantId"], "ds-sales")
    return {
        "tenant": tenant,
        "tenantId": tenant["tenantId"],
        "app": users,
        "run": {name: analytics.as_user(client.token) for name, client in users.items()},
        "fake": fake,
        "downloads": downloads,
    }


def new_card(world: dict[str, Any], user: str = "alice", **fields: Any) -> dict[str, Any]:
    body = {"name": "total", "datasetIds": ["ds-sales"], "code": TOTAL, **fields}
    created = world["app"][user].post("/cards", body)
    assert created.status == 201, created.body
    return created.data  # type: ignore[no-any-return]


def execute(
    world: dict[str, Any], card_id: str, body: dict[str, Any] | None = None, user: str = "alice"
) -> Any:
    return world["run"][user].post(f"/cards/{card_id}/execute", body or {})


def results(cloud: Cloud, world: dict[str, Any], card_id: str) -> dict[str, dict[str, Any]]:
    return partition_items(cloud, world["tenantId"], keys.card_results_prefix(card_id))


# --- execution -------------------------------------------------------------------------------------


def test_a_card_runs_over_its_dataset_and_its_result_is_cached(cloud: Cloud, acme: dict[str, Any]) -> None:
    card = new_card(acme, params={"unit": "EUR"})
    audit_before = len(partition_items(cloud, acme["tenantId"], "AUDIT#"))
    answer = execute(acme, card["cardId"])
    assert answer.status == 200, answer.body
    assert answer.data == {
        "cardId": card["cardId"],
        "html": "<b>100</b> EUR",
        "usedColumns": ["region", "amount", "day", "ratio"],  # all of them: the card names none
        "filterApplicable": False,
        "appliedFilters": [],
        "executionTimeMs": answer.data["executionTimeMs"],
        "cached": False,
        "dataVersions": {"ds-sales": 1},
    }
    assert isinstance(answer.data["executionTimeMs"], int)
    sent = acme["fake"].requests[0]["datasets"][0]
    assert sent["rowCount"] == 4
    assert sent["data"]["day"] == ["2024-01-05", "2024-02-05", "2024-01-20", "2024-03-01"]  # ISO text
    assert sent["data"]["ratio"] == [1.5, 2.5, 3.5, None]
    assert [c["type"] for c in sent["columns"]] == ["string", "int64", "date", "float64"]
    # the result is an item of the tenant's partition, expiring in an hour; not audited
    (stored,) = results(cloud, acme, card["cardId"]).values()
    assert stored["html"] == "<b>100</b> EUR"
    assert abs(int(stored["expiresAt"]) - (time.time() + 3600)) < 60
    assert len(stored["fingerprint"]) == 32
    assert len(partition_items(cloud, acme["tenantId"], "AUDIT#")) == audit_before
    # the second call is the cached result: the executor is not called, nothing is downloaded
    downloaded = len(acme["downloads"])
    again = execute(acme, card["cardId"])
    assert again.status == 200
    assert again.data == {**answer.data, "cached": True}
    assert acme["fake"].calls == 1
    assert len(acme["downloads"]) == downloaded


def test_a_warm_function_reads_a_dataset_without_downloading_it_again(acme: dict[str, Any]) -> None:
    card = new_card(acme)
    assert execute(acme, card["cardId"], {"useCache": False}).status == 200
    assert execute(acme, card["cardId"], {"useCache": False}).status == 200
    assert acme["fake"].calls == 2
    assert len(acme["downloads"]) == 1


def test_used_columns_are_the_only_columns_given(acme: dict[str, Any]) -> None:
    card = new_card(acme, usedColumns=["amount", "region"], code="html = str(sorted(columns))")
    answer = execute(acme, card["cardId"])
    assert answer.status == 200, answer.body
    assert answer.data["usedColumns"] == ["amount", "region"]
    assert answer.data["html"] == "['amount', 'region']"
    assert set(acme["fake"].requests[0]["datasets"][0]["data"]) == {"amount", "region"}


def test_a_used_column_no_dataset_has_is_422_naming_it(acme: dict[str, Any]) -> None:
    card = new_card(acme, usedColumns=["amount", "colour"])
    answer = execute(acme, card["cardId"])
    assert answer.status == 422
    assert answer.error["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in answer.error["details"]] == ["usedColumns.1"]
    assert "colour" in answer.error["details"][0]["message"]
    assert acme["fake"].calls == 0


def test_filters_apply_to_the_cards_filter_columns_only(acme: dict[str, Any]) -> None:
    card = new_card(acme, filterColumns=["region", "day"])
    north = {"filters": [{"column": "region", "values": ["north", "east"]}]}
    answer = execute(acme, card["cardId"], north)
    assert answer.status == 200, answer.body
    assert answer.data["html"].startswith("<b>70</b>")
    assert answer.data["filterApplicable"] is True
    assert answer.data["appliedFilters"] == [{"column": "region", "values": ["east", "north"]}]
    assert acme["fake"].requests[-1]["filters"] == answer.data["appliedFilters"]
    january = {"filters": [{"column": "day", "from": "2024-01-01", "to": "2024-01-31"}]}
    assert execute(acme, card["cardId"], january).data["html"].startswith("<b>40</b>")
    both = {"filters": [*north["filters"], *january["filters"]]}
    assert execute(acme, card["cardId"], both).data["html"].startswith("<b>10</b>")
    # a filter on a column the card does not let filters apply to, or that its dataset lacks
    for column in ("amount", "colour"):
        ignored = execute(acme, card["cardId"], {"filters": [{"column": column, "values": ["10"]}]})
        assert ignored.status == 200
        assert ignored.data["html"].startswith("<b>100</b>")
        assert (ignored.data["filterApplicable"], ignored.data["appliedFilters"]) == (False, [])


def test_a_filter_on_the_partition_column_never_downloads_the_pruned_partitions(
    cloud: Cloud, acme: dict[str, Any]
) -> None:
    put_dataset(acme["tenantId"], "ds-parts", partition="region")
    card = new_card(
        acme, datasetIds=["ds-parts"], filterColumns=["region"], code="html = repr(sorted(data['region']))"
    )
    answer = execute(acme, card["cardId"], {"filters": [{"column": "region", "values": ["north"]}]})
    assert answer.status == 200, answer.body
    assert answer.data["html"] == "['north', 'north']"  # the partition column, from the key
    north = layout.partition_key("ds-parts", "imp-1", "region", "north")
    assert acme["downloads"] == [f"tenants/{acme['tenantId']}/{north}"]
    sent = acme["fake"].requests[-1]["datasets"][0]
    assert sent["data"]["amount"] == [10, 20]
    # unfiltered, every partition is read
    everything = execute(acme, card["cardId"])
    assert everything.data["html"] == "['east', 'north', 'north', 'south']"
    assert len(acme["downloads"]) == 3


def test_the_cache_misses_after_a_card_update_or_a_new_import(cloud: Cloud, acme: dict[str, Any]) -> None:
    card = new_card(acme)
    assert execute(acme, card["cardId"]).data["cached"] is False
    assert execute(acme, card["cardId"]).data["cached"] is True
    changed = acme["app"]["alice"].patch(f"/cards/{card['cardId']}", {"code": TOTAL + " + '!'", "version": 1})
    assert changed.status == 200, changed.body
    after_update = execute(acme, card["cardId"])
    assert (after_update.data["cached"], after_update.data["html"]) == (False, "<b>100</b> !")
    put_dataset(acme["tenantId"], "ds-sales", import_id="imp-2", data=SALES[:1], data_version=2)
    after_import = execute(acme, card["cardId"])
    assert after_import.data["cached"] is False
    assert after_import.data["html"] == "<b>10</b> !"
    assert after_import.data["dataVersions"] == {"ds-sales": 2}
    assert acme["fake"].calls == 3
    assert len(results(cloud, acme, card["cardId"])) == 3  # one per fingerprint


def test_params_and_filters_are_part_of_the_fingerprint(acme: dict[str, Any]) -> None:
    card = new_card(acme, params={"unit": "EUR"}, filterColumns=["region"])
    assert execute(acme, card["cardId"], {"params": {"unit": "USD"}}).data["html"] == "<b>100</b> USD"
    assert execute(acme, card["cardId"]).data["html"] == "<b>100</b> EUR"
    one = {"filters": [{"column": "region", "values": ["north", "south"]}]}
    other_order = {"filters": [{"column": "region", "values": ["south", "north"]}]}
    assert execute(acme, card["cardId"], one).data["cached"] is False
    assert execute(acme, card["cardId"], other_order).data["cached"] is True  # canonical filters
    # a filter that does not apply leaves the result as it was (same fingerprint)
    assert (
        execute(acme, card["cardId"], {"filters": [{"column": "amount", "values": ["1"]}]}).data["cached"]
        is True
    )
    assert acme["fake"].calls == 3


def test_an_expired_result_is_ignored_and_use_cache_false_runs_again(
    cloud: Cloud, acme: dict[str, Any]
) -> None:
    card = new_card(acme)
    assert execute(acme, card["cardId"]).status == 200
    (sk,) = results(cloud, acme, card["cardId"])
    boto3.client("dynamodb").update_item(
        TableName=cloud.settings.app_table_name,
        Key={"PK": {"S": f"TENANT#{acme['tenantId']}"}, "SK": {"S": sk}},
        UpdateExpression="SET expiresAt = :past, html = :stale",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}, ":stale": {"S": "stale"}},
    )
    answer = execute(acme, card["cardId"])
    assert (answer.data["cached"], answer.data["html"]) == (False, "<b>100</b> ")
    assert acme["fake"].calls == 2
    assert int(results(cloud, acme, card["cardId"])[sk]["expiresAt"]) > time.time()  # written again
    fresh = execute(acme, card["cardId"], {"useCache": False})
    assert fresh.data["cached"] is False
    assert acme["fake"].calls == 3


def test_a_large_result_is_answered_but_not_cached(cloud: Cloud, acme: dict[str, Any]) -> None:
    card = new_card(acme, code="html = 'x' * (300 * 1024 + 1)")
    answer = execute(acme, card["cardId"])
    assert answer.status == 200
    assert len(answer.data["html"]) == 300 * 1024 + 1
    assert results(cloud, acme, card["cardId"]) == {}
    assert execute(acme, card["cardId"]).data["cached"] is False


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["CARD_ERROR", "CARD_TIMEOUT", "CARD_MEMORY", "CARD_OUTPUT_TOO_LARGE"])
def test_a_failing_card_is_422_with_its_code_and_is_not_cached(
    cloud: Cloud, acme: dict[str, Any], code: str
) -> None:
    card = new_card(acme, code=f"#{code}\nhtml = ''")
    answer = execute(acme, card["cardId"])
    assert answer.status == 422
    assert answer.error == {"code": code, "message": "limit"}
    assert results(cloud, acme, card["cardId"]) == {}


def test_a_card_error_names_the_tracebacks_last_line(acme: dict[str, Any]) -> None:
    card = new_card(acme, code="html = str(1 / 0)")
    answer = execute(acme, card["cardId"])
    assert answer.status == 422
    assert answer.error["code"] == "CARD_ERROR"
    assert answer.error["message"] == "ZeroDivisionError: division by zero"


@pytest.mark.parametrize(
    "answer",
    [
        b"not json",
        b'{"ok": true}',
        b'{"ok": false, "executionTimeMs": 1}',
        b'{"ok": true, "executionTimeMs": 1}',
    ],
)
def test_an_executor_answer_that_is_no_result_is_502(acme: dict[str, Any], answer: bytes) -> None:
    card = new_card(acme)
    executor.install(lambda _payload: answer)
    failed = execute(acme, card["cardId"])
    assert failed.status == 502
    assert failed.error["code"] == "EXECUTOR_FAILED"


class _Payload:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def read(self) -> bytes:
        return self.body


class _Lambda:
    def __init__(self, answer: dict[str, Any] | Exception) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_lambda_invocation_function_error_or_transport_failure_is_502(
    acme: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    card = new_card(acme)
    executor.install(None)  # the Lambda client
    monkeypatch.setenv("CARD_EXECUTOR_FUNCTION_NAME", "tenancy-test-card_executor")
    from tenancy.common.config import get_settings

    get_settings.cache_clear()
    ok = {"ok": True, "html": "<i>ran</i>", "executionTimeMs": 4}
    doubles = {
        "ok": _Lambda({"StatusCode": 200, "Payload": _Payload(json.dumps(ok).encode())}),
        "function error": _Lambda(
            {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _Payload(b'{"errorMessage": "x"}')}
        ),
        "transport": _Lambda(ConnectionError("connection reset")),
    }
    statuses = {}
    for name, double in doubles.items():
        monkeypatch.setattr(executor, "client", lambda _service, d=double: d)
        statuses[name] = execute(acme, card["cardId"], {"useCache": False})
    assert statuses["ok"].status == 200, statuses["ok"].body
    assert statuses["ok"].data["html"] == "<i>ran</i>"
    (call,) = doubles["ok"].calls
    assert call["FunctionName"] == get_settings().card_executor_function_name
    assert json.loads(call["Payload"])["datasets"][0]["datasetId"] == "ds-sales"
    for name in ("function error", "transport"):
        assert statuses[name].status == 502, name
        assert statuses[name].error["code"] == "EXECUTOR_FAILED"


def test_a_dataset_without_data_is_409_and_an_unknown_one_422(cloud: Cloud, acme: dict[str, Any]) -> None:
    put_dataset(acme["tenantId"], "ds-waiting", ready=False)
    card = new_card(acme, datasetIds=["ds-sales", "ds-waiting"])
    waiting = execute(acme, card["cardId"])
    assert waiting.status == 409
    assert waiting.error["code"] == "DATASET_NOT_READY"
    assert waiting.error["details"] == {"datasetIds": ["ds-waiting"]}
    boto3.client("dynamodb").delete_item(
        TableName=cloud.settings.app_table_name,
        Key={"PK": {"S": f"TENANT#{acme['tenantId']}"}, "SK": {"S": "DATASET#ds-waiting"}},
    )
    gone = execute(acme, card["cardId"])
    assert gone.status == 422
    assert [d["field"] for d in gone.error["details"]] == ["datasetIds.1"]
    assert acme["fake"].calls == 0


def test_rows_over_the_executors_input_limit_are_413(
    acme: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_REQUEST_BYTES", 600)
    many = [("north", n, datetime.date(2024, 1, 1), 0.5) for n in range(100)]
    put_dataset(acme["tenantId"], "ds-many", data=many)
    card = new_card(acme, datasetIds=["ds-many"])
    answer = execute(acme, card["cardId"])
    assert answer.status == 413
    assert answer.error["code"] == "CARD_INPUT_TOO_LARGE"
    assert acme["fake"].calls == 0
    few = new_card(
        acme,
        datasetIds=["ds-many"],
        usedColumns=["region"],
        filterColumns=["amount"],
        code="html = str(len(rows))",
    )
    filtered = execute(acme, few["cardId"], {"filters": [{"column": "amount", "values": ["1", "2"]}]})
    assert filtered.status == 200, filtered.body  # projected and filtered, it fits
    assert filtered.data["html"] == "2"


@pytest.mark.parametrize(
    "body",
    [
        {"unknown": 1},
        {"useCache": "yes"},
        {"filters": [{"column": "day", "from": "2024-02-01", "to": "2024-01-01"}]},
        {"filters": [{"column": "day", "from": "2024-02-30", "to": "2024-03-01"}]},
        {"filters": [{"column": "region", "values": []}]},
        {"filters": [{"column": "region", "values": ["a", "a"]}]},
        {"filters": [{"column": "region", "values": ["a"], "from": "2024-01-01"}]},
        {"params": {"x": float("inf")}},
        {"dashboardId": "has#hash"},
    ],
)
def test_invalid_bodies_are_422(acme: dict[str, Any], body: dict[str, Any]) -> None:
    card = new_card(acme)
    answer = acme["run"]["alice"].request("POST", f"/cards/{card['cardId']}/execute", raw=json.dumps(body))
    assert answer.status in (400, 422), answer.body
    if answer.status == 422:
        assert answer.error["code"] == "VALIDATION_ERROR"
    assert acme["fake"].calls == 0


# --- who may run a card ----------------------------------------------------------------------------


def test_a_card_runs_for_its_owner_and_admins_and_is_404_for_others(acme: dict[str, Any]) -> None:
    card = new_card(acme)
    assert execute(acme, card["cardId"], user="admin").status == 200
    for card_id in (card["cardId"], NEVER):
        hidden = execute(acme, card_id, user="bob")
        assert hidden.status == 404
        assert hidden.error["code"] == "NOT_FOUND"
    assert acme["fake"].calls == 1


def test_a_reader_of_a_dashboard_holding_the_card_runs_it_through_the_dashboard(acme: dict[str, Any]) -> None:
    card = new_card(acme)
    board = (
        acme["app"]["alice"]
        .post(
            "/dashboards",
            {
                "name": "sales",
                "layout": {"items": [{"cardId": card["cardId"], "x": 0, "y": 0, "w": 6, "h": 4}]},
            },
        )
        .data
    )
    other = acme["app"]["alice"].post("/dashboards", {"name": "empty"}).data
    bob_id = acme["app"]["bob"].get("/me").data["userId"]
    for dashboard in (board, other):
        shared = acme["app"]["alice"].post(
            f"/dashboards/{dashboard['dashboardId']}/shares",
            {"targetType": "user", "targetId": bob_id, "permission": "viewer"},
        )
        assert shared.status == 201, shared.body
    assert execute(acme, card["cardId"], {"dashboardId": board["dashboardId"]}, user="bob").status == 200
    assert execute(acme, card["cardId"], {"dashboardId": other["dashboardId"]}, user="bob").status == 404
    assert execute(acme, card["cardId"], {"dashboardId": NEVER}, user="bob").status == 404


def test_another_tenants_card_and_dashboard_are_404_and_nothing_is_read(
    cloud: Cloud, app: ApiClient, onboard: Any, acme: dict[str, Any]
) -> None:
    card = new_card(acme)
    board = (
        acme["app"]["alice"]
        .post(
            "/dashboards",
            {
                "name": "sales",
                "layout": {"items": [{"cardId": card["cardId"], "x": 0, "y": 0, "w": 6, "h": 4}]},
            },
        )
        .data
    )
    other = onboard("globex", "ENTERPRISE")
    put_dataset(other["tenantId"], "ds-sales")
    intruder = ApiClient(cloud.runtime, "analytics_api").as_user(token_for(cloud, "admin@globex.example"))
    downloads = len(acme["downloads"])
    before = partition_items(cloud, acme["tenantId"])
    attempts = [
        (f"/cards/{card['cardId']}/execute", {}),
        (f"/cards/{card['cardId']}/execute", {"dashboardId": board["dashboardId"]}),
        (f"/dashboards/{board['dashboardId']}/render", {}),
    ]
    for path, body in attempts:
        answer = intruder.post(path, body)
        assert answer.status == 404, (path, answer.body)
        assert answer.error["code"] == "NOT_FOUND"
        assert acme["tenantId"] not in json.dumps(answer.body)
    # a preview naming the other tenant's dataset id reads the intruder's own dataset of that id
    preview = intruder.post("/cards/preview", {"code": TOTAL, "datasetIds": ["ds-sales"]})
    assert preview.status == 200, preview.body
    assert preview.data["html"] == "<b>100</b> "
    assert len(acme["downloads"]) == downloads + 1
    assert acme["downloads"][-1].startswith(f"tenants/{other['tenantId']}/")
    assert partition_items(cloud, acme["tenantId"]) == before
    assert acme["fake"].calls == 1


# --- preview ---------------------------------------------------------------------------------------


def test_a_preview_runs_unsaved_code_and_is_never_cached(cloud: Cloud, acme: dict[str, Any]) -> None:
    body = {
        "code": "html = escape(str(len(rows)) + ' <rows>') + str(params)",
        "datasetIds": ["ds-sales"],
        "params": {"k": 1},
        "usedColumns": ["region"],
        "filterColumns": ["region"],
        "filters": [{"column": "region", "values": ["south"]}],
    }
    for _ in range(2):
        answer = acme["run"]["bob"].post("/cards/preview", body)
        assert answer.status == 200, answer.body
        assert answer.data["cardId"] is None
        assert answer.data["html"] == "1 &lt;rows&gt;{'k': 1}"
        assert answer.data["cached"] is False
        assert answer.data["usedColumns"] == ["region"]
        assert answer.data["filterApplicable"] is True
    assert acme["fake"].calls == 2
    assert partition_items(cloud, acme["tenantId"], keys.CARD_RESULT) == {}
    unknown = acme["run"]["bob"].post("/cards/preview", {**body, "datasetIds": ["ds-sales", "ds-none"]})
    assert unknown.status == 422
    assert [d["field"] for d in unknown.error["details"]] == ["datasetIds.1"]
    assert acme["run"]["bob"].post("/cards/preview", {"datasetIds": []}).status == 422  # code is required


# --- a dashboard's render --------------------------------------------------------------------------


def _dashboard(world: dict[str, Any], cards: list[str], **fields: Any) -> dict[str, Any]:
    items = [{"cardId": c, "x": 0, "y": 4 * i, "w": 6, "h": 4} for i, c in enumerate(cards)]
    created = world["app"]["alice"].post(
        "/dashboards", {"name": "board", "layout": {"items": items}, **fields}
    )
    assert created.status == 201, created.body
    return created.data  # type: ignore[no-any-return]


def test_a_render_answers_every_card_one_failing_and_caches_the_others(acme: dict[str, Any]) -> None:
    ok = new_card(acme, filterColumns=["region"])
    broken = new_card(acme, code="html = rows[99]")
    other = new_card(acme, code="html = str(len(rows))")
    board = _dashboard(acme, [ok["cardId"], broken["cardId"], other["cardId"]])
    bob_id = acme["app"]["bob"].get("/me").data["userId"]
    path = f"/dashboards/{board['dashboardId']}/render"
    assert acme["run"]["bob"].post(path, {}).status == 404  # not shared with bob yet
    acme["app"]["alice"].post(
        f"/dashboards/{board['dashboardId']}/shares",
        {"targetType": "user", "targetId": bob_id, "permission": "viewer"},
    )
    answer = acme["run"]["bob"].post(path, {"filters": [{"column": "region", "values": ["north"]}]})
    assert answer.status == 200, answer.body
    cards = answer.data["cards"]
    assert [c["cardId"] for c in cards] == [ok["cardId"], broken["cardId"], other["cardId"]]
    assert [c["status"] for c in cards] == [200, 422, 200]
    assert cards[0]["result"]["html"] == "<b>30</b> "
    assert cards[0]["result"]["filterApplicable"] is True
    assert cards[1]["error"]["code"] == "CARD_ERROR"
    assert cards[1]["error"]["message"] == "IndexError: list index out of range"
    assert cards[2]["result"]["html"] == "4"  # the filter does not apply to it
    assert cards[2]["result"]["filterApplicable"] is False
    assert acme["fake"].calls == 3
    again = acme["run"]["bob"].post(path, {"filters": [{"column": "region", "values": ["north"]}]})
    assert [c["status"] for c in again.data["cards"]] == [200, 422, 200]
    assert "result" not in again.data["cards"][1]
    assert [c["result"]["cached"] for c in again.data["cards"] if "result" in c] == [True, True]
    assert acme["fake"].calls == 4  # only the failing card ran again
    fresh = acme["run"]["bob"].post(path, {"useCache": False, "filters": []})
    assert [c["result"]["cached"] for c in fresh.data["cards"] if "result" in c] == [False, False]
    assert fresh.data["cards"][0]["result"]["html"] == "<b>100</b> "


def test_a_render_applies_a_filter_view_or_the_default_one(acme: dict[str, Any]) -> None:
    card = new_card(acme, filterColumns=["region", "day"])
    filters = [
        {"filterId": "r", "type": "category", "column": "region", "label": "Region", "multiSelect": True},
        {"filterId": "d", "type": "dateRange", "column": "day", "label": "Day"},
    ]
    board = _dashboard(acme, [card["cardId"]], filters=filters)
    path = f"/dashboards/{board['dashboardId']}/render"
    view = (
        acme["app"]["alice"]
        .post(
            f"/dashboards/{board['dashboardId']}/filter-views",
            {
                "name": "north in jan",
                "values": {"r": ["north", "south"], "d": {"from": "2024-01-01", "to": "2024-01-31"}},
            },
        )
        .data
    )
    answer = acme["run"]["alice"].post(path, {"filterViewId": view["viewId"]})
    assert answer.status == 200, answer.body
    assert answer.data["filterViewId"] == view["viewId"]
    assert answer.data["cards"][0]["result"]["html"] == "<b>40</b> "
    assert acme["run"]["alice"].post(path, {}).data["cards"][0]["result"]["html"] == "<b>100</b> "
    default = acme["app"]["alice"].patch(
        f"/dashboards/{board['dashboardId']}",
        {"defaultFilterViewId": view["viewId"], "version": board["version"]},
    )
    assert default.status == 200, default.body
    by_default = acme["run"]["alice"].post(path, {})
    assert by_default.data["filterViewId"] == view["viewId"]
    assert by_default.data["cards"][0]["result"]["html"] == "<b>40</b> "
    assert acme["run"]["alice"].post(path, {"filterViewId": NEVER}).status == 404
    both = acme["run"]["alice"].post(path, {"filterViewId": view["viewId"], "filters": []})
    assert both.status == 422


def test_a_render_runs_uncached_cards_concurrently(acme: dict[str, Any]) -> None:
    import threading

    lock, running, most = threading.Lock(), [0], [0]
    fake: Callable[[bytes], bytes] = acme["fake"]

    def slow(payload: bytes) -> bytes:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        return fake(payload)

    executor.install(slow)
    cards = [new_card(acme, code=f"html = '{n}'")["cardId"] for n in range(6)]
    board = _dashboard(acme, cards)
    answer = acme["run"]["alice"].post(f"/dashboards/{board['dashboardId']}/render", {})
    assert [c["result"]["html"] for c in answer.data["cards"]] == [str(n) for n in range(6)]
    assert most[0] == service.RENDER_THREADS  # a few at a time, never more
