"""The Redis keys of live sessions, shared by the session service and every service's check.

A session is live while its key exists. Revoking a session deletes the key, and every service
refuses the tokens of that session from the next call on, without waiting for them to expire.
"""

from __future__ import annotations

from redis.asyncio import Redis

from services.runtime.errors import Unauthenticated


def session_key(session_id: str) -> str:
    """Return the key of the hash holding session `session_id`."""
    return f"session:{session_id}"


def user_sessions_key(user_id: str) -> str:
    """Return the key of the sorted set of a user's session ids (scored by creation time)."""
    return f"user-sessions:{user_id}"


def session_events_channel(user_id: str) -> str:
    """Return the pub/sub channel of a user's session events."""
    return f"session-events:{user_id}"


async def require_live_session(redis: Redis, session_id: str) -> None:
    """Fail with UNAUTHENTICATED unless the session exists (it was not revoked or expired)."""
    if not session_id or not await redis.exists(session_key(session_id)):
        raise Unauthenticated("the session of this token has ended; sign in again",
                              reason="SESSION_REVOKED", metadata={"sessionId": session_id})
