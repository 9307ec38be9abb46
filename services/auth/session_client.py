"""Calls from auth to the session service, through the mesh."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc
from tradesage.session.v1 import session_resources_pb2 as session_pb
from tradesage.session.v1 import session_service_pb2 as api
from tradesage.session.v1 import session_service_pb2_grpc as api_grpc

from services.runtime.identity import Identity
from services.runtime.peers import Peers, call_metadata, peer_error

Reply = TypeVar("Reply")
TIMEOUT = 5.0


class SessionClient:
    """Create, touch and revoke sessions on behalf of auth flows."""

    def __init__(self, peers: Peers) -> None:
        self._stub = api_grpc.SessionServiceStub(peers.channel("session"))

    async def create(self, request: api.CreateSessionRequest) -> session_pb.Session:
        """Open a session for a user who just proved who they are."""
        reply = await _call(self._stub.CreateSession(
            request, metadata=call_metadata(), timeout=TIMEOUT))
        return reply.session

    async def touch(self, session_id: str) -> None:
        """Extend a session that is still in use (a refresh)."""
        await _call(self._stub.TouchSession(
            api.TouchSessionRequest(name=f"sessions/{session_id}"),
            metadata=call_metadata(), timeout=TIMEOUT))

    async def revoke(self, owner: Identity, session_id: str) -> None:
        """Revoke one session as its owner would (logout, refresh-token reuse)."""
        metadata = (*call_metadata(), *owner.metadata())
        await _call(self._stub.DeleteSession(
            api.DeleteSessionRequest(name=f"sessions/{session_id}"),
            metadata=_last_wins(metadata), timeout=TIMEOUT))

    async def revoke_all(self, user_id: str, tenant_id: str, reason: str) -> int:
        """Revoke every session of a user (password reset); return how many."""
        reply = await _call(self._stub.RevokeUserSessions(
            api.RevokeUserSessionsRequest(user_id=user_id, tenant_id=tenant_id, reason=reason),
            metadata=call_metadata(), timeout=TIMEOUT))
        return reply.revoked_count


async def _call(call: Awaitable[Reply]) -> Reply:
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        raise peer_error(error) from None


def _last_wins(metadata: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    # The owner's identity replaces the caller's for this one call.
    return tuple(dict(metadata).items())
