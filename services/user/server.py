"""Wiring of the user service."""

from __future__ import annotations

from pathlib import Path

from tradesage.user.v1 import user_service_pb2, user_service_pb2_grpc

from services.runtime.authz import Authorizer
from services.runtime.server import Mounted, Resources, ServiceSpec
from services.user.activities import ActivityStore
from services.user.activity_consumer import ActivityConsumer
from services.user.config import UserSettings
from services.user.preferences import PreferenceHub, PreferenceStore
from services.user.roles import RoleStore
from services.user.servicer import UserServicer
from services.user.session_bridge import SessionBridge
from services.user.store import UserStore


async def build(resources: Resources) -> Mounted:
    """Create the servicer over PostgreSQL and Valkey, with the hub and the event consumers."""
    settings = UserSettings.from_env()
    pool, redis = resources.db, resources.cache
    hub = PreferenceHub(redis)
    consumer = ActivityConsumer(redis, pool, settings.consumer)
    servicer = UserServicer(UserStore(pool), RoleStore(pool, redis), Authorizer(redis),
                            PreferenceStore(pool), hub, ActivityStore(pool), redis,
                            settings.heartbeat_seconds)
    return Mounted(
        servicers=[(user_service_pb2_grpc.add_UserServiceServicer_to_server, servicer)],
        service_names=[user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name],
        background=[hub.run, consumer.run, SessionBridge(redis).run],
    )


SPEC = ServiceSpec(name="user", build=build, needs_database=True, needs_redis=True,
                   migrations=Path(__file__).with_name("migrations"))
