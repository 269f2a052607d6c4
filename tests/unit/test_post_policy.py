"""localcloud.moto_fixes.post_policy_refusal: a POST upload is held to its policy as S3 holds it."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

from localcloud.moto_fixes import post_policy_refusal

NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
KEY = "tenants/t1/datasets/d1/uploads/u1.csv"


def form(conditions: list[Any], expires: str = "2026-01-01T12:15:00Z", **fields: str) -> dict[str, str]:
    policy = base64.b64encode(json.dumps({"expiration": expires, "conditions": conditions}).encode())
    return {"key": KEY, "policy": policy.decode(), "x-amz-signature": "sig", **fields}


CONDITIONS = [{"bucket": "pool"}, {"key": KEY}, ["content-length-range", 1, 10]]


def refused(fields: dict[str, str], size: int, bucket: str = "pool") -> tuple[int, str] | None:
    answer = post_policy_refusal(fields, bucket, size, now=NOW)
    return None if answer is None else (answer[0], answer[2])


def test_within_the_policy_is_allowed() -> None:
    assert refused(form(CONDITIONS), 10) is None
    assert refused(form(CONDITIONS), 1) is None


def test_over_the_cap_is_entity_too_large_and_empty_is_entity_too_small() -> None:
    status, body = refused(form(CONDITIONS), 11) or (0, "")
    assert status == 400
    assert "<Code>EntityTooLarge</Code>" in body
    assert "<MaxSizeAllowed>10</MaxSizeAllowed>" in body
    status, body = refused(form(CONDITIONS), 0) or (0, "")
    assert (status, "<Code>EntityTooSmall</Code>" in body) == (400, True)


def test_another_key_bucket_or_an_unnamed_field_is_access_denied() -> None:
    for fields, bucket, why in (
        ({**form(CONDITIONS), "key": "tenants/t2/x.csv"}, "pool", "Policy Condition failed"),
        (form(CONDITIONS), "other-bucket", "Policy Condition failed"),
        (form(CONDITIONS, acl="public-read"), "pool", "Extra input fields: acl"),
    ):
        status, body = refused(fields, 5, bucket) or (0, "")
        assert (status, why in body) == (403, True), body


def test_starts_with_conditions_and_ignored_fields() -> None:
    conditions = [["starts-with", "$key", "tenants/t1/"], ["content-length-range", 1, 10]]
    assert refused(form(conditions, **{"x-ignore-note": "n"}), 3) is None
    fields = {**form(conditions), "key": "tenants/t2/x.csv"}
    assert (refused(fields, 3) or (0, ""))[0] == 403


def test_an_expired_or_missing_policy_is_refused() -> None:
    status, body = refused(form(CONDITIONS, expires="2026-01-01T11:59:59Z"), 5) or (0, "")
    assert (status, "Policy expired" in body) == (403, True)
    assert (refused({"key": KEY}, 5) or (0, ""))[0] == 403
    assert (refused({"key": KEY, "policy": "not base64 json"}, 5) or (0, ""))[0] == 400
