"""SessionService: thin async adapters from RPCs to the domain rules and the session store."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import grpc
from tradesage.session.v1 import session_service_pb2 as api
from tradesage.session.v1 import session_service_pb2_grpc as api_grpc
from tradesage.type.v1 import stream_pb2

from services.runtime.errors import FieldViolation, InvalidArgument
from services.runtime.identity import (
    Identity,
    current_identity,
    peer_from_metadata,
    require_identity,
)
from services.runtime.timestamps import from_epoch_ms
from services.session.converters import (
    created_response,
    event_to_proto,
    limit_policy,
    session_to_proto,
)
from services.session.domain import access, listing
from services.session.domain.events import REASON_REVOKED_BY_USER, EventType, SessionEvent
from services.session.domain.fingerprint import device_fingerprint
from services.session.domain.limits import LimitPolicy
from services.session.domain.session import (
    Session,
    check_new_session,
    check_revoke_reason,
    clip,
    new_session_id,
    parse_session_name,
)
from services.session.geo import Locator
from services.session.store import SessionStore

# Set by the inbound sidecar from the verified client certificate (never by callers).


class SessionServicer(api_grpc.SessionServiceServicer):
    """Serve sessions: internal calls from mesh services, and each user's own sessions."""

    def __init__(self, store: SessionStore, locator: Locator, heartbeat_seconds: float) -> None:
        self._store = store
        self._locator = locator
        self._heartbeat = heartbeat_seconds

    async def CreateSession(self, request: api.CreateSessionRequest,
                            context: grpc.aio.ServicerContext) -> api.CreateSessionResponse:
        access.require_internal(_peer(context), "CreateSession")
        check_new_session(request.user_id, request.tenant_id, request.max_sessions,
                          request.request_id)
        admission = await self._store.create(
            self._new_session(request), max_sessions=request.max_sessions,
            policy=_policy(request.session_limit_policy), request_id=request.request_id)
        return created_response(admission.session, admission.new_device, admission.evicted)

    async def TouchSession(self, request: api.TouchSessionRequest,
                           context: grpc.aio.ServicerContext) -> api.TouchSessionResponse:
        access.require_internal(_peer(context), "TouchSession")
        session = await self._store.touch(parse_session_name(request.name))
        return api.TouchSessionResponse(session=session_to_proto(session))

    async def GetSession(self, request: api.GetSessionRequest,
                         context: grpc.aio.ServicerContext) -> api.GetSessionResponse:
        caller = current_identity()
        if caller is None and access.is_internal(_peer(context)):
            # A mesh service acting for no user (e.g. auth checking a refresh) may read any.
            session = await self._store.get(parse_session_name(request.name))
            return api.GetSessionResponse(session=session_to_proto(session))
        caller = require_identity()
        session = await self._store.get(parse_session_name(request.name))
        return api.GetSessionResponse(
            session=session_to_proto(access.visible(caller, session), caller.session_id))

    async def ListSessions(self, request: api.ListSessionsRequest,
                           context: grpc.aio.ServicerContext) -> api.ListSessionsResponse:
        caller = require_identity()
        size = listing.page_size(request.page_size)
        after = listing.decode_cursor(request.page_token)
        entries = await self._store.live_entries(caller.user_id)
        page, next_after = listing.page_after(entries, after, size)
        sessions = await self._store.read_many([entry.id for entry in page])
        return api.ListSessionsResponse(
            sessions=[session_to_proto(s, caller.session_id) for s in sessions
                      if access.is_own(caller, s)],
            next_page_token=listing.encode_cursor(next_after))

    async def DeleteSession(self, request: api.DeleteSessionRequest,
                            context: grpc.aio.ServicerContext) -> api.DeleteSessionResponse:
        caller = require_identity()
        session = access.visible(caller, await self._store.get(parse_session_name(request.name)))
        reason = access.revoke_reason(caller, session)
        if request.reason and access.is_internal(_peer(context)):
            reason = check_revoke_reason(request.reason)
        ended = await self._store.revoke(session, reason)
        return api.DeleteSessionResponse(session=session_to_proto(ended, caller.session_id))

    async def RevokeOtherSessions(
        self, request: api.RevokeOtherSessionsRequest, context: grpc.aio.ServicerContext,
    ) -> api.RevokeOtherSessionsResponse:
        caller = require_identity()
        ended = await self._store.revoke_user(caller.user_id, caller.tenant_id,
                                              REASON_REVOKED_BY_USER, caller.session_id)
        return api.RevokeOtherSessionsResponse(revoked_count=len(ended))

    async def RevokeUserSessions(
        self, request: api.RevokeUserSessionsRequest, context: grpc.aio.ServicerContext,
    ) -> api.RevokeUserSessionsResponse:
        access.require_internal(_peer(context), "RevokeUserSessions")
        check_new_session(request.user_id, request.tenant_id)
        ended = await self._store.revoke_user(
            request.user_id, request.tenant_id, check_revoke_reason(request.reason),
            request.except_session_id)
        return api.RevokeUserSessionsResponse(revoked_count=len(ended))

    async def StreamSessionEvents(
        self, request: api.StreamSessionEventsRequest, context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[api.StreamSessionEventsResponse]:
        caller = require_identity()
        async with self._store.subscribe(caller.user_id) as feed:
            # Subscribed: a first heartbeat tells the client nothing from now on is missed.
            yield _heartbeat()
            while True:
                event = await feed.next(self._heartbeat)
                if event is None:
                    yield _heartbeat()
                elif access.is_own(caller, event.session):
                    yield api.StreamSessionEventsResponse(
                        session_event=event_to_proto(event, caller.session_id))
                    if _ends_stream(event, caller):
                        return

    def _new_session(self, request: api.CreateSessionRequest) -> Session:
        user_agent, ip_address = clip(request.user_agent, request.ip_address)
        return Session(
            id=new_session_id(), user_id=request.user_id, tenant_id=request.tenant_id,
            user_agent=user_agent, ip_address=ip_address, roles=tuple(request.roles),
            create_time_ms=0, last_seen_time_ms=0, expire_time_ms=0,
            device_fingerprint=device_fingerprint(
                request.user_agent, request.client_hints, request.device_id),
            location=self._locator.locate(ip_address))


def _peer(context: grpc.aio.ServicerContext) -> str:
    return peer_from_metadata(context.invocation_metadata() or ())


def _policy(value: int) -> LimitPolicy:
    policy = limit_policy(value)
    if policy is None:
        raise InvalidArgument("session_limit_policy is not valid", [
            FieldViolation("session_limit_policy", "must be a SessionLimitPolicy value")])
    return policy


def _ends_stream(event: SessionEvent, caller: Identity) -> bool:
    # Once the stream's own session is revoked, its token is dead: stop telling it anything.
    return event.type is EventType.REVOKED and event.session.id == caller.session_id


def _heartbeat() -> api.StreamSessionEventsResponse:
    return api.StreamSessionEventsResponse(
        heartbeat=stream_pb2.Heartbeat(time=from_epoch_ms(int(time.time() * 1000))))
