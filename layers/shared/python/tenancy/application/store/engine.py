"""The tenant-bound store: every read and write of one tenant's partition of the app table.

It is constructed for one tenant (from the verified token, never from a request body or path) and
builds every key itself, so no call can name another tenant's partition. Every write carries a
condition pinning `PK = TENANT#<tenantId>` (or `attribute_not_exists(PK)` for a new item) and its
audit item, in one transaction. Transactions carry an idempotency token, and an email marker names
its owner, so a retried write that committed the first time is reported as the success it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tenancy.application.store import keys as store_keys
from tenancy.common import keys as common_keys
from tenancy.common.dynamo import (
    cancellation_reasons,
    cancelled_attribute,
    from_item,
    is_condition_failure,
    query_page,
    to_item,
    to_value,
    transact_write,
)
from tenancy.common.errors import ConflictError, NotFoundError, StaleVersionError, TenantInactiveError
from tenancy.common.timestamps import now_iso

_KEY_ATTRIBUTES = ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")
_KEY_NAMES = frozenset({"PK", "SK"})


class EmailTakenError(ConflictError):
    code = "EMAIL_TAKEN"


@dataclass(frozen=True)
class Actor:
    """Who is acting, for the audit trail."""

    user_id: str
    trace_id: str


@dataclass(frozen=True)
class Change:
    """An audit record of one mutation: `action` on `resource` (`AGENT#<id>`, ...)."""

    action: str
    resource: str


class TenantStore:
    def __init__(self, client: Any, table_name: str, tenant_id: str, actor: Actor) -> None:
        self._client = client
        self._table = table_name
        self.tenant_id = tenant_id
        self._pk = common_keys.tenant_pk(tenant_id)
        self._actor = actor

    # --- the partition ---------------------------------------------------------------------

    def open_partition(self) -> None:
        """Write the marker every tenant write requires (idempotent); the provisioner does, first."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item({**self._key(store_keys.PARTITION, typed=False), "openedAt": now_iso()}),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise

    # --- reads -------------------------------------------------------------------------------

    def get(self, kind: str, item_id: str) -> dict[str, Any]:
        response = self._call(
            "get_item",
            TableName=self._table,
            Key=self._key(store_keys.item_sk(kind, item_id)),
            ConsistentRead=True,
        )
        if "Item" not in response:
            raise NotFoundError(f"{kind.lower()} {item_id} not found")
        return _view(response["Item"])

    def list_items(
        self, kind: str, *, limit: int, cursor: str | None, where: dict[str, str] | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Items of one kind in id order; `where` filters on attribute equality."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :kind)",
            "ExpressionAttributeValues": {":pk": to_value(self._pk), ":kind": to_value(f"{kind}#")},
            "ConsistentRead": True,
        }
        filters = sorted((where or {}).items())
        if filters:
            query["ExpressionAttributeNames"] = {f"#f{i}": name for i, (name, _) in enumerate(filters)}
            query["FilterExpression"] = " AND ".join(f"#f{i} = :f{i}" for i in range(len(filters)))
            query["ExpressionAttributeValues"].update(
                {f":f{i}": to_value(v) for i, (_, v) in enumerate(filters)}
            )
        scope = f"{self.tenant_id}|{kind}|{filters}"
        with self._inactive_if_gone():
            raw, next_cursor = query_page(
                self._client, query, limit=limit, cursor=cursor, scope=scope, key_names=_KEY_NAMES
            )
        return [_view(item) for item in raw], next_cursor

    def audit_trail(
        self, start: str, end: str, *, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Audit items with timestamps in [start, end] (ISO-8601), oldest first."""
        query = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": to_value(self._pk),
                ":from": to_value(f"{store_keys.AUDIT}#{start}"),
                ":to": to_value(f"{store_keys.AUDIT}#{end}\uffff"),
            },
            "ConsistentRead": True,
        }
        scope = f"{self.tenant_id}|audit|{start}|{end}"
        with self._inactive_if_gone():
            raw, next_cursor = query_page(
                self._client, query, limit=limit, cursor=cursor, scope=scope, key_names=_KEY_NAMES
            )
        return [_view(item) for item in raw], next_cursor

    # --- writes ------------------------------------------------------------------------------

    def create(
        self,
        kind: str,
        item_id: str,
        attributes: dict[str, Any],
        change: Change,
        *,
        unique_email: str | None = None,
    ) -> dict[str, Any]:
        now = now_iso()
        item = {
            **self._key(store_keys.item_sk(kind, item_id), typed=False),
            "GSI1PK": kind,
            "GSI1SK": now,
            **attributes,
            "version": 1,
            "createdAt": now,
            "updatedAt": now,
        }
        writes = [self._put(item)]
        if unique_email is not None:
            marker = self._put(self._email_marker(unique_email, item_id, now))
            marker["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            writes.append(marker)
        try:
            self._transact(writes, change, now)
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if unique_email is not None and reasons[1:2] == ["ConditionalCheckFailed"]:
                if cancelled_attribute(error, 1, "ownerId") == item_id:
                    return _view(to_item(item))  # this very create committed on an earlier attempt
                raise EmailTakenError(
                    f"{unique_email} is already a user of this tenant",
                    [{"field": "email", "message": "already in use in this tenant"}],
                ) from None
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise ConflictError(f"{kind.lower()} {item_id} already exists") from None
            raise
        return _view(to_item(item))

    def update(
        self,
        kind: str,
        item_id: str,
        changes: dict[str, Any],
        expected_version: int | None,
        change: Change,
        *,
        only_if: tuple[str, dict[str, str], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Apply `changes` if the item is at `expected_version` (when given) and `only_if`
        (expression, attribute names, values) holds."""
        now = now_iso()
        names = {f"#c{i}": name for i, name in enumerate(changes)}
        values: dict[str, Any] = {f":c{i}": value for i, value in enumerate(changes.values())}
        values.update({":pk": self._pk, ":one": 1, ":now": now})
        condition = "PK = :pk"
        if expected_version is not None:
            condition += " AND version = :expected"
            values[":expected"] = expected_version
        if only_if is not None:
            expression, extra_names, extra_values = only_if
            condition += f" AND ({expression})"
            names.update(extra_names)
            values.update(extra_values)
        assignments = [f"#c{i} = :c{i}" for i in range(len(changes))] + [
            "version = version + :one",
            "updatedAt = :now",
        ]
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(store_keys.item_sk(kind, item_id)),
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
        }
        if names:
            request["ExpressionAttributeNames"] = names
        update = {"Update": request}
        try:
            self._transact([update], change, now)
        except ClientError as error:
            if cancellation_reasons(error)[:1] != ["ConditionalCheckFailed"]:
                raise
            current = self.get(kind, item_id)  # raises NotFoundError when it is gone
            if expected_version is not None and current["version"] != expected_version:
                raise StaleVersionError(
                    f"{kind.lower()} {item_id} is at version {current['version']}, not {expected_version}",
                    {"currentVersion": current["version"], "expectedVersion": expected_version},
                ) from None
            raise ConflictError(
                f"{kind.lower()} {item_id} cannot change that way now", {"current": current}
            ) from None
        return self.get(kind, item_id)

    def delete(self, kind: str, item_id: str, change: Change, *, release_email: str | None = None) -> None:
        now = now_iso()
        writes = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": self._key(store_keys.item_sk(kind, item_id)),
                    "ConditionExpression": "PK = :pk",
                    "ExpressionAttributeValues": {":pk": to_value(self._pk)},
                }
            }
        ]
        if release_email is not None:
            writes.append(
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": self._key(store_keys.email_sk(release_email)),
                        "ConditionExpression": "PK = :pk AND ownerId = :owner",
                        "ExpressionAttributeValues": to_item({":pk": self._pk, ":owner": item_id}),
                    }
                }
            )
        try:
            self._transact(writes, change, now)
        except ClientError as error:
            if cancellation_reasons(error)[:1] == ["ConditionalCheckFailed"]:
                raise NotFoundError(f"{kind.lower()} {item_id} not found") from None
            raise

    # --- helpers -----------------------------------------------------------------------------

    def _key(self, sk: str, *, typed: bool = True) -> dict[str, Any]:
        key = {"PK": self._pk, "SK": sk}
        return to_item(key) if typed else key

    def _put(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(item),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def _email_marker(self, email: str, owner_id: str, now: str) -> dict[str, Any]:
        return {**self._key(store_keys.email_sk(email), typed=False), "ownerId": owner_id, "createdAt": now}

    def _call(self, operation: str, **request: Any) -> Any:
        with self._inactive_if_gone():
            return getattr(self._client, operation)(**request)

    @contextmanager
    def _inactive_if_gone(self) -> Iterator[None]:
        """A silo tenant's table is deleted with its stack: reaching it is a closed tenant, not a 500."""
        try:
            yield
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise self._inactive() from None
            raise

    def _inactive(self) -> TenantInactiveError:
        return TenantInactiveError(f"tenant {self.tenant_id} is not active")

    def _transact(self, writes: list[dict[str, Any]], change: Change, now: str) -> None:
        """The writes, their audit item and the open-partition check, all or nothing."""
        audit = {
            **self._key(store_keys.audit_sk(now, uuid.uuid4().hex), typed=False),
            "GSI1PK": store_keys.AUDIT,
            "GSI1SK": now,
            "action": change.action,
            "resource": change.resource,
            "actorUserId": self._actor.user_id,
            "traceId": self._actor.trace_id,
            "createdAt": now,
        }
        partition_open = {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": self._key(store_keys.PARTITION),
                "ConditionExpression": "attribute_exists(PK)",
            }
        }
        try:
            with self._inactive_if_gone():
                transact_write(self._client, [*writes, self._put(audit), partition_open])
        except ClientError as error:
            if cancellation_reasons(error)[-1:] == ["ConditionalCheckFailed"]:
                raise self._inactive() from None
            raise


def _view(item: dict[str, Any]) -> dict[str, Any]:
    """An item as the API shows it: without keys, numbers as ints."""
    values = from_item(item)
    return {
        name: int(value) if name == "version" else value
        for name, value in values.items()
        if name not in _KEY_ATTRIBUTES
    }
