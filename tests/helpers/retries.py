"""Lose a response after the call succeeded, so botocore retries a request that already committed.

That is what a read timeout or a dropped connection does on AWS: DynamoDB applied the write, the
client never saw the answer, and botocore's retry sends the same request again. The hook answers
botocore's `needs-retry` event for the first successful response of an armed operation, so the retry
is deterministic.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


class LostResponses:
    def __init__(self) -> None:
        self.armed: Counter[str] = Counter()
        self.lost: list[str] = []
        self.strip_tokens = False  # also drop ClientRequestToken (the store's own check must hold)

    def install(self, events: Any) -> None:
        """Hook into a botocore session's or client's events (clients created later inherit them)."""
        events.register_first("needs-retry.dynamodb", self._needs_retry)
        # After botocore's own handler, which fills the idempotency token in at the generic event
        # (handlers of a more specific event name run before it).
        events.register_last("before-parameter-build", self._parameters)

    def arm(self, operation: str, times: int = 1) -> None:
        self.armed[operation] += times

    def _needs_retry(self, response: Any, operation: Any, **_: Any) -> int | None:
        if response is None or not self.armed[operation.name]:
            return None
        http_response, _parsed = response
        if http_response.status_code != 200:
            return None
        self.armed[operation.name] -= 1
        self.lost.append(operation.name)
        return 0  # retry at once, as after a timeout

    def _parameters(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.strip_tokens and model.name == "TransactWriteItems":
            params.pop("ClientRequestToken", None)
