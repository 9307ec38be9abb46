"""UserService: thin async adapters from RPCs to the user store."""

from __future__ import annotations

import grpc
from tradesage.user.v1 import user_service_pb2 as api
from tradesage.user.v1 import user_service_pb2_grpc as api_grpc

from services.runtime.authz import Authorizer
from services.runtime.identity import require_identity
from services.user.converters import user_to_proto
from services.user.domain.user import parse_user_name, user_not_found
from services.user.role_servicer import RoleRpcs
from services.user.roles import RoleStore
from services.user.store import UserStore


class UserServicer(RoleRpcs, api_grpc.UserServiceServicer):
    """Serve user profiles and roles; methods not overridden here answer UNIMPLEMENTED."""

    def __init__(self, store: UserStore, roles: RoleStore, authorizer: Authorizer) -> None:
        RoleRpcs.__init__(self, users=store, roles=roles, authorizer=authorizer)
        self._store = store

    async def GetUser(self, request: api.GetUserRequest,
                      context: grpc.aio.ServicerContext) -> api.GetUserResponse:
        user_id = parse_user_name(request.name)
        user = await self._store.get(user_id)
        if user.tenant_id != require_identity().tenant_id:
            raise user_not_found(user_id)  # users of other tenants are invisible
        return api.GetUserResponse(user=user_to_proto(user))
