"""The request limiter: per tenant, a token bucket (rate and burst) and a daily quota, kept on the
tenant's `DAY#<yyyy-mm-dd>` item of the usage table (`tenancy.contracts.usage`) and enforced by one
conditional UpdateItem, so two racing requests can never both take the last token.

The bucket is GCRA (the generic cell rate algorithm), which is a token bucket stored as one number:
the theoretical arrival time `tat`. With the emission interval T = 1 s / rate and the tolerance
tau = T * (burst - 1), a request arriving at `now` is admitted when `max(tat, now) - now <= tau`, and
moves `tat` to `max(tat, now) + T`. A classic bucket stores tokens *and* a refill time and needs both
read before it can decide; GCRA's single number lets DynamoDB decide in the update's condition, with
no read first (no read-modify-write race) and nothing to refill. `tat` is kept in integer
microseconds: DynamoDB's arithmetic on it stays exact, and T = 1 000 000 // rate loses at most 1 µs
per request (milliseconds would turn 3 per second into 3.009).

DynamoDB's update expressions have no `max()`, so the update takes one of two shapes:

- busy (`tat >= now`): `SET tat = tat + T, apiCalls = apiCalls + 1`
  if `tat >= now AND tat <= now + tau AND apiCalls < daily`;
- idle (`tat < now`, or no `tat` yet today): `SET tat = now + T, apiCalls = if_not_exists(apiCalls, 0) + 1`
  if `(no tat OR tat < now) AND (no apiCalls OR apiCalls < daily)`.

The branch is predicted from the last `tat` this process saw for the tenant. A refused condition
returns the item as it was (`ReturnValuesOnConditionCheckFailure=ALL_OLD`), which tells a wrong
guess (retried with the branch the item calls for: `tat` only grows, so this settles within
MAX_ATTEMPTS) from a real refusal: `apiCalls >= daily` is `QUOTA_EXCEEDED` (Retry-After: the seconds
to 00:00 UTC), `tat > now + tau` is `RATE_LIMITED` (Retry-After: `ceil((tat - tau - now) / 1 s)`,
when one token is back). In the steady state a request costs one UpdateItem (`ReturnValues=
UPDATED_NEW` gives the values the RateLimit headers report); a refusal costs a second one, which
counts it (`ADD throttled 1`). A limit of 0 refuses every request without touching the bucket.

A request carrying `Idempotency-Key` is counted once: the `REQUEST#<digest>` marker (kept one
day), a digest of the key and of the request (user, method, path, body), is put in the same
transaction as the update, on `attribute_not_exists`. A retry of that very request finds the marker
and runs again with `apiCalls + 0` and no quota condition: it is paced by the rate like any other
request, but neither counted again nor refused by the quota. A key reused on another request is
another request. Keyed requests cost two calls (a transaction cannot return the updated values the
headers need, so the day item is read after it).

The bucket lives on the day's item, so 00:00 UTC starts a full bucket as well as a fresh quota (at
most one extra burst at midnight), and every request of a tenant writes one item: DynamoDB takes
about 1 000 writes a second on one item, well above the largest plan's rate; a tenant that needs
more would need the day's item sharded per time window.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from tenancy.common.dynamo import cancellation_reasons, transact_write
from tenancy.common.errors import TooManyRequestsError, ValidationFailedError
from tenancy.common.observability import count
from tenancy.contracts import usage
from tenancy.contracts.plans import EffectiveConfig, Limit

MICROS = 1_000_000
MAX_ATTEMPTS = 3
TAT = "tat"  # the bucket's theoretical arrival time, epoch microseconds
CALLS = "apiCalls"
THROTTLED = "throttled"
RATE_LIMITED = "RATE_LIMITED"
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
# What a refusal of a limit set to 0 asks the client to wait: a changed limit reaches the app API
# with the next authorization, which API Gateway caches this long at most.
ZERO_LIMIT_RETRY_AFTER = 60
# One point per refused request, with the tenant_id dimension (the dashboard's throttles).
THROTTLED_METRIC = "RequestsThrottled"


@dataclass(frozen=True)
class Limits:
    rate: int  # requests per second
    burst: int
    daily: int

    @classmethod
    def of(cls, config: EffectiveConfig) -> Limits:
        return cls(
            config.limit(Limit.API_REQUESTS_PER_SECOND),
            config.limit(Limit.API_BURST),
            config.limit(Limit.API_REQUESTS_PER_DAY),
        )

    @property
    def interval(self) -> int:
        """T, in microseconds (rate > 0)."""
        return max(1, MICROS // self.rate)

    @property
    def tolerance(self) -> int:
        """tau, in microseconds (burst > 0)."""
        return self.interval * (self.burst - 1)


@dataclass(frozen=True)
class Quota:
    """What the `RateLimit-*` headers report: the limit closest to exhaustion (the burst or the
    daily quota), how many requests it still admits now, and the seconds until it is whole again."""

    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


@dataclass(frozen=True)
class Admission:
    quota: Quota
    counted: bool  # False: a retry of a request already counted (same Idempotency-Key)


class RequestRefused(TooManyRequestsError):
    """A 429 with what its headers say (`Retry-After` and the `RateLimit-*` of the exhausted limit)."""

    def __init__(self, message: str, details: Any, *, code: str, retry_after: int, quota: Quota) -> None:
        super().__init__(message, details, code=code, retry_after=retry_after)
        self.quota = quota

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after), **self.quota.headers()}


def seconds_to_midnight(now_us: int) -> int:
    """Whole seconds (at least 1) until the next 00:00 UTC, when the daily quota starts again."""
    today = datetime.fromtimestamp(now_us / MICROS, UTC).date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
    return max(1, math.ceil((int(midnight.timestamp()) * MICROS - now_us) / MICROS))


def closest(limits: Limits, tat: int, calls: int, now_us: int) -> Quota:
    """The limit that will refuse first, after a request moved the bucket to `tat` and the day's
    count to `calls`."""
    ahead = max(tat - now_us, 0)
    burst_left = max(0, min(limits.burst, (limits.tolerance - ahead) // limits.interval + 1))
    daily_left = max(0, limits.daily - calls)
    if daily_left <= burst_left:
        return Quota(limits.daily, daily_left, seconds_to_midnight(now_us))
    return Quota(limits.burst, burst_left, math.ceil(ahead / MICROS))


def _number(item: dict[str, Any] | None, name: str) -> int | None:
    value = (item or {}).get(name, {}).get("N")
    return int(value) if value is not None else None


class RequestLimiter:
    """One per execution environment. `dynamodb(tenant_id)`: a DynamoDB client acting as that tenant
    (its credentials reach only the tenant's partition); `clock()`: epoch seconds."""

    def __init__(
        self,
        dynamodb: Callable[[str], Any],
        table_name: Callable[[], str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name
        self._clock = clock
        self._last_tat: dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(
        self, tenant_id: str, limits: Limits, idempotency_key: str | None = None, request: str = ""
    ) -> Admission:
        """Count one request of `tenant_id`, or raise RequestRefused (the request must not run).

        With `idempotency_key`, the request is counted once: its marker names the key *and* the
        request (`request`: who sent what, to where, with which body), so a key reused on another
        request is a new request. A retry of a counted request is paced by the rate like any
        other, but counted neither in the day's calls nor against the daily quota."""
        now = int(self._clock() * MICROS)
        day = datetime.fromtimestamp(now / MICROS, UTC).date()
        if limits.daily <= 0:
            self._refuse(tenant_id, day, now, QUOTA_EXCEEDED, limits, ZERO_LIMIT_RETRY_AFTER, calls=0)
        if limits.rate <= 0 or limits.burst <= 0:
            self._refuse(tenant_id, day, now, RATE_LIMITED, limits, ZERO_LIMIT_RETRY_AFTER, calls=None)
        marker = _marker(tenant_id, idempotency_key, request) if idempotency_key is not None else None
        with self._lock:
            busy = self._last_tat.get(tenant_id, 0) >= now
        dynamodb = self._dynamodb(tenant_id)
        counted = True
        attempts = 0
        while attempts < MAX_ATTEMPTS:
            update = self._update(tenant_id, day, now, limits, busy=busy, counted=counted)
            try:
                if marker is None or not counted:
                    returned = "UPDATED_NEW" if counted else "ALL_NEW"  # `+ 0` may return no calls
                    new = dynamodb.update_item(**update, ReturnValues=returned)["Attributes"]
                else:
                    self._transact(dynamodb, update, marker, now)
                    new = self._day(dynamodb, tenant_id, day)
            except ClientError as error:
                old, replay = self._refusal(error, marker is not None and counted)
                if replay:
                    counted = False  # a retry: paced by the rate, not counted again
                    continue
                tat, calls = _number(old, TAT), _number(old, CALLS)
                if counted and calls is not None and calls >= limits.daily:
                    retry = seconds_to_midnight(now)
                    self._refuse(tenant_id, day, now, QUOTA_EXCEEDED, limits, retry, calls=calls)
                if tat is not None and tat > now + limits.tolerance:
                    retry = max(1, math.ceil((tat - limits.tolerance - now) / MICROS))
                    self._refuse(tenant_id, day, now, RATE_LIMITED, limits, retry, calls=calls)
                busy = tat is not None and tat >= now  # a wrong guess: the other shape
                attempts += 1
                continue
            tat, calls = _number(new, TAT) or now, _number(new, CALLS) or 0
            with self._lock:
                self._last_tat[tenant_id] = tat
            return Admission(closest(limits, tat, calls, now), counted=counted)
        # Still undecided after every attempt (the bucket moved under each one): too busy to tell.
        self._refuse(tenant_id, day, now, RATE_LIMITED, limits, 1, calls=None)
        raise AssertionError("unreachable")  # _refuse raises

    # --- the writes -----------------------------------------------------------------------------

    def _update(
        self, tenant_id: str, day: date, now: int, limits: Limits, *, busy: bool, counted: bool = True
    ) -> dict[str, Any]:
        """The update of one shape; `counted=False` (a retry already counted) moves the bucket only."""
        values: dict[str, Any] = {
            ":now": {"N": str(now)},
            ":T": {"N": str(limits.interval)},
            ":one": {"N": "1" if counted else "0"},
            ":expires": {"N": str(usage.expires_at(day))},
        }
        if counted:
            values[":daily"] = {"N": str(limits.daily)}
        if busy:
            values[":latest"] = {"N": str(now + limits.tolerance)}
            expression = (
                "SET #tat = #tat + :T, #calls = #calls + :one, expiresAt = if_not_exists(expiresAt, :expires)"
            )
            condition = "#tat >= :now AND #tat <= :latest" + (" AND #calls < :daily" if counted else "")
        else:
            values[":zero"] = {"N": "0"}
            expression = (
                "SET #tat = :now + :T, #calls = if_not_exists(#calls, :zero) + :one, "
                "expiresAt = if_not_exists(expiresAt, :expires)"
            )
            condition = "(attribute_not_exists(#tat) OR #tat < :now)" + (
                " AND (attribute_not_exists(#calls) OR #calls < :daily)" if counted else ""
            )
        return {
            "TableName": self._table_name(),
            "Key": {name: {"S": value} for name, value in usage.day_key(tenant_id, day).items()},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#tat": TAT, "#calls": CALLS},
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def _transact(self, dynamodb: Any, update: dict[str, Any], marker: dict[str, str], now: int) -> None:
        expires = now // MICROS + usage.REQUEST_MARKER_SECONDS
        put = {
            "TableName": update["TableName"],
            "Item": {
                **{name: {"S": value} for name, value in marker.items()},
                "expiresAt": {"N": str(expires)},
            },
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        transact_write(dynamodb, [{"Put": put}, {"Update": update}])

    @staticmethod
    def _refusal(error: ClientError, transaction: bool) -> tuple[dict[str, Any] | None, bool]:
        """(the day item as it was, whether the request is a retry of one already counted); any
        other error than a refused condition is raised again."""
        response: dict[str, Any] = dict(error.response)
        code = response.get("Error", {}).get("Code")
        if not transaction and code == "ConditionalCheckFailedException":
            return response.get("Item"), False
        reasons = cancellation_reasons(error) if transaction else []
        if not reasons:
            raise error
        if reasons[0] == "ConditionalCheckFailed":
            return None, True
        if reasons[1] != "ConditionalCheckFailed":
            raise error
        entries = response.get("CancellationReasons") or []
        return (entries[1].get("Item") if len(entries) > 1 else None), False

    def _day(self, dynamodb: Any, tenant_id: str, day: date) -> dict[str, Any]:
        found = dynamodb.get_item(
            TableName=self._table_name(),
            Key={name: {"S": value} for name, value in usage.day_key(tenant_id, day).items()},
            ProjectionExpression="#tat, #calls",
            ExpressionAttributeNames={"#tat": TAT, "#calls": CALLS},
            ConsistentRead=True,
        )
        item: dict[str, Any] = found.get("Item") or {}
        return item

    def _refuse(
        self,
        tenant_id: str,
        day: date,
        now: int,
        code: str,
        limits: Limits,
        retry_after: int,
        *,
        calls: int | None,
    ) -> None:
        """Count the refusal (`throttled`) and raise it."""
        self._dynamodb(tenant_id).update_item(
            TableName=self._table_name(),
            Key={name: {"S": value} for name, value in usage.day_key(tenant_id, day).items()},
            UpdateExpression="ADD #throttled :one SET expiresAt = if_not_exists(expiresAt, :expires)",
            ExpressionAttributeNames={"#throttled": THROTTLED},
            ExpressionAttributeValues={":one": {"N": "1"}, ":expires": {"N": str(usage.expires_at(day))}},
        )
        count(THROTTLED_METRIC, tenant_id)
        if code == QUOTA_EXCEEDED:
            quota = Quota(limits.daily, 0, seconds_to_midnight(now))
            raise RequestRefused(
                f"the tenant's daily quota of {limits.daily} requests is spent; it starts again at 00:00 UTC",
                {
                    "limit": str(Limit.API_REQUESTS_PER_DAY),
                    "value": limits.daily,
                    "used": calls,
                    "retryAfter": retry_after,
                },
                code=code,
                retry_after=retry_after,
                quota=quota,
            )
        quota = Quota(limits.burst, 0, retry_after)
        raise RequestRefused(
            f"the tenant's request rate of {limits.rate} per second (burst {limits.burst}) is exceeded",
            {
                "limit": str(Limit.API_REQUESTS_PER_SECOND),
                "value": limits.rate,
                "burst": limits.burst,
                "retryAfter": retry_after,
            },
            code=code,
            retry_after=retry_after,
            quota=quota,
        )


def _marker(tenant_id: str, key: str, request: str) -> dict[str, str]:
    """The key of the request's REQUEST# marker: the Idempotency-Key bound to the request it came
    with (a digest of both), or a 422 naming the header."""
    try:
        usage.request_key(tenant_id, key)  # the header's own rule
        digest = hashlib.sha256(f"{key}\n{request}".encode()).hexdigest()
        return usage.request_key(tenant_id, digest)
    except ValueError:
        raise ValidationFailedError(
            "invalid request: Idempotency-Key",
            [
                {
                    "field": "Idempotency-Key",
                    "location": "header",
                    "message": "must be 1 to 128 of A-Z a-z 0-9 _ . : @ + -",
                }
            ],
        ) from None
