"""Domain errors. Each knows its HTTP status and stable error code; the API maps them to envelopes."""

from __future__ import annotations

from typing import Any


class TenancyError(Exception):
    status_code = 500
    code = "INTERNAL_ERROR"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequestError(TenancyError):
    status_code = 400
    code = "BAD_REQUEST"


class ValidationFailedError(TenancyError):
    status_code = 422
    code = "VALIDATION_ERROR"


class Unauthenticated(TenancyError):
    """No valid token: 401."""

    status_code = 401
    code = "UNAUTHORIZED"


class Forbidden(TenancyError):
    """A valid token that may not do this: 403."""

    status_code = 403
    code = "FORBIDDEN"


class FeatureDisabledError(Forbidden):
    """A feature the tenant's plan (or its overrides) does not include: 403."""

    code = "FEATURE_DISABLED"


class TenantInactiveError(Forbidden):
    """A tenant request that reached an offboarded tenant's data (its partition is closed or its
    silo table gone), e.g. on an authorization API Gateway still had cached."""

    code = "TENANT_INACTIVE"


class NotFoundError(TenancyError):
    status_code = 404
    code = "NOT_FOUND"


class ConflictError(TenancyError):
    status_code = 409
    code = "CONFLICT"


class LimitReachedError(ConflictError):
    """A create that would take the tenant past a count limit of its plan (users, agents, datasets,
    storage): 409, until something is deleted or the plan changes. Details name the limit."""

    code = "LIMIT_REACHED"


class TooManyRequestsError(TenancyError):
    """The tenant's request rate (`RATE_LIMITED`) or daily quota (`QUOTA_EXCEEDED`) is spent: 429,
    with `Retry-After`."""

    status_code = 429
    code = "RATE_LIMITED"

    def __init__(
        self, message: str, details: Any = None, *, code: str = "RATE_LIMITED", retry_after: int = 1
    ) -> None:
        super().__init__(message, details)
        self.code = code
        self.retry_after = retry_after


class SlugTakenError(ConflictError):
    code = "SLUG_TAKEN"


class StaleVersionError(ConflictError):
    code = "VERSION_CONFLICT"


class TenantOffboardedError(ConflictError):
    """A change to a tenant that is offboarding or offboarded (its item is a read-only tombstone)."""

    code = "TENANT_OFFBOARDED"


class StaleOperationError(ConflictError):
    """A lifecycle result for an operation the tenant is no longer in (a late or duplicate result)."""

    code = "STALE_OPERATION"


class IllegalTransitionError(ConflictError):
    """A status change the state machine does not allow from the current status."""

    code = "ILLEGAL_TRANSITION"

    def __init__(self, subject_id: str, current: str, target: str, subject: str = "tenant") -> None:
        super().__init__(
            f"{subject} {subject_id} is {current}; it cannot become {target}",
            {f"{subject}Id": subject_id, "currentStatus": current, "requestedStatus": target},
        )
        self.current = current
        self.target = target


class PayloadTooLargeError(TenancyError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaTypeError(TenancyError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class EventPublishError(TenancyError):
    """EventBridge kept rejecting entries after every retry."""

    code = "EVENT_PUBLISH_FAILED"
