"""The dataset view (repository.as_dataset): a state that can no longer move answered as FAILED, the
bookkeeping left out; and the plan's upload cap, also from a config cached before it existed."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tenancy.application.datasets.repository import as_dataset, epoch_seconds
from tenancy.contracts.plans import EffectiveConfig, GiB, Limit, MiB, Overrides, StagePlans, effective_config
from tenancy.contracts.tiers import Tier

NOW = 1_800_000_000.0


def item(**fields: Any) -> dict[str, Any]:
    return {
        "datasetId": "d",
        "ownerId": "u",
        "name": "n",
        "description": "",
        "hasHeader": True,
        "delimiter": ",",
        "encoding": "utf-8",
        "status": "UPLOADING",
        "uploadId": "up",
        "uploadExpiresAt": Decimal(int(NOW) + 10),
        "maxBytes": Decimal(100),
        "files": ["datasets/d/imports/x/data/part-0000.parquet"],
        "sourceKey": "datasets/d/uploads/x.csv",
        "dataVersion": Decimal(0),
        "version": 1,
        "createdAt": "2026-12-03T10:00:00.000Z",
        "updatedAt": "2026-12-03T10:00:00.000Z",
        **fields,
    }


def test_the_view_leaves_the_bookkeeping_out_and_shows_every_field() -> None:
    view = as_dataset(item(deletingAt="x", importStartedAt=1), NOW).model_dump(
        mode="json", exclude_unset=True
    )
    assert not {"files", "sourceKey", "maxBytes", "uploadExpiresAt", "importStartedAt", "deletingAt"} & set(
        view
    )
    assert (view["importId"], view["error"], view["columns"], view["dataVersion"]) == (None, None, [], 0)


def test_an_upload_past_its_expiry_is_failed_upload_expired() -> None:
    assert as_dataset(item(), NOW).status == "UPLOADING"
    expired = as_dataset(item(), NOW + 11)
    assert expired.status == "FAILED"
    assert expired.error is not None
    assert expired.error.code == "UPLOAD_EXPIRED"


@pytest.mark.parametrize("started", [Decimal(int(NOW) - 1201), "2027-01-15T07:39:59Z"])
def test_an_import_running_over_20_minutes_is_failed_import_timed_out(started: Any) -> None:
    assert (
        as_dataset(item(status="IMPORTING", importStartedAt=Decimal(int(NOW) - 1199)), NOW).status
        == "IMPORTING"
    )
    timed_out = as_dataset(item(status="IMPORTING", importStartedAt=started), NOW)
    assert timed_out.status == "FAILED"
    assert timed_out.error is not None
    assert timed_out.error.code == "IMPORT_TIMED_OUT"


def test_a_ready_or_failed_dataset_is_shown_as_it_is() -> None:
    ready = as_dataset(item(status="READY", importId="up", uploadExpiresAt=Decimal(0)), NOW)
    assert (ready.status, ready.error) == ("READY", None)
    failed = as_dataset(
        item(status="FAILED", error={"code": "CSV_MALFORMED", "message": "m", "line": Decimal(3)})
    )
    assert failed.error is not None
    assert (failed.error.code, failed.error.line) == ("CSV_MALFORMED", 3)


def test_epoch_seconds_reads_numbers_and_iso_text() -> None:
    assert epoch_seconds(Decimal(5)) == 5.0
    assert epoch_seconds("1970-01-01T00:00:10Z") == 10.0
    assert epoch_seconds("not a time") is None
    assert epoch_seconds(True) is None


def test_each_plan_caps_an_upload() -> None:
    caps = {
        tier: effective_config(tier, Overrides(), StagePlans()).limit(Limit.DATASET_UPLOAD_BYTES)
        for tier in Tier
    }
    assert caps == {Tier.FREE: 10 * MiB, Tier.PRO: 1 * GiB, Tier.ENTERPRISE: 5 * GiB}


def test_a_config_cached_before_the_upload_cap_existed_reads_the_plans() -> None:
    compact = json.loads(effective_config(Tier.PRO, Overrides(), StagePlans()).compact())
    del compact["l"]["datasetUploadBytes"]
    old = EffectiveConfig.from_compact(json.dumps(compact))
    assert old.limit(Limit.DATASET_UPLOAD_BYTES) == 1 * GiB
    assert old.limit(Limit.DATASETS) == 100
