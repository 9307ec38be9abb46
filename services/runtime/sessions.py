"""The Redis keys of live sessions, shared by the session service and every service's check.

A session is live while its key exists, a tenant while it is not marked deactivated. Revoking
a session deletes its key (deactivating a tenant sets its mark), and every service refuses the
affected tokens from the next call on, without waiting for them to expire.
"""

from __future__ import annotations

from redis.asyncio import Redis

from services.runtime.errors import Unauthenticated
from services.runtime.identity import Identity


def session_key(session_id: str) -> str:
    """Return the key of the hash holding session `session_id`."""
    return f"session:{session_id}"


def user_sessions_key(user_id: str) -> str:
    """Return the key of the sorted set of a user's session ids (scored by creation time)."""
    return f"user-sessions:{user_id}"


def session_events_channel(user_id: str) -> str:
    """Return the pub/sub channel of a user's session events."""
    return f"session-events:{user_id}"


def deactivated_tenant_key(tenant_id: str) -> str:
    """Return the key whose presence marks a deactivated tenant."""
    return f"tenant-deactivated:{tenant_id}"


async def require_live_caller(redis: Redis, caller: Identity) -> None:
    """Fail with UNAUTHENTICATED unless the caller's session and tenant are both live."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.exists(session_key(caller.session_id))
        pipe.exists(deactivated_tenant_key(caller.tenant_id))
        session_live, tenant_deactivated = await pipe.execute()
    if tenant_deactivated:
        raise Unauthenticated("the tenant has been deactivated", reason="TENANT_DEACTIVATED",
                              metadata={"tenantId": caller.tenant_id})
    if not session_live:
        raise Unauthenticated("the session of this token has ended; sign in again",
                              reason="SESSION_REVOKED", metadata={"sessionId": caller.session_id})
