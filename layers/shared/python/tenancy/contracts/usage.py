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
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from tenancy.common.keys import checked_id, tenant_pk

DAY = "DAY"
REQUEST = "REQUEST"
RETENTION_DAYS = 400  # beyond a year, so a year's invoices can be recomputed
COUNTERS = ("apiCalls", "throttled", "executions", "storageBytes")


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
