"""The card executor's client: one synchronous Lambda Invoke of `card_executor` per card run.

The executor (functions/card_executor) has no AWS permissions and no network; it takes an
`ExecutionRequest` (the card's code and its rows) and answers an `ExecutionResult`. A card that
failed is a result with an error (422 with its code); an invocation that failed (a function error,
a transport failure, an answer that is no result) is 502 `EXECUTOR_FAILED`.

`executor()` is the one way the service reaches it; tests install another (`install`), e.g. one
that runs the card_executor handler's logic in-process.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from tenancy.application.analytics.errors import CardFailedError, ExecutorFailedError
from tenancy.application.sandbox.contract import ExecutionResult
from tenancy.common.clients import client
from tenancy.common.config import get_settings

logger = logging.getLogger(__name__)

# payload (an ExecutionRequest as JSON bytes) -> the executor's answer (JSON bytes)
Invoke = Callable[[bytes], bytes]


def invoke_lambda(payload: bytes) -> bytes:
    """The deployed (and local cloud's) executor: Lambda Invoke, RequestResponse."""
    name = get_settings().card_executor_function_name
    if not name:
        raise ExecutorFailedError("the card executor is not configured")
    try:
        answer = client("lambda").invoke(FunctionName=name, InvocationType="RequestResponse", Payload=payload)
        body = answer["Payload"].read()
    except Exception as error:  # transport, throttling after retries, access: the invocation failed
        logger.warning("card executor invocation failed: %s", error)
        raise ExecutorFailedError("the card executor could not be invoked") from None
    if answer.get("FunctionError"):
        logger.warning("card executor function error: %s", body[:500])
        raise ExecutorFailedError("the card executor failed")
    return bytes(body)


_invoke: Invoke = invoke_lambda


def install(invoke: Invoke | None) -> None:
    """Use `invoke` to reach the executor (None: the Lambda function again)."""
    global _invoke
    _invoke = invoke or invoke_lambda


def payload(request: dict[str, Any], datasets: Sequence[str] = ()) -> bytes:
    """An ExecutionRequest as JSON bytes: `request`'s members (JSON-safe values, no `datasets`),
    then `datasets`, each a `DatasetInput` as JSON text, put in as they are (not parsed again)."""
    envelope = json.dumps(request, separators=(",", ":"), ensure_ascii=False)
    if not envelope.endswith("}") or "datasets" in request:
        raise ValueError("the request is an object without `datasets`")
    joined = ",".join(datasets)
    separator = "," if request else ""
    return f'{envelope[:-1]}{separator}"datasets":[{joined}]}}'.encode()


def execute(request: dict[str, Any], datasets: Sequence[str] = ()) -> ExecutionResult:
    """Run one card (`request`: an ExecutionRequest as JSON-safe values, its `datasets` given
    apart as JSON texts: `payload`); 422 when the card failed, 502 when the executor did."""
    answer = _invoke(payload(request, datasets))
    try:
        result = ExecutionResult.model_validate_json(answer)
    except ValidationError:
        logger.warning("card executor answered no result: %s", answer[:500])
        raise ExecutorFailedError("the card executor answered something that is not a result") from None
    if not result.ok or result.html is None:
        if result.error is None:
            raise ExecutorFailedError("the card executor answered neither html nor an error")
        raise CardFailedError(str(result.error.code), result.error.message)
    return result
