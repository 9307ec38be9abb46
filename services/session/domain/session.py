"""What a session is, and the checks on a new one."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from services.runtime.errors import FieldViolation, NotFound, require
from services.runtime.names import resource_id

# Longer values are cut, not refused: a sign-in must not fail over an odd client header.
MAX_USER_AGENT_CHARS = 512
MAX_IP_ADDRESS_CHARS = 64
MAX_REQUEST_ID_CHARS = 128
_REASON = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class Location:
    """A coarse place derived from an IP address."""

    country_code: str = ""
    region: str = ""
    city: str = ""

    def __bool__(self) -> bool:
        return bool(self.country_code or self.region or self.city)


@dataclass(frozen=True)
class Session:
    """One signed-in device of a user."""

    id: str
    user_id: str
    tenant_id: str
    user_agent: str
    ip_address: str
    roles: tuple[str, ...]
    create_time_ms: int
    last_seen_time_ms: int
    expire_time_ms: int
    device_fingerprint: str = ""
    location: Location = Location()


def new_session_id() -> str:
    """Return an unguessable session id (128 bits)."""
    return secrets.token_hex(16)


def check_new_session(user_id: str, tenant_id: str, max_sessions: int = 0,
                      request_id: str = "") -> None:
    """Validate the owner, the session limit and the request id of a new session."""
    violations = [FieldViolation(field, "must not be empty")
                  for field, value in (("user_id", user_id), ("tenant_id", tenant_id))
                  if not value]
    if max_sessions < 0:
        violations.append(FieldViolation("max_sessions", "must be 0 (unlimited) or positive"))
    if len(request_id) > MAX_REQUEST_ID_CHARS:
        violations.append(FieldViolation(
            "request_id", f"must be at most {MAX_REQUEST_ID_CHARS} characters"))
    require(violations)


def clip(user_agent: str, ip_address: str) -> tuple[str, str]:
    """Return the user agent and IP address cut to the lengths kept with a session."""
    return user_agent[:MAX_USER_AGENT_CHARS], ip_address[:MAX_IP_ADDRESS_CHARS]


def check_revoke_reason(reason: str, field: str = "reason") -> str:
    """Return `reason` if it is a lower_snake token, else fail with INVALID_ARGUMENT."""
    if not _REASON.fullmatch(reason):
        require([FieldViolation(field, "must be lower_snake_case, e.g. password_reset")])
    return reason


def parse_session_name(name: str) -> str:
    """Return the id in `sessions/{id}`; ids that cannot exist are NOT_FOUND."""
    session_id = resource_id(name, "sessions")
    if not is_session_id(session_id):
        raise not_found(session_id)
    return session_id


def is_session_id(value: str) -> bool:
    """Tell whether `value` has the shape of an id made by `new_session_id`."""
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def not_found(session_id: str) -> NotFound:
    """Return the error for a session that does not exist (or expired, or is not yours)."""
    return NotFound(f"session {session_id} does not exist or has expired",
                    reason="SESSION_NOT_FOUND", metadata={"sessionId": session_id})
