"""The control-table store: tenants and their slug markers.

Every write is conditional: creation with `attribute_not_exists(PK)` and the slug marker in the same
transaction, changes of name, tier and overrides with optimistic locking on `version`, status changes only from a status the
state machine allows. A refused write raises a domain error naming what it found.

A write that committed is never reported as refused, even when botocore retried it after a lost
response: the transaction carries an idempotency token, the slug marker names its tenant, and every
update stamps the item with its own `writeId`, so a retry that finds its own write has succeeded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from tenancy.common.dynamo import (
    Page,
    all_items,
    cancellation_reasons,
    cancelled_attribute,
    from_item,
    is_condition_failure,
    query_page,
    to_item,
    to_value,
    transact_write,
    update_expression,
)
from tenancy.common.errors import (
    IllegalTransitionError,
    NotFoundError,
    SlugTakenError,
    StaleOperationError,
    StaleVersionError,
    TenantOffboardedError,
)
from tenancy.common.keys import TENANT_ENTITY
from tenancy.common.timestamps import now_iso
from tenancy.contracts.tiers import Tier
from tenancy.control import keys
from tenancy.control.models import Status, Tenant, sources_of

_BY_CREATION = ("GSI1", "GSI1PK", "GSI1SK")
LEAVING = frozenset({Status.OFFBOARDING, Status.DEPROVISIONING, Status.DEPROVISIONED})
_BY_STATUS = ("GSI2", "GSI2PK", "GSI2SK")


class ControlStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # --- reads -----------------------------------------------------------------------------

    def get(self, tenant_id: str) -> Tenant:
        response = self._client.get_item(
            TableName=self._table, Key=to_item(keys.tenant_key(tenant_id)), ConsistentRead=True
        )
        if "Item" not in response:
            raise NotFoundError(f"tenant {tenant_id} not found", {"tenantId": tenant_id})
        return _tenant(response["Item"])

    def list_tenants(
        self,
        *,
        status: Status | None = None,
        tier: Tier | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page[Tenant]:
        """Tenants oldest first, by status when given; `tier` filters. Pages hold exactly `limit`
        items while more exist; the cursor is bound to this status/tier query."""
        index, pk_name, sk_name = _BY_STATUS if status else _BY_CREATION
        pk_value = keys.status_index_pk(status) if status else TENANT_ENTITY
        scope = f"tenants?status={status or ''}&tier={tier or ''}"
        key_names = frozenset({"PK", "SK", pk_name, sk_name})
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": pk_name},
            "ExpressionAttributeValues": {":pk": to_value(pk_value)},
        }
        if tier:
            query["FilterExpression"] = "#tier = :tier"
            query["ExpressionAttributeNames"]["#tier"] = "tier"
            query["ExpressionAttributeValues"][":tier"] = to_value(str(tier))
        raw, next_cursor = query_page(
            self._client,
            query,
            limit=limit,
            cursor=cursor,
            scope=scope,
            key_names=key_names,
            pinned={pk_name: pk_value},
        )
        return Page([_tenant(item) for item in raw], next_cursor)

    def list_stale(self, *, status: Status, updated_before: str) -> list[Tenant]:
        """Every tenant in `status` last changed before `updated_before` (for the reconciler)."""
        index, pk_name, _ = _BY_STATUS
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk",
            "FilterExpression": "updatedAt < :cutoff",
            "ExpressionAttributeNames": {"#pk": pk_name},
            "ExpressionAttributeValues": {
                ":pk": to_value(keys.status_index_pk(status)),
                ":cutoff": to_value(updated_before),
            },
        }
        return [_tenant(item) for item in all_items(self._client, query)]

    # --- writes ----------------------------------------------------------------------------

    def create(self, tenant: Tenant) -> Tenant:
        """Write the tenant and its slug marker in one transaction; a taken slug is a conflict."""
        marker = {
            **keys.slug_key(tenant.slug),
            "tenantId": tenant.tenant_id,
            "createdAt": tenant.created_at,
        }
        try:
            transact_write(
                self._client,
                [
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item(_tenant_item(tenant)),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item(marker),
                            "ConditionExpression": "attribute_not_exists(PK)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                ],
            )
        except ClientError as error:
            if cancellation_reasons(error)[1:2] != ["ConditionalCheckFailed"]:
                raise
            if cancelled_attribute(error, 1, "tenantId") == tenant.tenant_id:
                return tenant  # this very create committed on an earlier attempt
            raise SlugTakenError(
                f"slug {tenant.slug!r} is already taken",
                [{"field": "slug", "message": "already taken"}],
            ) from None
        return tenant

    def update(
        self,
        tenant_id: str,
        expected_version: int,
        set_fields: dict[str, Any],
        *,
        isolation: str | None = None,
    ) -> Tenant:
        """Change the tenant's own fields (name, tier, overrides) under optimistic locking on
        `version`; a tenant that is offboarding or offboarded is read-only. With `isolation`, the
        write also requires the tenant to still be in that isolation (a tier change never crosses
        the pool/silo line behind the check that allowed it)."""
        leaving = {f":leaving{i}": str(status) for i, status in enumerate(sorted(LEAVING))}
        condition = f"#version = :expected AND NOT #status IN ({', '.join(leaving)})"
        values: dict[str, Any] = {":expected": expected_version, **leaving}
        if isolation is not None:
            condition += " AND #isolation = :isolation"
            values[":isolation"] = isolation

        def refused(current: Tenant) -> Exception:
            if current.status in LEAVING:
                return TenantOffboardedError(
                    f"tenant {tenant_id} is {current.status}; an offboarded tenant cannot be changed",
                    {"tenantId": tenant_id, "currentStatus": str(current.status)},
                )
            return StaleVersionError(
                f"tenant {tenant_id} is at version {current.version}, not {expected_version}",
                {
                    "tenantId": tenant_id,
                    "currentVersion": current.version,
                    "expectedVersion": expected_version,
                },
            )

        return self._update(
            tenant_id, condition=condition, values=values, set_fields=set_fields, on_refused=refused
        )

    def transition(
        self,
        tenant_id: str,
        target: Status,
        *,
        operation_id: str | None = None,
        set_fields: dict[str, Any] | None = None,
        remove_fields: Iterable[str] = (),
    ) -> Tenant:
        """Move the tenant to `target` if the state machine allows it from its current status and,
        when `operation_id` is given, only if the tenant is still in that operation (a result of an
        earlier attempt can then never move a later one)."""
        sources = sorted(sources_of(target))
        placeholders = {f":from{i}": str(source) for i, source in enumerate(sources)}
        condition = f"#status IN ({', '.join(placeholders)})"
        values: dict[str, Any] = dict(placeholders)
        if operation_id is not None:
            condition += " AND operationId = :operation"
            values[":operation"] = operation_id

        def refused(current: Tenant) -> Exception:
            if current.status in sources and operation_id is not None:
                return StaleOperationError(
                    f"tenant {tenant_id} is in operation {current.operation_id}, not {operation_id}",
                    {
                        "tenantId": tenant_id,
                        "currentOperation": current.operation_id,
                        "operationId": operation_id,
                    },
                )
            return IllegalTransitionError(tenant_id, str(current.status), str(target))

        return self._update(
            tenant_id,
            condition=condition,
            values=values,
            set_fields={
                **(set_fields or {}),
                "provisioningStatus": str(target),
                "GSI2PK": keys.status_index_pk(str(target)),
            },
            remove_fields=remove_fields,
            on_refused=refused,
        )

    def release_slug(self, slug: str, tenant_id: str) -> None:
        """Free a slug for reuse, only if it still belongs to this tenant (idempotent)."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=to_item(keys.slug_key(slug)),
                ConditionExpression="attribute_not_exists(PK) OR tenantId = :tenant",
                ExpressionAttributeValues={":tenant": to_value(tenant_id)},
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise

    def _update(
        self,
        tenant_id: str,
        *,
        condition: str,
        values: dict[str, Any],
        set_fields: dict[str, Any],
        on_refused: Any,
        remove_fields: Iterable[str] = (),
    ) -> Tenant:
        """Conditional update that bumps `version` and `updatedAt` and returns the new tenant.

        The item is stamped with this write's own `writeId`: if the condition fails because an
        earlier attempt of this very call committed (a retry after a lost response), the item
        carries our id and the write has succeeded."""
        write_id = str(uuid.uuid4())
        update = update_expression(
            set_fields,
            raw=["#version = #version + :one", "#updatedAt = :now", "#writeId = :write"],
            remove_fields=remove_fields,
        )
        names = {"#version": "version", "#updatedAt": "updatedAt", "#writeId": "writeId", **update.names}
        if "#status" in condition:
            names["#status"] = "provisioningStatus"
        if "#isolation" in condition:
            names["#isolation"] = "isolation"
        expression_values = {":one": 1, ":now": now_iso(), ":write": write_id, **values, **update.values}
        expression = update.expression
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_item(keys.tenant_key(tenant_id)),
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists(PK) AND {condition}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(expression_values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            old: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
            if not old:
                raise NotFoundError(f"tenant {tenant_id} not found", {"tenantId": tenant_id}) from None
            if old.get("writeId") == {"S": write_id}:
                return _tenant(old)  # our own write, committed by an earlier attempt
            raise on_refused(_tenant(old)) from None
        return _tenant(response["Attributes"])


def _tenant_item(tenant: Tenant) -> dict[str, Any]:
    created = keys.created_sort_key(tenant.created_at, tenant.tenant_id)
    return {
        **keys.tenant_key(tenant.tenant_id),
        "GSI1PK": TENANT_ENTITY,
        "GSI1SK": created,
        "GSI2PK": keys.status_index_pk(str(tenant.status)),
        "GSI2SK": created,
        "entity": TENANT_ENTITY,
        **tenant.model_dump(by_alias=True, exclude_none=True, mode="json"),
    }


def _tenant(item: dict[str, Any]) -> Tenant:
    return Tenant.model_validate(from_item(item))
