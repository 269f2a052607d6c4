"""Where moto is less faithful than AWS in ways Tenancy's guarantees depend on, make it faithful.

DynamoDB evaluates each conditional write atomically; moto's backend does not lock, so two
concurrent `attribute_not_exists` writes (over moto server's threads) can both succeed. Writes are
serialized here so the local cloud keeps DynamoDB's guarantee (slug uniqueness, optimistic locking).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()
_applied = False


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
