"""The request limiter on moto: GCRA bucket (burst, refusal, refill), daily quota and its reset at
00:00 UTC, limits of 0, the RateLimit/Retry-After values, wrong-branch recovery, concurrency,
Idempotency-Key retries, and the throttled counter. The clock is the test's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from tenancy.application.quotas.limiter import (
    QUOTA_EXCEEDED,
    RATE_LIMITED,
    Limits,
    RequestLimiter,
    RequestRefused,
)
from tenancy.common.errors import ValidationFailedError
from tenancy_infra.topology import USAGE_TABLE, create_table_request

TABLE = "tenancy-test-usage"
TENANT = "t-1"
OTHER = "t-2"
NOON = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Counting:
    """A DynamoDB client that counts the calls made through it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            return method(**kwargs)

        return call


@pytest.fixture
def dynamodb() -> Iterator[Counting]:
    from moto import mock_aws

    from localcloud import moto_fixes

    moto_fixes.apply()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**create_table_request(USAGE_TABLE, TABLE))
        yield Counting(client)


def limiter(dynamodb: Counting, clock: Clock) -> RequestLimiter:
    return RequestLimiter(lambda _tenant: dynamodb, lambda: TABLE, clock)


def day_item(dynamodb: Counting, tenant: str = TENANT, day: str = "2026-03-10") -> dict[str, Any]:
    item = dynamodb._client.get_item(
        TableName=TABLE, Key={"PK": {"S": f"TENANT#{tenant}"}, "SK": {"S": f"DAY#{day}"}}, ConsistentRead=True
    ).get("Item", {})
    return {name: int(value["N"]) for name, value in item.items() if "N" in value}


def refused(run: Any) -> RequestRefused:
    with pytest.raises(RequestRefused) as caught:
        run()
    return caught.value


def test_a_burst_is_admitted_then_refused_then_refilled(dynamodb: Counting) -> None:
    clock = Clock()
    limits = Limits(rate=10, burst=5, daily=1000)
    subject = limiter(dynamodb, clock)
    for _ in range(5):
        subject.admit(TENANT, limits)
    over = refused(lambda: subject.admit(TENANT, limits))
    assert over.code == RATE_LIMITED
    assert over.status_code == 429
    # tat = now + 0.5 s, tau = 0.4 s: one token is back in 0.1 s, said in whole seconds
    assert over.retry_after == 1
    assert over.headers == {
        "Retry-After": "1",
        "RateLimit-Limit": "5",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "1",
    }
    clock.advance(0.1)
    subject.admit(TENANT, limits)  # exactly one token came back
    assert refused(lambda: subject.admit(TENANT, limits)).code == RATE_LIMITED
    clock.advance(1.0)  # the whole burst is back
    for _ in range(5):
        subject.admit(TENANT, limits)
    assert refused(lambda: subject.admit(TENANT, limits)).code == RATE_LIMITED
    assert day_item(dynamodb)["apiCalls"] == 11
    assert day_item(dynamodb)["throttled"] == 3


def test_retry_after_says_when_a_token_is_back(dynamodb: Counting) -> None:
    clock = Clock()
    limits = Limits(rate=1, burst=2, daily=1000)  # T = 1 s, tau = 1 s
    subject = limiter(dynamodb, clock)
    subject.admit(TENANT, limits)
    subject.admit(TENANT, limits)  # tat = now + 2 s
    assert refused(lambda: subject.admit(TENANT, limits)).retry_after == 1
    limits = Limits(rate=1, burst=1, daily=1000)  # tau = 0: the next token is 2 s away
    assert refused(lambda: subject.admit(TENANT, limits)).retry_after == 2


def test_headers_report_the_burst_while_it_is_the_closer_limit(dynamodb: Counting) -> None:
    clock = Clock()
    limits = Limits(rate=1, burst=5, daily=1000)
    subject = limiter(dynamodb, clock)
    first = subject.admit(TENANT, limits)
    assert first.counted
    assert first.quota.headers() == {
        "RateLimit-Limit": "5",
        "RateLimit-Remaining": "4",
        "RateLimit-Reset": "1",
    }
    subject.admit(TENANT, limits)
    third = subject.admit(TENANT, limits)
    # three tokens spent at 1 per second: 2 left, full again in 3 s
    assert (third.quota.limit, third.quota.remaining, third.quota.reset) == (5, 2, 3)


