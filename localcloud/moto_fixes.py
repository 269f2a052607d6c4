"""Where moto is less faithful than AWS in ways Tenancy depends on, make it faithful.

- DynamoDB evaluates each conditional write atomically; moto's backend does not lock, so two
  concurrent `attribute_not_exists` writes (over moto server's threads) can both succeed. Writes are
  serialized so the local cloud keeps DynamoDB's guarantee (slug uniqueness, optimistic locking).
- A DynamoDB Query reads one partition; moto's walks (and sorts) every item of the table, so a
  tenant's reads slow down with the number of tenants. Base-table queries read the partition only.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()
_applied = False
_partition = threading.local()


def serialize_dynamodb_writes() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    _applied = True


def partition_local_queries() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_tenancy_partition_local", False):
        return
    original_query, original_all_items = Table.query, Table.all_items

    def all_items(self: Any) -> Any:
        restricted = getattr(_partition, "key", None)
        if restricted is not None and restricted[0] is self:
            partition = self.items.get(restricted[1], {})
            values = partition.values() if self.range_key_attr else [partition]
            return sorted(values, key=lambda item: item.range_key)
        return original_all_items(self)

    @functools.wraps(original_query)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is not None or hash_key is None or not self.range_key_attr:
            return original_query(self, hash_key, *args, **kwargs)
        _partition.key = (self, hash_key)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _partition.key = None

    Table.all_items = all_items
    Table.query = query
    Table._tenancy_partition_local = True


def apply() -> None:
    """Every fix above."""
    serialize_dynamodb_writes()
    partition_local_queries()
