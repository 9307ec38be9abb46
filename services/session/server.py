"""Wiring of the session service."""

from __future__ import annotations

from tradesage.session.v1 import session_service_pb2, session_service_pb2_grpc

from services.runtime.server import Mounted, Resources, ServiceSpec
from services.session.config import SessionSettings
from services.session.geo import open_locator
from services.session.servicer import SessionServicer
from services.session.store import SessionStore


async def build(resources: Resources) -> Mounted:
    """Create the servicer over Redis with the settings of the environment."""
    settings = SessionSettings.from_env()
    servicer = SessionServicer(SessionStore(resources.cache, settings.ttl_seconds),
                               open_locator(settings.geoip_db), settings.heartbeat_seconds)
    return Mounted(
        servicers=[(session_service_pb2_grpc.add_SessionServiceServicer_to_server, servicer)],
        service_names=[
            session_service_pb2.DESCRIPTOR.services_by_name["SessionService"].full_name],
    )


SPEC = ServiceSpec(name="session", build=build, needs_redis=True)