def test_headers_report_the_daily_quota_when_it_is_closer(dynamodb: Counting) -> None:
    clock = Clock(datetime(2026, 3, 10, 23, 0, 0, tzinfo=UTC).timestamp())
    limits = Limits(rate=100, burst=50, daily=3)
    admission = limiter(dynamodb, clock).admit(TENANT, limits)
    assert (admission.quota.limit, admission.quota.remaining, admission.quota.reset) == (3, 2, 3600)


def test_the_daily_quota_refuses_until_midnight_utc_then_starts_again(dynamodb: Counting) -> None:
    clock = Clock(datetime(2026, 3, 10, 23, 59, 30, tzinfo=UTC).timestamp())
    limits = Limits(rate=1000, burst=1000, daily=3)
    subject = limiter(dynamodb, clock)
    for _ in range(3):
        subject.admit(TENANT, limits)
    over = refused(lambda: subject.admit(TENANT, limits))
    assert over.code == QUOTA_EXCEEDED
    assert over.retry_after == 30
    assert over.headers["RateLimit-Limit"] == "3"
    assert over.headers["RateLimit-Remaining"] == "0"
    assert over.details["limit"] == "apiRequestsPerDay"
    clock.advance(31)  # 00:00:01 the next day
    admission = subject.admit(TENANT, limits)
    assert admission.quota.remaining == 2
    assert day_item(dynamodb)["apiCalls"] == 3
    assert day_item(dynamodb)["throttled"] == 1
    assert day_item(dynamodb, day="2026-03-11")["apiCalls"] == 1


def test_a_limit_of_zero_refuses_every_request_and_counts_none(dynamodb: Counting) -> None:
    subject = limiter(dynamodb, Clock())
    assert refused(lambda: subject.admit(TENANT, Limits(rate=10, burst=5, daily=0))).code == QUOTA_EXCEEDED
    assert refused(lambda: subject.admit(TENANT, Limits(rate=0, burst=5, daily=100))).code == RATE_LIMITED
    assert refused(lambda: subject.admit(TENANT, Limits(rate=10, burst=0, daily=100))).code == RATE_LIMITED
    item = day_item(dynamodb)
    assert "apiCalls" not in item
    assert "tat" not in item
    assert item["throttled"] == 3


def test_one_call_per_admitted_request_in_the_steady_state(dynamodb: Counting) -> None:
    clock = Clock()
    subject = limiter(dynamodb, clock)
    limits = Limits(rate=100, burst=10, daily=1000)
    subject.admit(TENANT, limits)  # idle
    dynamodb.calls.clear()
    subject.admit(TENANT, limits)  # busy, predicted
    subject.admit(TENANT, limits)
    assert dynamodb.calls == ["update_item", "update_item"]


def test_a_wrong_guess_is_retried_with_the_other_shape(dynamodb: Counting) -> None:
    clock = Clock()
    limits = Limits(rate=1, burst=5, daily=1000)
    one, two = limiter(dynamodb, clock), limiter(dynamodb, clock)  # two execution environments
    one.admit(TENANT, limits)
    one.admit(TENANT, limits)  # tat = now + 2 s; `two` has never seen it: it guesses idle
    dynamodb.calls.clear()
    admission = two.admit(TENANT, limits)
    assert dynamodb.calls == ["update_item", "update_item"]  # idle refused (ALL_OLD), busy admitted
    assert (admission.quota.remaining, admission.quota.reset) == (2, 3)
    clock.advance(10)  # the bucket is idle again; `one` last saw tat = now + 2 s, now in the past
    one._last_tat[TENANT] = int((clock.now + 60) * 1_000_000)  # a stale memory: it guesses busy
    dynamodb.calls.clear()
    admission = one.admit(TENANT, limits)
    assert dynamodb.calls == ["update_item", "update_item"]  # busy refused (tat < now), idle admitted
    assert admission.quota.remaining == 4
    assert day_item(dynamodb)["apiCalls"] == 4
    assert "throttled" not in day_item(dynamodb)


