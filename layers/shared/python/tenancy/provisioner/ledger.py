"""The provisioner's lifecycle ledger: per tenant, the latest request it has acted on.

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

The item lives in the application plane's shared table, outside every tenant partition
(`PK = LIFECYCLE#<tenantId>`: no tenant's credentials reach it and offboarding does not purge it; it
is the tombstone that refuses a late onboarding), and expires (TTL) long after any redelivery.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from tenancy.models.events import TenantLifecycleDetail

LEDGER_PK_PREFIX = "LIFECYCLE#"
LEDGER_SK = "LATEST"
TTL_ATTRIBUTE = "expiresAt"  # the app table's TTL attribute
# EventBridge retries a target for at most a day (Tenancy's rules: an hour) and Lambda keeps an async
# event for at most six hours: a week is far beyond the last redelivery.
RETENTION_SECONDS = 7 * 24 * 3600


class Ledger:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def claim(self, detail_type: str, detail: TenantLifecycleDetail) -> str | None:
        """Record this request as the tenant's latest; returns None when it is current, or the
        operation that supersedes it when it is stale."""
        if detail.operation_id is None:  # a request from before operations were tracked: act on it
            return None
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "PK": {"S": LEDGER_PK_PREFIX + detail.tenant_id},
                    "SK": {"S": LEDGER_SK},
                    "operationId": {"S": detail.operation_id},
                    "requestedAt": {"S": detail.timestamp},
                    "detailType": {"S": detail_type},
                    TTL_ATTRIBUTE: {"N": str(int(time.time()) + RETENTION_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(PK) OR operationId = :op OR requestedAt < :at",
                ExpressionAttributeValues={":op": {"S": detail.operation_id}, ":at": {"S": detail.timestamp}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            held: Any = dict(error.response).get("Item") or {}  # ALL_OLD: the ledger as it stands
            return str(held.get("operationId", {}).get("S") or "unknown")
        return None
