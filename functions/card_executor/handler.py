"""Invoke (from analytics_api) -> one card's code run in a child process with limits.

The function has no AWS permissions, no secrets in its environment and no route to the internet
(topology: `access=()`, `Network.ISOLATED`); the code runs in a separate process with its own
resource limits (`tenancy.application.sandbox.runner`). The answer is an `ExecutionResult`: a card
that fails (raised, timed out, too much memory or output) is a result with `ok: false`, never an
invocation error; a malformed request is one (the caller's bug).
"""

from __future__ import annotations

from tenancy.common.coldstart import collector_resumes_after_first_event  # noqa: F401 (first: pauses the GC)

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tenancy.application.sandbox.contract import ExecutionRequest
from tenancy.application.sandbox.runner import execute
from tenancy.common.entry import lambda_entry


def run(event: dict[str, Any]) -> dict[str, Any]:
    """The handler's logic without the Lambda wrappers (the local callers' and tests' entry)."""
    request = ExecutionRequest.model_validate(event)
    return execute(request).model_dump(mode="json")


@lambda_entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run(event)
