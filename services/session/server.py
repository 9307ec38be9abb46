"""Wiring of the session service."""

from __future__ import annotations

import os

from tradesage.session.v1 import session_service_pb2, session_service_pb2_grpc

from services.runtime.server import Mounted, Resources, ServiceSpec
from services.session.servicer import SessionServicer
from services.session.store import SessionStore

# Sessions slide: each use pushes expiry out by this much (TRADESAGE_SESSION_TTL_SECONDS).
DEFAULT_TTL_SECONDS = 14 * 24 * 3600


async def build(resources: Resources) -> Mounted:
    """Create the servicer over Redis."""
    ttl = int(os.environ.get("TRADESAGE_SESSION_TTL_SECONDS", DEFAULT_TTL_SECONDS))
    return Mounted(
        servicers=[(session_service_pb2_grpc.add_SessionServiceServicer_to_server,
                    SessionServicer(SessionStore(resources.cache, ttl)))],
        service_names=[
            session_service_pb2.DESCRIPTOR.services_by_name["SessionService"].full_name],
    )


SPEC = ServiceSpec(name="session", build=build, needs_redis=True)
