"""User proto messages <-> domain objects."""

from __future__ import annotations

from tradesage.user.v1 import user_resources_pb2 as pb

from services.runtime.timestamps import to_timestamp
from services.user.domain.user import User


def user_to_proto(user: User) -> pb.User:
    """Return the API resource of a user."""
    return pb.User(
        name=f"users/{user.id}",
        id=user.id,
        tenant_id=user.tenant_id,
        email=user.email,
        display_name=user.display_name,
        email_verified=user.email_verified,
        roles=list(user.roles),
        state=pb.USER_STATE_ACTIVE,
        create_time=to_timestamp(user.create_time),
        update_time=to_timestamp(user.update_time),
    )
