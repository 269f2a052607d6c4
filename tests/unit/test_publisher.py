from typing import Any

import pytest

from tenancy.common.errors import EventPublishError
from tenancy.contracts.events import ResultStatus, TenantDeprovisionedDetail
from tenancy.contracts.publisher import Event, EventPublisher


class FakeEventBridge:
    """Rejects the entries whose index is in `reject` on the first `failing_calls` calls."""

    def __init__(self, reject: set[int] | None = None, failing_calls: int = 0) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.reject = reject or set()
        self.failing_calls = failing_calls

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        failing = len(self.calls) <= self.failing_calls
        results = [
            {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}
            if failing and i in self.reject
            else {"EventId": f"e{i}"}
            for i in range(len(Entries))
        ]
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def events(n: int) -> list[Event]:
    return [
        Event(
            "TenantDeprovisioned",
            TenantDeprovisionedDetail(tenant_id=f"t{i}", status=ResultStatus.COMPLETED, timestamp="ts"),
        )
        for i in range(n)
    ]


def test_entries_are_sent_in_chunks_of_ten() -> None:
    bus = FakeEventBridge()
    EventPublisher(bus, "bus", "app.application-plane").publish(events(25))
    assert [len(call) for call in bus.calls] == [10, 10, 5]
    first = bus.calls[0][0]
    assert first["EventBusName"] == "bus"
    assert first["Source"] == "app.application-plane"
    assert first["DetailType"] == "TenantDeprovisioned"
    assert '"tenantId":"t0"' in first["Detail"]


def test_only_failed_entries_are_retried() -> None:
    bus = FakeEventBridge(reject={1, 3}, failing_calls=1)
    EventPublisher(bus, "bus", "src", base_delay_seconds=0).publish(events(4))
    assert len(bus.calls) == 2
    assert [e["Detail"] for e in bus.calls[1]] == [bus.calls[0][1]["Detail"], bus.calls[0][3]["Detail"]]


def test_gives_up_after_max_attempts_naming_what_was_not_sent() -> None:
    bus = FakeEventBridge(reject={0}, failing_calls=99)
    publisher = EventPublisher(bus, "bus", "src", max_attempts=3, base_delay_seconds=0)
    with pytest.raises(EventPublishError, match="1 event") as failure:
        publisher.publish(events(2))
    assert len(bus.calls) == 3
    assert failure.value.details == {"detailTypes": ["TenantDeprovisioned"]}
