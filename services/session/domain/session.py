"""What a session is."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from services.runtime.errors import FieldViolation, NotFound, require
from services.runtime.names import resource_id


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


def new_session_id() -> str:
    """Return an unguessable session id (128 bits)."""
    return secrets.token_hex(16)


def check_new_session(user_id: str, tenant_id: str) -> None:
    """Validate the owner of a new session."""
    require([FieldViolation(field, "must not be empty")
             for field, value in (("user_id", user_id), ("tenant_id", tenant_id)) if not value])


def parse_session_name(name: str) -> str:
    """Return the id in `sessions/{id}`; ids that cannot exist are NOT_FOUND."""
    session_id = resource_id(name, "sessions")
    if len(session_id) != 32 or not all(c in "0123456789abcdef" for c in session_id):
        raise not_found(session_id)
    return session_id


def not_found(session_id: str) -> NotFound:
    """Return the error for a session that does not exist (or expired)."""
    return NotFound(f"session {session_id} does not exist or has expired",
                    reason="SESSION_NOT_FOUND", metadata={"sessionId": session_id})
