"""The one event publisher: PutEvents in chunks of 10, failed entries retried with backoff."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from tenancy.common.errors import EventPublishError
from tenancy.common.observability import logger
from tenancy.contracts.events import to_entry_detail

MAX_ENTRIES_PER_CALL = 10


@dataclass(frozen=True)
class Event:
    detail_type: str
    detail: BaseModel


class EventPublisher:
    def __init__(
        self,
        client: Any,
        bus_name: str,
        source: str,
        max_attempts: int = 4,
        base_delay_seconds: float = 0.1,
    ) -> None:
        self._client = client
        self._bus_name = bus_name
        self._source = source
        self._max_attempts = max_attempts
        self._base_delay = base_delay_seconds

    def publish(self, events: Sequence[Event]) -> None:
        """Put every event on the bus or raise EventPublishError naming what could not be sent."""
        entries = [
            {
                "EventBusName": self._bus_name,
                "Source": self._source,
                "DetailType": event.detail_type,
                "Detail": to_entry_detail(event.detail),
            }
            for event in events
        ]
        for start in range(0, len(entries), MAX_ENTRIES_PER_CALL):
            self._put_chunk(entries[start : start + MAX_ENTRIES_PER_CALL])

    def _put_chunk(self, pending: list[dict[str, str]]) -> None:
        for attempt in range(1, self._max_attempts + 1):
            response = self._client.put_events(Entries=pending)
            if not response.get("FailedEntryCount"):
                return
            results = response["Entries"]
            failed = [
                entry for entry, result in zip(pending, results, strict=True) if result.get("ErrorCode")
            ]
            errors = sorted({result["ErrorCode"] for result in results if result.get("ErrorCode")})
            logger.warning("PutEvents rejected entries", failed=len(failed), errors=errors, attempt=attempt)
            pending = failed
            if attempt < self._max_attempts:
                time.sleep(self._base_delay * 2 ** (attempt - 1))
        raise EventPublishError(
            f"EventBridge rejected {len(pending)} event(s) after {self._max_attempts} attempts",
            {"detailTypes": [entry["DetailType"] for entry in pending]},
        )
