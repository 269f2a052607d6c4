"""8. Datasets (issue 13): a CSV's import, a dataset's preview, a card over its rows, and the cold
start of the functions that carry the engine (DuckDB) layer.

- Import: a generated CSV (`generate_csv`: `Counts.dataset_rows` rows, 20 columns of every type the
  import infers, ~2% empty fields, a fixed seed) uploaded under a new dataset's upload key, then the
  `dataset_import` function's handler invoked in-process with the S3 `Object Created` event, as
  EventBridge delivers it (`tenancy.application.datasets.importer`: download as the tenant, strict
  parse, typing, Parquet, upload, the item READY). rows/s and MB/s (10^6 bytes of CSV per second) are
  over the whole invocation, the emulator's S3 and DynamoDB round trips included; beside it, the
  conversion alone (`importer.convert` on the local file: parse, type, write Parquet), interleaved.
  Parquet size: the import's files against the CSV's bytes.
- Preview: `GET /datasets/{datasetId}/preview` through the app API's handler, in-process as
  bench/workspace.py runs its routes (the authorizer's context handed on, the limiter counting).
- Card: a card that groups the rows by a string column and sums a float column (`CARD_CODE`,
  `usedColumns` those two), `POST /cards/{cardId}/execute` through the analytics API's handler with
  the card executor reached in-process (`executor.install`: functions/card_executor/handler.py's
  `run`, whose runner runs the code in a child process with its limits, as deployed). Per round,
  interleaved: one *uncached cold* execution in a fresh function instance (both handlers loaded
  anew, the /tmp row cache emptied, no spare child started ahead, the tenant's credentials not yet
  assumed; the interpreter's imports are not repeated: the cold starts below measure those), then
  `WARM_PER_ROUND` pairs of *uncached warm* (`useCache: false`) and *cached* (the same request with
  the cache: the result the warm one stored). Budget: cached p50 ≤ CACHED_BUDGET x uncached warm p50.
- Cold start of `dataset_import` (shared + engine layer; its first event a small import) and
  `card_executor` (shared layer only; its first event a small execution), by bench/cold.py (a fresh
  interpreter with the built layers, as Lambda starts one), and `import duckdb` alone.
- Engine isolation: every function's handler imported in a fresh interpreter with the engine layer
  on its path: a function without that layer (topology) must not import duckdb. Budgeted.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.budgets import cached_card_verdict, engine_isolation_verdict
from bench.common import ROOT, Counts, median, percentile
from bench.world import World, api_event, app_context, seed_tenant

SEED = 13
WARM_PER_ROUND = 3
ENGINE_LAYER = ROOT / ".build" / "engine-layer" / "python"
COLD_IMPORT_ROWS = 1000  # the dataset_import cold start's first event: an import of this many rows
CARD_COLUMNS = ["region", "amount"]
# The card: revenue by region (group by a string column, sum a float one; empty amounts skipped).
CARD_CODE = """totals = {}
for region, amount in zip(data['region'], data['amount']):
    if amount is not None:
        totals[region] = totals.get(region, 0.0) + amount
