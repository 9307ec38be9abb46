"""Wiring of the user service."""

from __future__ import annotations

from tradesage.user.v1 import user_service_pb2, user_service_pb2_grpc

from services.runtime.authz import Authorizer
from services.runtime.server import Mounted, Resources, ServiceSpec
from services.user.roles import RoleStore
from services.user.servicer import UserServicer
from services.user.store import UserStore


async def build(resources: Resources) -> Mounted:
    """Create the servicer over the platform database."""
    return Mounted(
        servicers=[(user_service_pb2_grpc.add_UserServiceServicer_to_server,
                    UserServicer(UserStore(resources.db),
                                 RoleStore(resources.db, resources.cache),
                                 Authorizer(resources.cache)))],
        service_names=[user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name],
    )


SPEC = ServiceSpec(name="user", build=build, needs_database=True, needs_redis=True)
