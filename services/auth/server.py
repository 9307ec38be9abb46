"""Wiring of the auth service."""

from __future__ import annotations

from tradesage.auth.v1 import auth_service_pb2, auth_service_pb2_grpc

from services.auth.servicer import AuthServicer
from services.auth.store import AccountStore
from services.runtime.server import Mounted, Resources, ServiceSpec


async def build(resources: Resources) -> Mounted:
    """Create the servicer over the platform database and the session peer."""
    return Mounted(
        servicers=[(auth_service_pb2_grpc.add_AuthServiceServicer_to_server,
                    AuthServicer(AccountStore(resources.db), resources.peers))],
        service_names=[auth_service_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name],
    )


SPEC = ServiceSpec(name="auth", build=build, needs_database=True, needs_redis=True)
