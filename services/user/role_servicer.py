"""Role RPCs of UserService: effective permissions, custom roles, role assignment."""

from __future__ import annotations

import grpc
from tradesage.user.v1 import user_resources_pb2 as pb
from tradesage.user.v1 import user_service_pb2 as api

from services.runtime.authz import Authorizer
from services.runtime.identity import Identity, require_identity
from services.runtime.timestamps import to_timestamp
from services.user.converters import user_to_proto
from services.user.domain.user import parse_user_name, user_not_found
from services.user.roles import (
    RoleRecord,
    RoleStore,
    builtin_roles,
    check_may_grant,
    validate_custom_role,
)
from services.user.store import UserStore


class RoleRpcs:
    """Mixed into UserServicer: the permission each RPC needs is declared in the contract."""

    def __init__(self, *, users: UserStore, roles: RoleStore, authorizer: Authorizer) -> None:
        self._role_users = users
        self._roles = roles
        self._authorizer = authorizer

    async def GetEffectivePermissions(
            self, request: api.GetEffectivePermissionsRequest,
            context: grpc.aio.ServicerContext) -> api.GetEffectivePermissionsResponse:
        caller = require_identity()
        user_id = parse_user_name(request.name.removesuffix("/permissions"))
        user = await self._role_users.get(user_id)
        may_see = user.id == caller.user_id or (
            "users.manage" in await self._authorizer.permissions(caller))
        if user.tenant_id != caller.tenant_id or not may_see:
            raise user_not_found(user_id)  # other users' permissions are an admin's business
        subject = Identity(user.id, user.tenant_id, tuple(user.roles))
        granted = await self._authorizer.permissions(subject)
        return api.GetEffectivePermissionsResponse(permissions=pb.EffectivePermissions(
            name=f"users/{user.id}/permissions", roles=list(user.roles),
            permissions=sorted(granted)))

    async def ListRoles(self, request: api.ListRolesRequest,
                        context: grpc.aio.ServicerContext) -> api.ListRolesResponse:
        custom = await self._roles.custom(require_identity().tenant_id)
        return api.ListRolesResponse(roles=[_role(r) for r in [*builtin_roles(), *custom]])

    async def CreateRole(self, request: api.CreateRoleRequest,
                         context: grpc.aio.ServicerContext) -> api.CreateRoleResponse:
        caller = require_identity()
        role = request.role
        validate_custom_role(request.role_id, role.display_name, list(role.permissions),
                             role.inherits)
        record = RoleRecord(request.role_id, role.display_name, role.description,
                            tuple(sorted(set(role.permissions))), False, role.inherits)
        return api.CreateRoleResponse(role=_role(await self._roles.create(caller.tenant_id,
                                                                          record)))

    async def AssignRoles(self, request: api.AssignRolesRequest,
                          context: grpc.aio.ServicerContext) -> api.AssignRolesResponse:
        caller = require_identity()
        user_id = parse_user_name(request.name)
        roles = sorted(set(request.roles))
        custom = await self._roles.permissions_by_role(caller.tenant_id)
        check_may_grant(await self._authorizer.permissions(caller), roles, custom)
        if not await self._roles.assign(caller.tenant_id, user_id, roles):
            raise user_not_found(user_id)
        return api.AssignRolesResponse(user=user_to_proto(await self._role_users.get(user_id)))


def _role(record: RoleRecord) -> pb.Role:
    return pb.Role(name=f"roles/{record.key}", id=record.key,
                   display_name=record.display_name, description=record.description,
                   permissions=list(record.permissions), system=record.system,
                   inherits=record.inherits, create_time=to_timestamp(record.create_time))

