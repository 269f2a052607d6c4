"""`Idempotency-Key` on creates: a client that retries after a lost response gets the first answer.

Built on Powertools idempotency with its DynamoDB persistence layer (the idempotency table, records
expiring after `idempotency_expiry_seconds`). A key is scoped to the caller (its IAM principal), and
the request body is validated against the first one:

- same key, same body, first request finished: the first answer again, marked `replayed`;
- same key, other body: 409 `IDEMPOTENCY_KEY_REUSED`, nothing written;
- same key while the first request still runs: 409 `IDEMPOTENCY_KEY_IN_USE`, retry later;
- a request that failed (a 4xx or 5xx) stores nothing: its retry runs again.

Powertools' idempotency package imports boto3, so it is imported here only when a request carries
the header: requests without one pay nothing at cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from tenancy.common.errors import ConflictError

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII without spaces, as payment APIs accept


class IdempotencyKeyReusedError(ConflictError):
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInUseError(ConflictError):
    code = "IDEMPOTENCY_KEY_IN_USE"


@dataclass(frozen=True)
class Answer:
    """What a create answered: replayed verbatim for a retry with the same key."""

    status: int
    data: dict[str, Any]
    replayed: bool = False


@cache
def _persistence(table_name: str, client: Any) -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)


def answer_once(
    *,
    scope: str,
    key: str,
    body: dict[str, Any],
    produce: Callable[[], Answer],
    table_name: str,
    client: Any,
    expires_after_seconds: int,
    lambda_context: Any = None,
) -> Answer:
    """`produce()` once per (scope, key); the same key again with the same body returns its answer."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    def replayed(response: Any, _record: Any) -> Any:
        return {**response, "replayed": True}

    config = IdempotencyConfig(
        event_key_jmespath="[scope, key]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=expires_after_seconds,
        hash_function="sha256",
        response_hook=replayed,  # type: ignore[arg-type]
    )
    if lambda_context is not None:  # an in-progress record expires when this invocation would time out
        config.register_lambda_context(lambda_context)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="request",
        persistence_store=_persistence(table_name, client),
        config=config,
        key_prefix="create",
    )
    def run(request: dict[str, Any]) -> dict[str, Any]:
        answer = produce()
        return {"status": answer.status, "data": answer.data}

    try:
        result = run(request={"scope": scope, "key": key, "body": body})
    except IdempotencyValidationError:
        raise IdempotencyKeyReusedError(
            f"{HEADER} {key!r} was already used with a different request body",
            [{"field": HEADER, "location": "header", "message": "already used with a different body"}],
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise IdempotencyKeyInUseError(
            f"a request with {HEADER} {key!r} is still in progress; retry it later",
            [{"field": HEADER, "location": "header", "message": "in progress"}],
        ) from None
    return Answer(int(result["status"]), result["data"], bool(result.get("replayed")))
