"""The provisioner's lifecycle ledger: per tenant, the latest request it has acted on, and a lease.

Lifecycle requests reach the provisioner at least once and in any order: EventBridge and Lambda
redeliver them, late, after failures. Acted upon, a request that is no longer current does harm: a
TenantOnboarding delivered after the tenant was offboarded brings its resources back (a route, a
prefix, a silo stack, an admin user for a tenant that no longer exists), and the TenantOffboarding
of a failed offboarding, delivered after the tenant was onboarded again, takes a live tenant's data
away. The completion ignores such results, but the work is done by then.

So before acting, the provisioner claims the request in its ledger: one item per tenant holding the
operation and the time it was requested. A request for another operation that was requested before
the one the ledger holds is stale and is ignored (no work, no result: nobody waits for it). Each
operation starts only after the one before it was settled, so request times follow the order of
operations. The claim is one conditional write: two requests cannot both win it.

Checking is not enough: a copy of the onboarding that claimed the ledger before the offboarding
arrived may still be running (Lambda runs asynchronous invocations side by side) and re-create the
route, the prefix and the admin user right after the offboarding removed them. So the claim is also
a lease that makes the tenant's operations mutually exclusive:

- The claim records who holds it (`holder`: the invocation's request id, which Lambda keeps across
  its own retries of one event) and until when (`runningUntil`: now plus the invocation's
  remaining time, plus LEASE_GRACE_SECONDS for clocks and calls still in flight).
- While a lease is live, a claim by any other holder, for the same operation or a later one, is
  refused with OperationInProgress. The provisioner claims again for a few seconds
  (LEASE_WAIT_SECONDS, within its own time: holders are usually done by then, and copies of one
  request arriving together take turns instead of using up their retries on each other), then
  lets it propagate: the invocation fails and Lambda's asynchronous retry delivers the request
  again later, when the lease has ended. Two copies of one operation never run at once, and nothing
  is written by a refused request.
- A stale request (an older, different operation) is still ignored, lease or not: it never runs.
- The holder releases the lease (a conditional update on its id) when it finishes, success or
  failure. An invocation that dies without finishing cannot: a timed-out one's lease lapses at
  `runningUntil`, the moment Lambda kills it; an out-of-memory kill's lasts until then, and is
  taken over by the next claim after it, or at once by Lambda's own retry of that event, which
  carries the same request id. (The local cloud's injected crash unwinds the invocation: it
  releases the lease, as a timeout would.)

A request refused more often than Lambda retries it (a lease held across its retries, about three
minutes on AWS) lands in the function's dead-letter queue; the reconciler fails the tenant whose
result never came, and the operator retries it.

The item lives in the application plane's shared table, outside every tenant partition
(`PK = LIFECYCLE#<tenantId>`: no tenant's credentials reach it and offboarding does not purge it; it
is the tombstone that refuses a late onboarding), and expires (TTL) long after any redelivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from tenancy.common.errors import TenancyError
from tenancy.contracts.events import TenantLifecycleDetail

LEDGER_PK_PREFIX = "LIFECYCLE#"
LEDGER_SK = "LATEST"
TTL_ATTRIBUTE = "expiresAt"  # the app table's TTL attribute
# EventBridge retries a target for at most a day (Tenancy's rules: an hour) and Lambda keeps an async
# event for at most six hours: a week is far beyond the last redelivery.
RETENTION_SECONDS = 7 * 24 * 3600
# Added to a lease's end: clocks of two invocations differ a little, and a call sent just before the
# holder was killed may still take effect.
LEASE_GRACE_SECONDS = 5.0

_CLAIM_CONDITION = (
    "attribute_not_exists(PK) OR ((operationId = :op OR requestedAt < :at) AND "
    "(attribute_not_exists(runningUntil) OR runningUntil < :now OR holder = :holder))"
)


class OperationInProgress(TenancyError):
    """Another invocation holds the tenant's lease: nothing was done; retry the request later."""

    status_code = 409
    code = "OPERATION_IN_PROGRESS"

    def __init__(self, tenant_id: str, operation_id: str, running_until_ms: int | None) -> None:
        self.tenant_id = tenant_id
        self.operation_id = operation_id  # the operation the holder runs
        self.running_until_ms = running_until_ms
        super().__init__(
            f"tenant {tenant_id} is busy with operation {operation_id} "
            f"(lease until {running_until_ms} ms since the epoch): retry later"
        )


class Ledger:
    def __init__(self, dynamodb: Any, table_name: str, clock: Callable[[], float] = time.time) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._clock = clock

    def _key(self, tenant_id: str) -> dict[str, Any]:
        return {"PK": {"S": LEDGER_PK_PREFIX + tenant_id}, "SK": {"S": LEDGER_SK}}

    def claim(
        self, detail_type: str, detail: TenantLifecycleDetail, holder: str, running_until: float
    ) -> str | None:
        """Record this request as the tenant's latest and take its lease for `holder` until
        `running_until` (seconds since the epoch). Returns None when the request is current (the
        lease is held: release it), or the operation that supersedes it when it is stale. Raises
        OperationInProgress while another holder's lease is live."""
        if detail.operation_id is None:  # a request from before operations were tracked: act on it
            return None
        now = self._clock()
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    **self._key(detail.tenant_id),
                    "operationId": {"S": detail.operation_id},
                    "requestedAt": {"S": detail.timestamp},
                    "detailType": {"S": detail_type},
                    "holder": {"S": holder},
                    "runningUntil": {"N": str(_millis(running_until + LEASE_GRACE_SECONDS))},
                    TTL_ATTRIBUTE: {"N": str(int(now) + RETENTION_SECONDS)},
                },
                ConditionExpression=_CLAIM_CONDITION,
                ExpressionAttributeValues={
                    ":op": {"S": detail.operation_id},
                    ":at": {"S": detail.timestamp},
                    ":now": {"N": str(_millis(now))},
                    ":holder": {"S": holder},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            held: Any = dict(error.response).get("Item") or {}  # ALL_OLD: the ledger as it stands
            operation = held.get("operationId", {}).get("S")
            requested_at = held.get("requestedAt", {}).get("S")
            if (
                operation is not None
                and operation != detail.operation_id
                and requested_at is not None
                and not requested_at < detail.timestamp
            ):
                return str(operation)  # stale: an older, different operation
            until = held.get("runningUntil", {}).get("N")
            raise OperationInProgress(
                detail.tenant_id, str(operation or "unknown"), int(until) if until else None
            ) from None
        return None

    def release(self, detail: TenantLifecycleDetail, holder: str) -> bool:
        """End `holder`'s lease on the tenant; False when it no longer held it (it lapsed and was
        taken over: the holder overran its own time)."""
        if detail.operation_id is None:  # no claim, no lease
            return True
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=self._key(detail.tenant_id),
                UpdateExpression="REMOVE runningUntil, holder",
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":holder": {"S": holder}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True


def _millis(seconds: float) -> int:
    return int(seconds * 1000)