cells = ''.join(
    f'<tr><td>{escape(str(region))}</td><td>{total:.2f}</td></tr>' for region, total in sorted(totals.items())
)
html = f'<table>{cells}</table>'
"""
REGIONS = ["north", "south", "east", "west", "central", "north east", "south west", "islands"]
COUNTRIES = [f"country {n:02d}" for n in range(30)]
CHANNELS = ["web", "store", "partner", "phone"]
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
]
# (name, type) of the generated CSV's 20 columns, as the import should infer them.
SCHEMA = [
    ("order_id", "int64"),
    ("customer_id", "int64"),
    ("quantity", "int64"),
    ("year", "int64"),
    ("amount", "float64"),
    ("price", "float64"),
    ("discount", "float64"),
    ("weight", "float64"),
    ("active", "bool"),
    ("returned", "bool"),
    ("order_date", "date"),
    ("ship_date", "date"),
    ("created_at", "datetime"),
    ("updated_at", "datetime"),
    ("region", "string"),
    ("country", "string"),
    ("product", "string"),
    ("channel", "string"),
    ("sku", "string"),
    ("note", "string"),
]


def expected_html(totals: dict[str, float]) -> str:
    cells = "".join(
        f"<tr><td>{region}</td><td>{total:.2f}</td></tr>" for region, total in sorted(totals.items())
    )
    return f"<table>{cells}</table>"


def generate_csv(path: Path, rows: int, seed: int = SEED) -> dict[str, float]:
    """`rows` rows of SCHEMA's columns to `path` (header first); the sum of `amount` per `region` in
    the order the rows are written (what the card computes, to the last bit)."""
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    start = datetime(2023, 1, 1)
    totals: dict[str, float] = {}
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([name for name, _ in SCHEMA])
        for n in range(rows):
            created = start + timedelta(seconds=rng.randrange(0, 2 * 365 * 86400))
            ordered = created.date()
            region = rng.choice(REGIONS)
            amount = None if rng.random() < 0.02 else round(rng.uniform(1, 5000), 2)
            if amount is not None:
                totals[region] = totals.get(region, 0.0) + amount
            writer.writerow(
                [
                    n + 1,
                    rng.randrange(1, 20_000),
                    rng.randrange(1, 50),
                    ordered.year,
                    "" if amount is None else repr(amount),
                    repr(round(rng.uniform(0.5, 999), 3)),
                    "" if rng.random() < 0.02 else repr(round(rng.random() * 0.3, 4)),
                    repr(rng.uniform(0.01, 80)),
                    rng.choice(("true", "false")),
                    "" if rng.random() < 0.02 else rng.choice(("True", "FALSE")),
                    ordered.isoformat(),
                    (ordered + timedelta(days=rng.randrange(0, 15))).isoformat(),
                    created.isoformat(sep=" "),
                    (created + timedelta(seconds=rng.randrange(0, 86400 * 30))).isoformat(),
                    region,
                    rng.choice(COUNTRIES),
                    f"product {rng.randrange(200):03d}",
                    rng.choice(CHANNELS),
                    f"SKU-{rng.randrange(100_000):05d}",
                    "" if rng.random() < 0.3 else " ".join(rng.choices(WORDS, k=rng.randrange(1, 6))),
                ]
            )
    return totals


def datasets(world: World, counts: Counts) -> dict[str, Any]:
    from localcloud.runtime import FunctionRuntime

    load = os.getloadavg()[0]
    quiet = contextlib.redirect_stdout(io.StringIO())  # the functions' EMF lines are not the report
    with quiet, tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        source = scratch / "bench.csv"
        totals = generate_csv(source, counts.dataset_rows)
        small = scratch / "small.csv"
        generate_csv(small, COLD_IMPORT_ROWS, seed=SEED + 1)
        tenant = seed_tenant(world, admin=True)
        runtime = FunctionRuntime()
        imports = measure_imports(world, runtime, tenant, source, counts, scratch)
        dataset_id = imports.pop("dataset_id")
        preview = measure_preview(runtime, tenant, dataset_id, counts)
        cards = measure_cards(runtime, tenant, dataset_id, counts, expected_html(totals))
        cold = function_cold_starts(world, tenant, small, counts, scratch)
        isolation = engine_isolation(scratch)
    section: dict[str, Any] = {
        "rows": counts.dataset_rows,
        "columns": len(SCHEMA),
        "import": imports,
        "preview": preview,
        "card": cards,
        "cold_start": cold,
        "engine_isolation": isolation,
        # The machine's 1-minute load average before and after: other work on it shows in the figures.
        "load_average": [round(load, 2), round(os.getloadavg()[0], 2)],
    }
    section["within_budget"] = cards["within_budget"] and isolation["within_budget"]
    return section


# --- the import --------------------------------------------------------------------------------


def new_upload(world: World, tenant_id: str, source: Path) -> tuple[str, dict[str, Any]]:
    """A dataset waiting for its upload (as `POST /datasets` leaves it) and the CSV at its upload
    key; the dataset's id and the `Object Created` event EventBridge delivers for it."""
    from tenancy.application.access.dependencies import tenant_data
    from tenancy.application.datasets import layout
    from tenancy.application.store import keys, kinds
    from tenancy.application.store.engine import Actor, Change
    from tenancy.common.timestamps import now_iso

    dataset_id, upload_id = str(uuid.uuid4()), str(uuid.uuid4())
    now = now_iso()
    store = tenant_data().store(tenant_id, Actor(f"admin-{tenant_id}", "bench"))
    item = {
        "datasetId": dataset_id,
        "ownerId": f"admin-{tenant_id}",
        "name": f"bench {dataset_id[:8]}",
        "description": "",
        "hasHeader": True,
        "delimiter": ",",
        "encoding": "utf-8",
        "status": "UPLOADING",
        "uploadId": upload_id,
        "dataVersion": 0,
        "columns": [],
        "uploadExpiresAt": int(time.time()) + 900,
        "maxBytes": 1024**3,
        "createdAt": now,
        "updatedAt": now,
    }
    store.create(
        kinds.DATASET, dataset_id, item, Change("dataset.create", keys.item_sk(keys.DATASET, dataset_id))
    )
    objects = tenant_data().objects(tenant_id)
    relative = layout.upload_key(dataset_id, upload_id)
    objects.upload(str(source), relative)
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": now,
        "region": world.environment["AWS_REGION"],
        "resources": [f"arn:aws:s3:::{objects.bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": objects.bucket},
            "object": {"key": objects.key(relative), "size": source.stat().st_size},
            "reason": "PutObject",
        },
    }
    return dataset_id, event


