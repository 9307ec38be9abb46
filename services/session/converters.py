"""Session proto messages <-> domain objects."""

from __future__ import annotations

from tradesage.session.v1 import session_resources_pb2 as pb

from services.runtime.timestamps import from_epoch_ms
from services.session.domain.session import Session


def session_to_proto(session: Session) -> pb.Session:
    """Return the API resource of a session."""
    return pb.Session(
        name=f"sessions/{session.id}",
        id=session.id,
        user_id=session.user_id,
        tenant_id=session.tenant_id,
        user_agent=session.user_agent,
        ip_address=session.ip_address,
        roles=list(session.roles),
        create_time=from_epoch_ms(session.create_time_ms),
        last_seen_time=from_epoch_ms(session.last_seen_time_ms),
        expire_time=from_epoch_ms(session.expire_time_ms),
    )
