"""SessionService: thin async adapters from RPCs to the session store."""

from __future__ import annotations

import grpc
from tradesage.session.v1 import session_service_pb2 as api
from tradesage.session.v1 import session_service_pb2_grpc as api_grpc

from services.session.converters import session_to_proto
from services.session.domain.session import (
    check_new_session,
    new_session_id,
    parse_session_name,
)
from services.session.store import SessionStore


class SessionServicer(api_grpc.SessionServiceServicer):
    """Serve sessions; methods not overridden here answer UNIMPLEMENTED."""

    def __init__(self, store: SessionStore) -> None:
        self._store = store

    async def CreateSession(self, request: api.CreateSessionRequest,
                            context: grpc.aio.ServicerContext) -> api.CreateSessionResponse:
        check_new_session(request.user_id, request.tenant_id)
        session = await self._store.create(
            new_session_id(), request.user_id, request.tenant_id, request.user_agent,
            request.ip_address, tuple(request.roles))
        return api.CreateSessionResponse(session=session_to_proto(session))

    async def GetSession(self, request: api.GetSessionRequest,
                         context: grpc.aio.ServicerContext) -> api.GetSessionResponse:
        session = await self._store.get(parse_session_name(request.name))
        return api.GetSessionResponse(session=session_to_proto(session))