def dataset_item(tenant_id: str, dataset_id: str) -> dict[str, Any]:
    from tenancy.application.access.dependencies import tenant_data
    from tenancy.application.store import keys
    from tenancy.application.store.engine import Actor

    store = tenant_data().store(tenant_id, Actor("bench", "bench"))
    item = store.get_item(keys.item_sk(keys.DATASET, dataset_id))
    assert item is not None, dataset_id
    return item


def convert_alone(source: Path, scratch: Path) -> float:
    """The conversion without storage: parse, type and write Parquet from the local file (seconds)."""
    from tenancy.application.datasets import importer

    work = Path(tempfile.mkdtemp(prefix="convert-", dir=scratch))
    try:
        started = time.perf_counter()
        connection = importer.connect(work)
        try:
            importer.convert(connection, source, importer.CsvFormat(), work / "out")
        finally:
            connection.close()
        return time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure_imports(
    world: World, runtime: Any, tenant_id: str, source: Path, counts: Counts, scratch: Path
) -> dict[str, Any]:
    """`counts.dataset_imports` imports of `source` through the handler, each into a new dataset,
    interleaved with the conversion alone (alternating order); one unmeasured round first."""
    csv_bytes = source.stat().st_size
    handler: list[float] = []
    alone: list[float] = []
    item: dict[str, Any] = {}
    dataset_id = ""
    for run in range(counts.dataset_imports + 1):
        dataset_id, event = new_upload(world, tenant_id, source)

        def through_handler(d: str = dataset_id, e: dict[str, Any] = event) -> float:
            started = time.perf_counter()
            invocation = runtime.invoke("dataset_import", e)
            seconds = time.perf_counter() - started
            assert invocation.error is None, invocation.error
            assert invocation.result["outcome"] == "ready", invocation.result
            assert invocation.result["datasetId"] == d
            return seconds

        steps: list[tuple[Callable[[], float], list[float]]] = [
            (through_handler, handler),
            (lambda: convert_alone(source, scratch), alone),
        ]
        for step, into in steps if run % 2 else steps[::-1]:
            seconds = step()
            if run:  # the first round warms the function, DuckDB's and the page cache
                into.append(seconds)
        item = dataset_item(tenant_id, dataset_id)
        assert item["status"] == "READY", item
    seconds, convert_seconds = median(handler), median(alone)
    rows = int(item["rowCount"])
    parquet = int(item["sizeBytes"])
    return {
        "dataset_id": dataset_id,
        "runs": counts.dataset_imports,
        "rows": rows,
        "columns": int(item["columnCount"]),
        "types": {column["name"]: column["type"] for column in item["columns"]},
        "types_as_generated": {c["name"]: c["type"] for c in item["columns"]} == dict(SCHEMA),
        "csv_bytes": csv_bytes,
        "parquet_bytes": parquet,
        "parquet_files": len(item["files"]),
        "parquet_over_csv": round(parquet / csv_bytes, 3),
        "import_s": round(seconds, 3),
        "import_s_runs": [round(s, 3) for s in handler],
        "rows_per_s": round(rows / seconds),
        "mb_per_s": round(csv_bytes / 1e6 / seconds, 2),
        "convert_s": round(convert_seconds, 3),
        "convert_rows_per_s": round(rows / convert_seconds),
        "convert_mb_per_s": round(csv_bytes / 1e6 / convert_seconds, 2),
    }


