"""What card execution answers when it cannot give a card's HTML (docs: "Errors and status codes")."""

from __future__ import annotations

from typing import Any

from tenancy.common.errors import ConflictError, PayloadTooLargeError, TenancyError


class DatasetNotReadyError(ConflictError):
    """A dataset of the card has no data yet (no import completed): 409."""

    code = "DATASET_NOT_READY"


class CardInputTooLargeError(PayloadTooLargeError):
    """The card's projected, filtered rows are over what one executor invocation may carry: 413."""

    code = "CARD_INPUT_TOO_LARGE"


class CardFailedError(TenancyError):
    """The card's code failed in the executor (`CARD_ERROR`, `CARD_TIMEOUT`, `CARD_MEMORY`,
    `CARD_OUTPUT_TOO_LARGE`): 422, with the executor's message."""

    status_code = 422

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message, details)
        self.code = code


class ExecutorFailedError(TenancyError):
    """The executor's invocation itself failed (a function error, a transport failure, an answer
    that is not a result): 502."""

    status_code = 502
    code = "EXECUTOR_FAILED"


class RenderDeadlineError(TenancyError):
    """A dashboard's card that its render did not start before the render's deadline (the function
    would have run out of time): 503 in the render, never a timed-out function. Rendering again
    runs it (the cards that ran are cached)."""

    status_code = 503
    code = "RENDER_DEADLINE"
