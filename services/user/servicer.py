"""UserService: thin async adapters from RPCs to the user, preference and activity stores.

The role RPCs come from `RoleRpcs` (role_servicer.py). Every call stays inside the caller's
tenant: a user of another tenant answers NOT_FOUND. The permission an RPC declares is checked
by the shared interceptor; what depends on whose data it is (own or another user's) is here.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime

import grpc
from redis.asyncio import Redis
from tradesage.type.v1 import stream_pb2
from tradesage.user.v1 import user_service_pb2 as api
from tradesage.user.v1 import user_service_pb2_grpc as api_grpc

from services.runtime import pagination
from services.runtime.authz import Authorizer
from services.runtime.errors import FieldViolation, InvalidArgument
from services.runtime.identity import Identity, require_identity
from services.runtime.names import uuid_or_none
from services.runtime.timestamps import from_epoch_ms
from services.user.activities import ActivityCursor, ActivityStore
from services.user.converters import (
    activity_filter_from_proto,
    activity_to_proto,
    change_to_proto,
    preferences_to_proto,
    profile_from_proto,
    settings_from_proto,
    state_from_proto,
    user_to_proto,
)
from services.user.domain import access
from services.user.domain.activity import check_filter
from services.user.domain.events import new_event
from services.user.domain.preferences import check_version
from services.user.domain.user import parse_child_name, parse_user_name, profile_changes
from services.user.event_streams import publish_event
from services.user.preferences import PreferenceHub, PreferenceStore, PreferenceUpdate
from services.user.role_servicer import RoleRpcs
from services.user.roles import RoleStore
from services.user.store import UserQuery, UserStore


class UserServicer(RoleRpcs, api_grpc.UserServiceServicer):
    """Serve profiles, preferences, activity and roles; other methods answer UNIMPLEMENTED."""

    def __init__(self, users: UserStore, roles: RoleStore, authorizer: Authorizer,
                 preferences: PreferenceStore, hub: PreferenceHub, activities: ActivityStore,
                 redis: Redis, heartbeat_seconds: float) -> None:
        RoleRpcs.__init__(self, users=users, roles=roles, authorizer=authorizer)
        self._users = users
        self._preferences = preferences
        self._hub = hub
        self._activities = activities
        self._redis = redis
        self._heartbeat = heartbeat_seconds

    async def GetUser(self, request: api.GetUserRequest,
                      context: grpc.aio.ServicerContext) -> api.GetUserResponse:
        caller = require_identity()
        user = await self._users.get_in_tenant(parse_user_name(request.name, caller.user_id),
                                               caller.tenant_id)
        if not access.is_self(caller, user.id, user.tenant_id) and not (
                access.may_manage_users(await self._authorizer.permissions(caller))):
            user = user.directory_entry()
        return api.GetUserResponse(user=user_to_proto(user))

    async def ListUsers(self, request: api.ListUsersRequest,
                        context: grpc.aio.ServicerContext) -> api.ListUsersResponse:
        caller = require_identity()
        access.require_permission(await self._authorizer.permissions(caller), access.LIST_USERS)
        limit = pagination.page_size(request.page_size)
        cursor = pagination.decode_token(request.page_token)
        after = _cursor_value(cursor, "e") if cursor else None
        # One extra row tells whether another page exists without a COUNT.
        users = await self._users.list(UserQuery(
            caller.tenant_id, limit + 1, request.role.strip(), state_from_proto(request.state),
            after))
        page, more = users[:limit], len(users) > limit
        token = pagination.encode_token({"e": page[-1].email.lower()}) if more else ""
        return api.ListUsersResponse(users=[user_to_proto(u) for u in page],
                                     next_page_token=token)

    async def UpdateUser(self, request: api.UpdateUserRequest,
                         context: grpc.aio.ServicerContext) -> api.UpdateUserResponse:
        caller = require_identity()
        user_id = parse_user_name(request.user.name, caller.user_id)
        await self._require_self_or_manager(caller, user_id)
        changes = profile_changes(list(request.update_mask.paths),
                                  profile_from_proto(request.user))
        user = await self._users.update_profile(user_id, caller.tenant_id, changes)
        await publish_event(self._redis, new_event(
            "user.profile_updated", caller.tenant_id, user_id,
            {"fields": ",".join(changes), "changedBy": caller.user_id,
             "sessionId": caller.session_id if caller.user_id == user_id else ""}))
        return api.UpdateUserResponse(user=user_to_proto(user))

    async def GetPreferences(self, request: api.GetPreferencesRequest,
                             context: grpc.aio.ServicerContext) -> api.GetPreferencesResponse:
        caller = require_identity()
        user_id = await self._own_preferences(caller, request.name)
        preferences = await self._preferences.get(caller.tenant_id, user_id)
        return api.GetPreferencesResponse(preferences=preferences_to_proto(preferences))

    async def UpdatePreferences(
            self, request: api.UpdatePreferencesRequest,
            context: grpc.aio.ServicerContext) -> api.UpdatePreferencesResponse:
        caller = require_identity()
        user_id = await self._own_preferences(caller, request.preferences.name)
        check_version(request.preferences.version)
        change, replayed = await self._preferences.update(PreferenceUpdate(
            tenant_id=caller.tenant_id, user_id=user_id,
            expected_version=request.preferences.version,
            settings=settings_from_proto(request.preferences.settings),
            paths=tuple(request.update_mask.paths), session_id=caller.session_id,
            request_id=request.request_id))
        if not replayed:
            await self._hub.publish(change)
        return api.UpdatePreferencesResponse(preferences=preferences_to_proto(change.preferences))

    async def StreamPreferenceChanges(
        self, request: api.StreamPreferenceChangesRequest, context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[api.StreamPreferenceChangesResponse]:
        caller = require_identity()
        user_id = await self._own_preferences(caller, request.name)
        async with self._hub.subscribe(user_id) as feed:
            # Subscribed: a first heartbeat tells the client nothing from now on is missed.
            yield _heartbeat()
            while True:
                change = await feed.next(self._heartbeat)
                if change is None:
                    yield _heartbeat()
                else:
                    yield api.StreamPreferenceChangesResponse(change=change_to_proto(change))

    async def ListActivities(self, request: api.ListActivitiesRequest,
                             context: grpc.aio.ServicerContext) -> api.ListActivitiesResponse:
        caller = require_identity()
        user_id = parse_user_name(request.parent, caller.user_id)
        await self._require_self_or_manager(caller, user_id)
        activity_filter = activity_filter_from_proto(
            list(request.kinds),
            request.start_time if request.HasField("start_time") else None,
            request.end_time if request.HasField("end_time") else None)
        check_filter(activity_filter)
        limit = pagination.page_size(request.page_size)
        cursor = pagination.decode_token(request.page_token)
        after = ActivityCursor(_cursor_time(cursor), _cursor_uuid(cursor)) if cursor else None
        activities = await self._activities.list(caller.tenant_id, user_id, activity_filter,
                                                 limit + 1, after)
        page, more = activities[:limit], len(activities) > limit
        token = pagination.encode_token(
            {"t": page[-1].create_time.isoformat(), "id": page[-1].id}) if more else ""
        return api.ListActivitiesResponse(activities=[activity_to_proto(a) for a in page],
                                          next_page_token=token)

    async def _require_self_or_manager(self, caller: Identity, user_id: str) -> None:
        """Fail unless the user is the caller, or one of the caller's tenant (else NOT_FOUND)
        whom the caller manages."""
        if not access.is_self(caller, user_id, caller.tenant_id):
            await self._users.get_in_tenant(user_id, caller.tenant_id)
            access.require_self_or_manager(caller, await self._authorizer.permissions(caller),
                                           user_id, caller.tenant_id)

    async def _own_preferences(self, caller: Identity, name: str) -> str:
        """Return the user id of a preferences name, which must be the caller's own."""
        user_id = parse_child_name(name, "preferences", caller.user_id)
        if not access.is_self(caller, user_id, caller.tenant_id):
            await self._users.get_in_tenant(user_id, caller.tenant_id)
            raise access.denied(access.OWN_PREFERENCES)
        return user_id


def _heartbeat() -> api.StreamPreferenceChangesResponse:
    return api.StreamPreferenceChangesResponse(
        heartbeat=stream_pb2.Heartbeat(time=from_epoch_ms(int(time.time() * 1000))))


def _cursor_value(cursor: dict[str, str], key: str) -> str:
    value = cursor.get(key)
    if not isinstance(value, str):
        raise _bad_token()
    return value


def _cursor_time(cursor: dict[str, str]) -> datetime:
    try:
        moment = datetime.fromisoformat(_cursor_value(cursor, "t"))
    except ValueError:
        raise _bad_token() from None
    if moment.tzinfo is None:
        raise _bad_token()
    return moment


def _cursor_uuid(cursor: dict[str, str]) -> str:
    value = uuid_or_none(_cursor_value(cursor, "id"))
    if value is None:
        raise _bad_token()
    return value


def _bad_token() -> InvalidArgument:
    return InvalidArgument("page_token is not valid", [
        FieldViolation("page_token", "use a next_page_token returned by this method")])
