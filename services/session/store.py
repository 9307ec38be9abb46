"""Sessions in Redis: one hash per session with a TTL, plus a set of ids per user."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from services.runtime.sessions import session_key, user_sessions_key
from services.session.domain.session import Session, not_found


class SessionStore:
    """Reads and writes sessions."""

    def __init__(self, redis: Redis, ttl_seconds: int) -> None:
        self._redis = redis
        self._ttl = ttl_seconds

    async def create(self, session_id: str, user_id: str, tenant_id: str, user_agent: str,
                     ip_address: str, roles: tuple[str, ...]) -> Session:
        """Store a new session that expires after the TTL unless touched."""
        now = int(time.time() * 1000)
        fields = {
            "user_id": user_id, "tenant_id": tenant_id, "user_agent": user_agent,
            "ip_address": ip_address, "roles": ",".join(roles),
            "create_time_ms": now, "last_seen_time_ms": now,
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(session_key(session_id), mapping=fields)
            pipe.expire(session_key(session_id), self._ttl)
            pipe.sadd(user_sessions_key(user_id), session_id)
            pipe.expire(user_sessions_key(user_id), self._ttl)
            await pipe.execute()
        return _session(session_id, fields, now + self._ttl * 1000)

    async def get(self, session_id: str) -> Session:
        """Return a live session or raise NotFound."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(session_key(session_id))
            pipe.pttl(session_key(session_id))
            fields, ttl_ms = await pipe.execute()
        if not fields:
            raise not_found(session_id)
        return _session(session_id, fields, int(time.time() * 1000) + max(ttl_ms, 0))


def _session(session_id: str, fields: dict[str, object], expire_ms: int) -> Session:
    return Session(
        id=session_id,
        user_id=str(fields["user_id"]),
        tenant_id=str(fields["tenant_id"]),
        user_agent=str(fields.get("user_agent", "")),
        ip_address=str(fields.get("ip_address", "")),
        roles=tuple(r for r in str(fields.get("roles", "")).split(",") if r),
        create_time_ms=int(str(fields["create_time_ms"])),
        last_seen_time_ms=int(str(fields["last_seen_time_ms"])),
        expire_time_ms=expire_ms,
    )