def test_concurrent_requests_never_exceed_the_burst(dynamodb: Counting) -> None:
    clock = Clock()  # frozen: no token comes back while they race
    limits = Limits(rate=1, burst=10, daily=1000)
    environments = [limiter(dynamodb, clock) for _ in range(4)]
    admitted, refusals = [], []
    lock = threading.Lock()

    def request(n: int) -> None:
        try:
            environments[n % 4].admit(TENANT, limits)
            outcome = admitted
        except RequestRefused:
            outcome = refusals
        with lock:
            outcome.append(n)

    threads = [threading.Thread(target=request, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 10
    assert len(refusals) == 20
    assert day_item(dynamodb)["apiCalls"] == 10
    assert day_item(dynamodb)["throttled"] == 20


def test_an_idempotency_key_is_counted_once_and_its_retry_is_never_refused(dynamodb: Counting) -> None:
    clock = Clock()
    limits = Limits(rate=1000, burst=1000, daily=2)
    subject = limiter(dynamodb, clock)
    first = subject.admit(TENANT, limits, "order-42")
    again = subject.admit(TENANT, limits, "order-42")
    assert first.counted
    assert not again.counted
    assert day_item(dynamodb)["apiCalls"] == 1
    subject.admit(TENANT, limits)  # the quota is now spent
    assert refused(lambda: subject.admit(TENANT, limits, "order-43")).code == QUOTA_EXCEEDED
    late = subject.admit(TENANT, limits, "order-42")  # a retry of a counted request still runs
    assert not late.counted
    assert late.quota.remaining == 0
    assert day_item(dynamodb)["apiCalls"] == 2
    markers = dynamodb._client.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :r)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{TENANT}"}, ":r": {"S": "REQUEST#"}},
    )["Items"]
    # one marker: order-42's (a refused request leaves none, so its retry is counted)
    assert len(markers) == 1
    assert int(markers[0]["expiresAt"]["N"]) == int(NOON) + 86400


def test_an_idempotency_key_counts_only_the_request_it_came_with(dynamodb: Counting) -> None:
    """A key reused on another request (another body, path or user) is another request: counted,
    and refused once the quota is spent."""
    subject = limiter(dynamodb, Clock())
    limits = Limits(rate=1000, burst=1000, daily=3)
    assert subject.admit(TENANT, limits, "k", 'u1\nPOST\n/agents\n{"name":"a"}').counted
    assert not subject.admit(TENANT, limits, "k", 'u1\nPOST\n/agents\n{"name":"a"}').counted
    assert subject.admit(TENANT, limits, "k", 'u1\nPOST\n/agents\n{"name":"b"}').counted
    assert subject.admit(TENANT, limits, "k", 'u2\nPOST\n/agents\n{"name":"a"}').counted
    assert day_item(dynamodb)["apiCalls"] == 3
    assert refused(lambda: subject.admit(TENANT, limits, "k", "u1\nGET\n/me\n")).code == QUOTA_EXCEEDED


def test_a_retry_of_a_counted_request_is_still_paced_by_the_rate(dynamodb: Counting) -> None:
    clock = Clock()
    subject = limiter(dynamodb, clock)
    limits = Limits(rate=1, burst=2, daily=1000)
    assert subject.admit(TENANT, limits, "k", "r").counted
    assert not subject.admit(TENANT, limits, "k", "r").counted  # the burst's second token
    assert refused(lambda: subject.admit(TENANT, limits, "k", "r")).code == RATE_LIMITED
    assert day_item(dynamodb)["apiCalls"] == 1
    clock.now += 1.0
    assert not subject.admit(TENANT, limits, "k", "r").counted


def test_an_idempotency_key_is_per_tenant(dynamodb: Counting) -> None:
    subject = limiter(dynamodb, Clock())
    limits = Limits(rate=10, burst=10, daily=100)
    assert subject.admit(TENANT, limits, "same").counted
    assert subject.admit(OTHER, limits, "same").counted
    assert day_item(dynamodb)["apiCalls"] == day_item(dynamodb, OTHER)["apiCalls"] == 1


def test_an_idempotency_key_outside_the_key_alphabet_is_a_422(dynamodb: Counting) -> None:
    subject = limiter(dynamodb, Clock())
    with pytest.raises(ValidationFailedError) as caught:
        subject.admit(TENANT, Limits(rate=10, burst=10, daily=100), "a#b")
    assert caught.value.details[0]["field"] == "Idempotency-Key"
    assert day_item(dynamodb) == {}


def test_one_tenants_refusals_leave_another_tenant_alone(dynamodb: Counting) -> None:
    subject = limiter(dynamodb, Clock())
    limits = Limits(rate=1, burst=2, daily=100)
    for _ in range(2):
        subject.admit(TENANT, limits)
    for _ in range(5):
        refused(lambda: subject.admit(TENANT, limits))
    assert subject.admit(OTHER, limits).quota.remaining == 1
    other = day_item(dynamodb, OTHER)
    assert other["apiCalls"] == 1
    assert "throttled" not in other