# --- the preview -------------------------------------------------------------------------------


def measure_preview(runtime: Any, tenant_id: str, dataset_id: str, counts: Counts) -> dict[str, Any]:
    """`counts.warm_requests` warm `GET /datasets/{id}/preview` (default rows) by the tenant's admin."""
    event = api_event(
        "GET",
        f"/datasets/{dataset_id}/preview",
        "/datasets/{datasetId}/preview",
        {"datasetId": dataset_id},
        authorizer=app_context(tenant_id),
    )

    def get() -> dict[str, Any]:
        result: dict[str, Any] = runtime.invoke("app_api", event).result
        assert result["statusCode"] == 200, result
        return result

    answer = json.loads(get()["body"])["data"]  # warm: the function, the tenant's credentials
    times = []
    for _ in range(counts.warm_requests):
        started = time.perf_counter()
        get()
        times.append((time.perf_counter() - started) * 1000)
    return {
        "requests": counts.warm_requests,
        "rows_answered": len(answer["rows"]),
        "total_rows": answer.get("totalRows"),
        "p50_ms": round(median(times), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "p99_ms": round(percentile(times, 99), 2),
    }


# --- the card ----------------------------------------------------------------------------------


def in_process_executor(runtime: Any) -> Callable[[bytes], bytes]:
    """The card executor as the analytics API reaches it (payload in, answer out), its function's
    logic in this process (`run`; the card's code still runs in the runner's child process)."""

    def invoke(payload: bytes) -> bytes:
        return json.dumps(runtime.module("card_executor").run(json.loads(payload))).encode()

    return invoke


def fresh_instances() -> Any:
    """A runtime whose analytics API and card executor are new instances: handlers loaded anew on
    first use, the /tmp row cache empty, no spare child waiting, the tenant's credentials not cached."""
    from localcloud.runtime import FunctionRuntime
    from tenancy.application.access.dependencies import tenant_data
    from tenancy.application.analytics import executor, rows
    from tenancy.application.sandbox import runner

    rows.cache().clear()
    runner.discard_spare()
    tenant_data.cache_clear()
    runtime = FunctionRuntime()
    executor.install(in_process_executor(runtime))
    return runtime


def measure_cards(
    runtime: Any, tenant_id: str, dataset_id: str, counts: Counts, expected: str
) -> dict[str, Any]:
    """Rounds of one uncached cold execution, then WARM_PER_ROUND uncached warm and cached pairs."""
    from tenancy.application.analytics import executor

    admin = app_context(tenant_id)
    body = {
        "name": "revenue by region",
        "datasetIds": [dataset_id],
        "code": CARD_CODE,
        "usedColumns": CARD_COLUMNS,
    }
    created = runtime.invoke(
        "app_api", api_event("POST", "/cards", "/cards", body=body, authorizer=admin)
    ).result
    assert created["statusCode"] == 201, created
    card_id = str(json.loads(created["body"])["data"]["cardId"])

    def request(use_cache: bool) -> dict[str, Any]:
        return api_event(
            "POST",
            f"/cards/{card_id}/execute",
            "/cards/{cardId}/execute",
            {"cardId": card_id},
            body={"useCache": use_cache},
            authorizer=admin,
        )

    times: dict[str, list[float]] = {"uncached_cold": [], "uncached_warm": [], "cached": []}
    child: dict[str, list[float]] = {name: [] for name in times}

    def execute(instances: Any, kind: str) -> None:
        started = time.perf_counter()
        result = instances.invoke("analytics_api", request(kind == "cached")).result
        elapsed = (time.perf_counter() - started) * 1000
        assert result["statusCode"] == 200, result
        answer = json.loads(result["body"])["data"]
        assert answer["html"] == expected, answer["html"][:300]
        assert answer["cached"] is (kind == "cached"), answer
        times[kind].append(elapsed)
        child[kind].append(float(answer["executionTimeMs"]))

    try:
        rounds = max(2, counts.cold_runs)
        for _ in range(rounds):
            instances = fresh_instances()
            execute(instances, "uncached_cold")
            for _ in range(WARM_PER_ROUND):
                execute(instances, "uncached_warm")
                execute(instances, "cached")
    finally:
        executor.install(None)
        from tenancy.application.sandbox import runner

        runner.discard_spare()
    figures = {
        kind: {
            "executions": len(values),
            "p50_ms": round(median(values), 2),
            "p95_ms": round(percentile(values, 95), 2),
            "executor_p50_ms": round(median(child[kind]), 1),
        }
        for kind, values in times.items()
    }
    return {
        "rounds": rounds,
        "card": "sum of amount (float64) by region (string), " + f"{len(CARD_COLUMNS)} used columns",
        **figures,
        **cached_card_verdict(figures["cached"]["p50_ms"], figures["uncached_warm"]["p50_ms"]),
    }


# --- cold starts ---------------------------------------------------------------------------------


def engine_environment(scratch: Path) -> tuple[str, str, str, str]:
    """(interpreter, shared layer path, engine layer path, description) for the cold starts: the
    runtime's Python with the built layers, or this interpreter with the layer's sources and
    dependencies and the venv's DuckDB when the built ones are missing."""
    from bench.cold import BUILT_LAYER, LAYER, RUNTIME, cold_environment

    interpreter, layer, description = cold_environment()
    if layer == str(BUILT_LAYER) and ENGINE_LAYER.is_dir():
        return interpreter, layer, str(ENGINE_LAYER), f"{description} and the built engine layer"
    if not (LAYER.is_dir() and RUNTIME.is_dir()):
        raise RuntimeError(f"{LAYER} and {RUNTIME} are missing: run `make bench-env` first")
    import duckdb

    engine = scratch / "venv-engine"
    engine.mkdir(exist_ok=True)
    link = engine / "duckdb"
    if not link.exists():
        link.symlink_to(Path(duckdb.__file__).parent)
    import sys

    source = ROOT / "layers" / "shared" / "python"
    return (
        sys.executable,
        f"{source}:{LAYER}",
        str(engine),
        f"python{sys.version_info.major}.{sys.version_info.minor} with the layer's dependencies and the venv's "
        "duckdb (no engine layer built in .build/engine-layer)",
    )


def card_request(rows: int = COLD_IMPORT_ROWS) -> dict[str, Any]:
    """A first event of the card executor: the card over `rows` rows of region and amount."""
    rng = random.Random(SEED)  # noqa: S311 (test data)
    data = {
        "region": [rng.choice(REGIONS) for _ in range(rows)],
        "amount": [round(rng.uniform(1, 5000), 2) for _ in range(rows)],
    }
    columns = [{"name": "region", "type": "string"}, {"name": "amount", "type": "float64"}]
    return {
        "code": CARD_CODE,
        "datasets": [{"datasetId": "bench", "columns": columns, "data": data, "rowCount": rows}],
    }


def function_cold_starts(
    world: World, tenant_id: str, small: Path, counts: Counts, scratch: Path
) -> dict[str, Any]:
    """Per function, cold starts by bench/cold.py in rotating order (one unmeasured run of each
    first), and `import duckdb` alone in the same interpreter with the engine layer."""
    from bench.cold_start import EXECUTION_ENVIRONMENT

    interpreter, shared, engine, description = engine_environment(scratch)
    layers = {"dataset_import": f"{shared}:{engine}", "card_executor": shared}
    imported: list[str] = []

    def first_event(function: str) -> dict[str, Any]:
        if function == "card_executor":
            return card_request()
        dataset_id, event = new_upload(world, tenant_id, small)
        imported.append(dataset_id)
        return event

    def cold(function: str) -> dict[str, Any]:
        path = scratch / f"{function}-event.json"
        path.write_text(json.dumps(first_event(function)))
        completed = subprocess.run(  # noqa: S603 (our own interpreter and script)
            [interpreter, "-S", "-E", "-m", "bench.cold", "tenancy", function, str(path), layers[function]],
            cwd=ROOT,
            env={
                **os.environ,
                **world.environment,
                "POWERTOOLS_SERVICE_NAME": function,
                **EXECUTION_ENVIRONMENT,
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"cold start of {function} failed:\n{completed.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        return result

    functions = list(layers)
    runs: dict[str, list[dict[str, Any]]] = {function: [] for function in functions}
    duckdb_ms: list[float] = []
    for run in range(counts.cold_runs + 1):
        order = functions[run % 2 :] + functions[: run % 2]
        for function in order:
            result = cold(function)
            if run:
                runs[function].append(result)
        took = import_duckdb(interpreter, engine)
        if run:
            duckdb_ms.append(took)
    ready = [dataset_item(tenant_id, d)["status"] for d in imported]
    rows = []
    for function in functions:
        results = runs[function]
        rows.append(
            {
                "function": function,
                "layers": "shared + engine" if function == "dataset_import" else "shared",
                "runs": len(results),
                "init_ms": round(median([r["init_ms"] for r in results]), 1),
                "first_event_ms": round(median([r["first_ms"] for r in results]), 1),
                "total_ms": round(median([r["total_ms"] for r in results]), 1),
                "total_p95_ms": round(percentile([r["total_ms"] for r in results], 95), 1),
                "failed_first_events": sum(not r["ok"] for r in results),
                "first_event": f"an import of {COLD_IMPORT_ROWS} rows x {len(SCHEMA)} columns"
                if function == "dataset_import"
                else f"the card over {COLD_IMPORT_ROWS} rows",
            }
        )
    return {
        "environment": description,
        "engine_layer_built": engine == str(ENGINE_LAYER),
        "functions": rows,
        "imports_ready": ready.count("READY") == len(ready),
        "import_duckdb_ms": round(median(duckdb_ms), 1),
        "import_duckdb_p95_ms": round(percentile(duckdb_ms, 95), 1),
        "engine_layer_mb": round(_tree_bytes(Path(engine)) / 1e6, 1),
    }


DUCKDB_SCRIPT = (
    "import sys, time; sys.path += sys.argv[1:]; began = time.perf_counter(); import duckdb; "
    "print((time.perf_counter() - began) * 1000)"
)


def import_duckdb(interpreter: str, engine: str) -> float:
    """`import duckdb` alone in a fresh interpreter (-S -E, the engine layer after the stdlib), ms."""
    completed = subprocess.run(  # noqa: S603 (an interpreter of this machine, our script)
        [interpreter, "-S", "-E", "-B", "-c", DUCKDB_SCRIPT, engine],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return float(completed.stdout.strip())


def _tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.resolve().rglob("*") if p.is_file())


# --- the engine's isolation --------------------------------------------------------------------

ISOLATION_SCRIPT = (
    "import sys; sys.path[1:1] = sys.argv[1:2]; sys.path += sys.argv[2:]; import handler; "
    "print('duckdb' in sys.modules)"
)


def engine_isolation(scratch: Path) -> dict[str, Any]:
    """Per function of the topology, whether importing its handler loads duckdb when the engine
    layer is on the path (it is not, deployed, for a function without Layer.ENGINE: there the import
    would fail on Lambda; here it shows as a loaded module). Budget: none without the layer does."""
    from bench.cold import RUNTIME
    from bench.import_weight import IMPORT_ENVIRONMENT
    from tenancy_infra.topology import FUNCTIONS, Layer

    interpreter, shared, engine, _ = engine_environment(scratch)
    rows = []
    for spec in FUNCTIONS:
        task_root = scratch / f"isolation-{spec.name}"
        task_root.mkdir(exist_ok=True)
        shutil.copy(ROOT / "functions" / spec.name / "handler.py", task_root / "handler.py")
        completed = subprocess.run(  # noqa: S603 (an interpreter of this machine, our script)
            [
                interpreter,
                "-S",
                "-E",
                "-B",
                "-c",
                ISOLATION_SCRIPT,
                str(task_root),
                *shared.split(":"),
                engine,
                str(RUNTIME),
            ],
            cwd=task_root,
            env={
                "PATH": os.environ.get("PATH", ""),
                "POWERTOOLS_SERVICE_NAME": spec.name,
                **IMPORT_ENVIRONMENT,
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"importing {spec.name}'s handler failed:\n{completed.stderr[-2000:]}")
        rows.append(
            {
                "function": spec.name,
                "engine_layer": Layer.ENGINE in spec.layers,
                "imports_duckdb": completed.stdout.strip().splitlines()[-1] == "True",
            }
        )
    return engine_isolation_verdict(rows)


def datasets_table(section: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The tables `make bench` prints."""
    imp, card, cold = section["import"], section["card"], section["cold_start"]
    return [
        (
            f"Dataset import: {imp['rows']} rows x {imp['columns']} columns, {imp['csv_bytes'] / 1e6:.1f} MB of CSV, "
            f"median of {imp['runs']}; Parquet {imp['parquet_over_csv']}x the CSV",
            [
                {
                    "measured": "dataset_import handler (S3 + DynamoDB on the emulator)",
                    "seconds": imp["import_s"],
                    "rows_per_s": imp["rows_per_s"],
                    "mb_per_s": imp["mb_per_s"],
                },
                {
                    "measured": "conversion alone (local file)",
                    "seconds": imp["convert_s"],
                    "rows_per_s": imp["convert_rows_per_s"],
                    "mb_per_s": imp["convert_mb_per_s"],
                },
            ],
        ),
        (
            f"Preview and card execution, ms (budget: cached p50 ≤ {card['budget']}x uncached warm p50: "
            f"x{card['cached_over_warm_p50']}, {'within' if card['within_budget'] else 'over'})",
            [
                {
                    "request": "GET /datasets/{id}/preview",
                    "executions": section["preview"]["requests"],
                    "p50_ms": section["preview"]["p50_ms"],
                    "p95_ms": section["preview"]["p95_ms"],
                    "executor_p50_ms": None,
                }
            ]
            + [
                {"request": f"POST /cards/{{id}}/execute, {kind.replace('_', ' ')}", **card[kind]}
                for kind in ("uncached_cold", "uncached_warm", "cached")
            ],
        ),
        (
            f"Cold start with the engine layer ({cold['environment']}); import duckdb alone "
            f"{cold['import_duckdb_ms']} ms; functions without the engine layer importing duckdb: "
            f"{', '.join(section['engine_isolation']['importing_without_layer']) or 'none'}",
            cold["functions"],
        ),
    ]
