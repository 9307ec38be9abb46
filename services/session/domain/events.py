"""Session events: what the store publishes on a user's channel whenever a session changes."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from enum import Enum

from services.session.domain.session import Location, Session

REASON_LOGIN = "login"
REASON_LOGOUT = "logout"
REASON_REVOKED_BY_USER = "revoked_by_user"
REASON_REVOKED_BY_ADMIN = "revoked_by_admin"
REASON_EVICTED = "evicted"
REASON_PASSWORD_RESET = "password_reset"
REASON_REFRESH_TOKEN_REUSE = "refresh_token_reuse"


class EventType(Enum):
    """What happened to a session."""

    CREATED = "created"
    REVOKED = "revoked"


@dataclass(frozen=True)
class SessionEvent:
    """A change to one session, with the session as it was after the change."""

    event_id: str
    type: EventType
    session: Session
    reason: str
    event_time_ms: int
    new_device: bool = False


def created(session: Session, new_device: bool) -> SessionEvent:
    """Return the event of a sign-in."""
    return SessionEvent(_event_id(), EventType.CREATED, session, REASON_LOGIN,
                        session.create_time_ms, new_device)


def revoked(session: Session, reason: str, now_ms: int) -> SessionEvent:
    """Return the event of a session that was ended before its expiry."""
    return SessionEvent(_event_id(), EventType.REVOKED, session, reason, now_ms)


def to_json(event: SessionEvent) -> str:
    """Return the pub/sub payload of `event`."""
    body = asdict(event)
    body["type"] = event.type.value
    return json.dumps(body, separators=(",", ":"))


def from_json(payload: str) -> SessionEvent:
    """Return the event of a pub/sub payload made by `to_json`."""
    body = json.loads(payload)
    session = body.pop("session")
    session["roles"] = tuple(session["roles"])
    session["location"] = Location(**session["location"])
    return SessionEvent(**{**body, "type": EventType(body["type"]),
                           "session": Session(**session)})


def _event_id() -> str:
    return uuid.uuid4().hex
