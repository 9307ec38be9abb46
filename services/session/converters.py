"""Session proto messages <-> domain objects."""

from __future__ import annotations

from tradesage.session.v1 import session_resources_pb2 as pb
from tradesage.session.v1 import session_service_pb2 as api

from services.runtime.timestamps import from_epoch_ms
from services.session.domain.events import EventType, SessionEvent
from services.session.domain.limits import LimitPolicy
from services.session.domain.session import Session

_EVENT_TYPES = {
    EventType.CREATED: pb.SESSION_EVENT_TYPE_CREATED,
    EventType.REVOKED: pb.SESSION_EVENT_TYPE_REVOKED,
}
_POLICIES = {
    pb.SESSION_LIMIT_POLICY_UNSPECIFIED: LimitPolicy.REFUSE,
    pb.SESSION_LIMIT_POLICY_REFUSE: LimitPolicy.REFUSE,
    pb.SESSION_LIMIT_POLICY_EVICT_OLDEST: LimitPolicy.EVICT_OLDEST,
}


def session_name(session_id: str) -> str:
    """Return the resource name of a session."""
    return f"sessions/{session_id}"


def session_to_proto(session: Session, current_session_id: str = "") -> pb.Session:
    """Return the API resource of a session; `current` when it is the caller's own session."""
    location = session.location
    return pb.Session(
        name=session_name(session.id),
        id=session.id,
        user_id=session.user_id,
        tenant_id=session.tenant_id,
        user_agent=session.user_agent,
        ip_address=session.ip_address,
        roles=list(session.roles),
        create_time=from_epoch_ms(session.create_time_ms),
        last_seen_time=from_epoch_ms(session.last_seen_time_ms),
        expire_time=from_epoch_ms(session.expire_time_ms),
        current=bool(current_session_id) and session.id == current_session_id,
        device_fingerprint=session.device_fingerprint,
        location=pb.Location(country_code=location.country_code, region=location.region,
                             city=location.city) if location else None,
    )


def event_to_proto(event: SessionEvent, current_session_id: str = "") -> pb.SessionEvent:
    """Return the API message of a session event."""
    return pb.SessionEvent(
        event_id=event.event_id,
        type=_EVENT_TYPES[event.type],
        session=session_to_proto(event.session, current_session_id),
        reason=event.reason,
        event_time=from_epoch_ms(event.event_time_ms),
        new_device=event.new_device,
    )


def limit_policy(value: int) -> LimitPolicy | None:
    """Return the domain policy of a SessionLimitPolicy value (None if the value is unknown)."""
    return _POLICIES.get(value)  # type: ignore[call-overload]


def created_response(session: Session, new_device: bool,
                     evicted: tuple[Session, ...]) -> api.CreateSessionResponse:
    """Return the reply of CreateSession."""
    return api.CreateSessionResponse(
        session=session_to_proto(session), new_device=new_device,
        evicted_sessions=[session_name(s.id) for s in evicted])
