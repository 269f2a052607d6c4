"""A transaction of one tenant's partition, built item by item and committed by the store.

Where an entity is more than one item (a membership is `MEMBER#` and `MEMBEROF#`, a share is
`SHARE#` and `SHARED#`, a dashboard carries its owner index and its cards' use), the domain lists
its writes here by sort key and the store commits them with the audit item and the open-partition
check, all or nothing (`TenantStore.commit`). The partition key is never spelled by the caller:
every key is `PK=TENANT#<tenantId>` of the store's tenant, and every condition of an update,
delete or check is pinned to it.

Each write may name how its refusal reads (`on_fail`: the item as it was, `ALL_OLD`, or None when
there was none, to the exception the API answers with), so a cancelled transaction says which of
its conditions failed and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# DynamoDB's limit on one TransactWriteItems; the store adds the audit item and the partition check.
MAX_ITEMS = 100
RESERVED = 2

Refusal = Callable[[dict[str, Any] | None], Exception]


@dataclass
class Write:
    operation: str  # Put | Update | Delete | ConditionCheck
    sk: str
    request: dict[str, Any]  # the operation's fields beyond TableName and Key (plain values)
    on_fail: Refusal | None = None


@dataclass
class Transaction:
    """What one mutation writes, in order; `TenantStore.commit` sends it."""

    writes: list[Write] = field(default_factory=list)

    def put(
        self,
        sk: str,
        attributes: Mapping[str, Any],
        *,
        new: bool = True,
        on_fail: Refusal | None = None,
    ) -> Transaction:
        """The item at `sk` (`new`: only where none is; otherwise replaced whatever it was)."""
        request: dict[str, Any] = {"Item": dict(attributes)}
        if new:
            request["ConditionExpression"] = "attribute_not_exists(PK)"
        self.writes.append(Write("Put", sk, request, on_fail))
        return self

    def update(
        self,
        sk: str,
        expression: str,
        *,
        condition: str | None = "attribute_exists(PK)",
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        on_fail: Refusal | None = None,
    ) -> Transaction:
        """`expression` (SET/ADD/REMOVE) on the item at `sk`, if `condition` holds (None: pinned to
        the partition only, which also requires the item to exist)."""
        self.writes.append(Write("Update", sk, _conditional(condition, names, values, expression), on_fail))
        return self

    def delete(
        self,
        sk: str,
        *,
        condition: str | None = "attribute_exists(PK)",
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        on_fail: Refusal | None = None,
        required: bool = True,
    ) -> Transaction:
        """Delete the item at `sk`; `required=False`: whether or not it exists (no condition)."""
        request = _conditional(condition, names, values) if required else {}
        self.writes.append(Write("Delete", sk, request, on_fail))
        return self

    def check(
        self,
        sk: str,
        condition: str = "attribute_exists(PK)",
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        on_fail: Refusal | None = None,
    ) -> Transaction:
        """Require `condition` of the item at `sk` without writing it."""
        self.writes.append(Write("ConditionCheck", sk, _conditional(condition, names, values), on_fail))
        return self

    def __len__(self) -> int:
        return len(self.writes)


def _conditional(
    condition: str | None,
    names: Mapping[str, str] | None,
    values: Mapping[str, Any] | None,
    expression: str | None = None,
) -> dict[str, Any]:
    """The request fields of a write pinned to the partition (`PK = :pin`), with `condition` besides."""
    request: dict[str, Any] = {
        "ConditionExpression": "PK = :pin" + (f" AND ({condition})" if condition else ""),
        "ExpressionAttributeValues": dict(values or {}),
    }
    if expression is not None:
        request["UpdateExpression"] = expression
    if names:
        request["ExpressionAttributeNames"] = dict(names)
    return request
