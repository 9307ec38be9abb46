"""Domain exceptions: raised by pure domain code, mapped to gRPC statuses in `status.py`.

Kept free of grpc imports so that `services/<domain>/domain/` stays plain Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ERROR_DOMAIN = "tradesage.io"


@dataclass(frozen=True)
class FieldViolation:
    """One invalid request field, reported as a google.rpc.BadRequest violation."""

    field: str
    description: str
    reason: str = ""


class DomainError(Exception):
    """An expected failure with a machine-readable reason (AIP-193 ErrorInfo.reason)."""

    status = "UNKNOWN"

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.metadata: dict[str, str] = {k: str(v) for k, v in (metadata or {}).items()}


class InvalidArgument(DomainError):
    """The request is malformed; `violations` name each bad field."""

    status = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str,
        violations: Sequence[FieldViolation] = (),
        *,
        reason: str = "INVALID_ARGUMENT",
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.violations = list(violations)


class NotFound(DomainError):
    """The named resource does not exist (or is invisible to the caller)."""

    status = "NOT_FOUND"


class AlreadyExists(DomainError):
    """A resource with the same unique key exists."""

    status = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    """The system is not in a state the operation needs (e.g. insufficient funds)."""

    status = "FAILED_PRECONDITION"


class Aborted(DomainError):
    """A concurrency conflict: the caller should re-read and retry."""

    status = "ABORTED"


class ResourceExhausted(DomainError):
    """A quota or limit is reached."""

    status = "RESOURCE_EXHAUSTED"


class Unauthenticated(DomainError):
    """The caller's identity is missing or not valid."""

    status = "UNAUTHENTICATED"


class PermissionDenied(DomainError):
    """The caller is known but not allowed to do this."""

    status = "PERMISSION_DENIED"


class Unavailable(DomainError):
    """A dependency is down; the call may be retried."""

    status = "UNAVAILABLE"


def require(violations: list[FieldViolation], message: str = "invalid request") -> None:
    """Raise InvalidArgument if any field violation was collected."""
    if violations:
        raise InvalidArgument(message, violations)
