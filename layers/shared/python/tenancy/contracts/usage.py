"""Usage metering: what each tenant used, per UTC day, in the usage table `<app>-<stage>-usage`.

The table belongs to the control plane (it is the metering record `GET /tenants/{id}/usage` reads);
the application plane writes it, as the tenant: every key sits in the tenant's own partition
`PK=TENANT#<tenantId>`, so the tenant-access role's `dynamodb:LeadingKeys` condition pins it.

Items (all in `PK=TENANT#<tenantId>`):
- `SK=DAY#<yyyy-mm-dd>`: the day's counters, `apiCalls`, `throttled` (requests refused with 429),
  `executions`, `storageBytes` (bytes stored at the last change), and the request limiter's state
  for that day; `expiresAt` (TTL) keeps the record `RETENTION_DAYS`.
- `SK=REQUEST#<idempotencyKey>`: a request already counted (a retry carrying the same
  `Idempotency-Key` is not counted again); `expiresAt` one day later.

Both usage APIs read a range of days with `read_usage` (bounds checked by `usage_range`): every day
of the range is answered, a day without any traffic as zeros, so a client never has to fill gaps.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tenancy.common.dynamo import all_items, from_item
from tenancy.common.errors import ValidationFailedError
from tenancy.common.keys import checked_id, tenant_pk

DAY = "DAY"
REQUEST = "REQUEST"
RETENTION_DAYS = 400  # beyond a year, so a year's invoices can be recomputed
COUNTERS = ("apiCalls", "throttled", "executions", "storageBytes")
REQUEST_MARKER_SECONDS = 86400  # how long a counted request's Idempotency-Key is remembered
DEFAULT_RANGE_DAYS = 30  # `GET /usage` without bounds: the last 30 days, today included
MAX_RANGE_DAYS = 366
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(UTC).date()


def day_key(tenant_id: str, day: date) -> dict[str, str]:
    return {"PK": tenant_pk(tenant_id), "SK": f"{DAY}#{day.isoformat()}"}


def request_key(tenant_id: str, idempotency_key: str) -> dict[str, str]:
    return {"PK": tenant_pk(tenant_id), "SK": f"{REQUEST}#{checked_id(idempotency_key, 'Idempotency-Key')}"}


def day_of(sort_key: str) -> date:
    return date.fromisoformat(sort_key.removeprefix(f"{DAY}#"))


def expires_at(day: date, days: int = RETENTION_DAYS) -> int:
    """Epoch seconds for the TTL attribute: `days` after the end of `day`."""
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=days + 1)
    return int(end.timestamp())


class UsageDay(BaseModel):
    """One tenant's usage on one day, as both APIs answer it."""

    model_config = ConfigDict(frozen=True)

    date: str
    apiCalls: int = 0
    throttled: int = 0
    executions: int = 0
    storageBytes: int = 0


class UsageReport(BaseModel):
    """A tenant's usage over a range of days (both bounds included, UTC): every day of the range,
    a day without traffic as zeros, and the totals."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    tenantId: str
    from_: str = Field(alias="from")
    to: str
    days: list[UsageDay]
    total: UsageDay = Field(
        description="the sums over the range (`date` is `total`); `storageBytes`: the last value recorded"
    )


def _bound(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _invalid(field, "must be a date that exists (YYYY-MM-DD)") from None


def _invalid(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(
        f"invalid request: {field}", [{"field": field, "location": "query", "message": message}]
    )


def usage_range(from_: str | None, to: str | None, now: datetime | None = None) -> tuple[date, date]:
    """The days a usage read covers: `to` defaults to today (UTC), `from` to 29 days before `to`.
    A date that does not exist, `from` after `to`, or more than MAX_RANGE_DAYS days is a 422 naming
    the field."""
    end = _bound(to, "to") or today(now)
    try:
        start = _bound(from_, "from") or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    except OverflowError:  # `to` in the first days of year 1: no 30 days before it
        raise _invalid("to", "must leave 30 days before it when `from` is left out") from None
    if start > end:
        raise _invalid("from", "must not be after `to`")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise _invalid("to", f"the range holds at most {MAX_RANGE_DAYS} days")
    return start, end


def read_usage(dynamodb: Any, table_name: str, tenant_id: str, start: date, end: date) -> UsageReport:
    """The tenant's usage from `start` to `end` (one Query of its partition's DAY# items)."""
    key = day_key(tenant_id, start)
    found: dict[date, dict[str, Any]] = {}
    query = {
        "TableName": table_name,
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :to",
        "ExpressionAttributeValues": {
            ":pk": {"S": key["PK"]},
            ":from": {"S": key["SK"]},
            ":to": {"S": day_key(tenant_id, end)["SK"]},
        },
        "ProjectionExpression": "SK, " + ", ".join(COUNTERS),
        "ConsistentRead": True,
    }
    for item in all_items(dynamodb, query):
        values = from_item(item)
        found[day_of(str(values["SK"]))] = {name: int(values.get(name) or 0) for name in COUNTERS}
    zeros = dict.fromkeys(COUNTERS, 0)  # set, not defaulted: the API shows what a model holds
    days = [
        UsageDay(date=day.isoformat(), **found.get(day, zeros))
        for day in (start + timedelta(days=n) for n in range((end - start).days + 1))
    ]
    totals = {name: sum(getattr(d, name) for d in days) for name in COUNTERS}
    # storageBytes is a level, not a flow: its total is the last value recorded in the range.
    totals["storageBytes"] = found[max(found)]["storageBytes"] if found else 0
    total = UsageDay(date="total", **totals)
    return UsageReport(
        tenantId=tenant_id, from_=start.isoformat(), to=end.isoformat(), days=days, total=total
    )
