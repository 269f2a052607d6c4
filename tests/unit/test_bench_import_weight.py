"""The bench's import weight: -X importtime parsing, medians, the committed baseline, and the stack
floors each function's cold start is budgeted against."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bench.cold import Context
from bench.cold_start import FLOOR_FEATURES, FLOORS
from bench.import_weight import (
    BASELINE_FILE,
    FUNCTIONS,
    STAND_INS,
    Weight,
    before_of,
    parse_importtime,
    parse_report,
    summarize,
)

ROOT = Path(__file__).resolve().parents[2]

REPORT = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 | _io
import time:        50 |        150 | encodings
import time:        10 |         10 |       typing_extensions
import time:        20 |         30 |     pydantic
import time:         5 |          5 |     json
import time:        40 |         75 |   tenancy.common
import time:         8 |          8 |   functools
import time:       300 |        383 | handler
import time:         7 |          7 | atexit
"""


def test_the_handler_line_gives_its_cumulative_time_and_the_modules_nested_under_it() -> None:
    # nested: typing_extensions, pydantic, json, tenancy.common, functools; all but tenancy.common are foreign
    assert parse_importtime(REPORT, "handler") == Weight(cumulative_us=383, modules=6, foreign_modules=4)


def test_a_module_imported_at_start_up_is_its_own_block() -> None:
    assert parse_importtime(REPORT, "encodings") == Weight(cumulative_us=150, modules=1)


def test_other_stderr_lines_are_ignored_and_a_missing_import_is_an_error() -> None:
    noisy = "Traceback? no: a warning\n" + REPORT + "done\n"
    assert parse_importtime(noisy, "handler").modules == 6
    with pytest.raises(ValueError, match="no top-level import of 'boto3'"):
        parse_importtime(REPORT, "boto3")


def test_a_nested_import_of_the_same_name_is_not_the_top_level_one() -> None:
    report = (
        "import time:         1 |          1 |   handler\n"
        "import time:         2 |          3 | wrapper\n"
        "import time:         4 |          4 | handler\n"
    )
    assert parse_importtime(report, "handler") == Weight(cumulative_us=4, modules=1)


def test_the_measuring_script_reports_the_import_cpu_time_after_the_import() -> None:
    assert parse_report(REPORT + "import cpu ns: 370123456\n", "handler") == Weight(383, 6, 370123, 4)
    with pytest.raises(ValueError, match="import cpu ns"):
        parse_report(REPORT, "handler")


def test_runs_are_summarized_by_medians_and_the_fastest_cpu_ratio() -> None:
    handler = [Weight(900, 10, 300), Weight(2000, 10, 900), Weight(700, 11, 400)]
    reference = [Weight(500, 5, 250), Weight(700, 5, 600), Weight(300, 5, 200)]
    figures = summarize(handler, reference)
    assert figures["cumulative_us"] == 900  # -X importtime's wall clock: reported, median
    assert figures["cpu_us"] == 400  # median
    assert figures["modules"] == 10
    assert figures["modules_seen"] == [10, 11]
    assert (figures["cpu_us_fastest"], figures["reference_cpu_us_fastest"]) == (300, 200)
    assert figures["normalized"] == 1.5  # the slow round (900 / 600) weighs nothing


def test_the_committed_baseline_covers_every_function_and_says_where_it_comes_from() -> None:
    baseline = json.loads(BASELINE_FILE.read_text())
    assert baseline["commit"].startswith("a46471f")
    assert baseline["method"]
    assert baseline["measured"]
    assert baseline["interpreter"].startswith("python3.")
    assert baseline["runs"] >= 15
    # every function, but those added since, which are held to a stand-in's before
    assert set(baseline["functions"]) == set(FUNCTIONS) - set(STAND_INS)
    for figures in baseline["functions"].values():
        assert figures["modules"] > 0
        assert figures["cumulative_us"] > 0
        assert figures["cpu_us"] > 0
        assert figures["normalized"] > 0
        assert figures["modules_seen"] == [figures["modules"]]  # deterministic across runs


def test_a_function_added_since_the_before_is_held_to_a_stand_in_with_its_floor() -> None:
    recorded = json.loads(BASELINE_FILE.read_text())["functions"]
    assert STAND_INS == {"tenant_updates": "provisioning_completion"}
    for function, stand_in in STAND_INS.items():
        assert function not in recorded
        assert before_of(function, recorded) == stand_in
        assert FLOORS[function] == FLOORS[stand_in]
    assert before_of("app_api", recorded) == "app_api"  # a function the before had: its own


def test_a_new_function_without_a_stand_in_is_an_error() -> None:
    with pytest.raises(KeyError, match="no stand-in"):
        before_of("brand_new", {"app_api": {}})
    with pytest.raises(KeyError, match="no stand-in"):  # a stand-in the before does not have either
        before_of("tenant_updates", {"app_api": {}})


def test_every_function_has_a_floor_and_every_floor_a_module() -> None:
    assert set(FLOORS) == set(FUNCTIONS)
    assert set(FLOORS.values()) <= set(FLOOR_FEATURES)
    for features in FLOOR_FEATURES:
        assert (ROOT / "bench" / "baselines" / "floors" / f"{features}.py").is_file()


def load_floor(features: str) -> ModuleType:
    path = ROOT / "bench" / "baselines" / "floors" / f"{features}.py"
    spec = importlib.util.spec_from_file_location(f"floor_{features}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / name).read_text())
    return event


def test_the_core_and_parser_floors_hand_the_event_to_the_baseline() -> None:
    seen: list[dict[str, Any]] = []

    def baseline(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"tenantId": "t", "status": "PROVISIONED"}

    event = sample("eventbridge-tenant-onboarding.json")
    for features in ("core", "parser"):
        assert load_floor(features).floor(baseline)(event, Context()) == {
            "tenantId": "t",
            "status": "PROVISIONED",
        }
    assert seen == [event, event]


def test_the_parser_floor_validates_the_envelope() -> None:
    event = sample("eventbridge-tenant-onboarding.json")
    del event["detail"]["tenantId"]
    with pytest.raises(ValueError, match="tenantId"):
        load_floor("parser").floor(lambda e, c: {})(event, Context())


def test_the_api_floor_answers_through_a_validated_route() -> None:
    def baseline(event: dict[str, Any], context: Any) -> dict[str, Any]:
        body = {"data": {"tenantId": event["pathParameters"]["tenantId"]}}
        return {"statusCode": 200, "headers": {}, "body": json.dumps(body)}

    from localcloud.apigateway import rest_proxy_event

    handler = load_floor("api").floor(baseline)
    ok = rest_proxy_event(
        method="GET", path="/tenants/t-1", resource="/tenants/{tenantId}", path_parameters={"tenantId": "t-1"}
    )
    answer = handler(ok, Context())
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"data": {"tenantId": "t-1"}}
    bad = rest_proxy_event(
        method="GET", path="/tenants/a b", resource="/tenants/{tenantId}", path_parameters={"tenantId": "a b"}
    )
    assert handler(bad, Context())["statusCode"] == 422  # the path parameter is validated


def test_the_batch_floor_hands_each_record_to_the_baseline() -> None:
    records: list[dict[str, Any]] = []

    def baseline(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records.extend(event["Records"])
        return {"batchItemFailures": []}

    event = sample("dynamodb-stream-insert-pending.json")
    assert load_floor("batch").floor(baseline)(event, Context()) == {"batchItemFailures": []}
    assert records == event["Records"]
