"""Brute-force protection: progressive delay, account lockout, per-IP throttle, audit trail."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from redis.asyncio import Redis

from services.auth.config import AuthSettings
from services.runtime.errors import ResourceExhausted

# Failures from one address within the window before it is refused outright.
IP_FAILURE_LIMIT = 50
IP_WINDOW_SECONDS = 900
MAX_DELAY_SECONDS = 3.0


class LoginGuard:
    """Decide whether a login may be tried, and record how it went."""

    def __init__(self, pool: asyncpg.Pool, redis: Redis, settings: AuthSettings) -> None:
        self._pool = pool
        self._redis = redis
        self._settings = settings

    async def check_address(self, ip_address: str) -> None:
        """Refuse an address that failed too often recently."""
        if not ip_address:
            return
        failures = int(await self._redis.get(_ip_key(ip_address)) or 0)
        if failures >= IP_FAILURE_LIMIT:
            ttl = max(await self._redis.ttl(_ip_key(ip_address)), 1)
            raise ResourceExhausted(
                f"too many failed sign-ins from this address; retry in {ttl} s",
                reason="TOO_MANY_ATTEMPTS", metadata={"retryAfterSeconds": str(ttl)})

    async def check_account(self, user_id: str) -> None:
        """Refuse a locked account, saying when it may try again."""
        locked_until = await self._pool.fetchval(
            "SELECT locked_until FROM auth.lockouts WHERE user_id = $1", uuid.UUID(user_id))
        if locked_until is not None and locked_until > datetime.now(UTC):
            raise account_locked(locked_until)

    async def record_failure(self, user_id: str | None, ip_address: str) -> None:
        """Count a failure, lock the account at the threshold, and delay the answer."""
        if ip_address:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(_ip_key(ip_address))
                pipe.expire(_ip_key(ip_address), IP_WINDOW_SECONDS)
                await pipe.execute()
        if user_id is None:
            await asyncio.sleep(0.2)
            return
        row = await self._pool.fetchrow(
            """INSERT INTO auth.lockouts (user_id, failed_count, last_failure_time, locked_until)
               VALUES ($1, 1, now(), NULL)
               ON CONFLICT (user_id) DO UPDATE SET
                   failed_count = auth.lockouts.failed_count + 1,
                   last_failure_time = now(),
                   locked_until = CASE WHEN auth.lockouts.failed_count + 1 >= $2
                                       THEN now() + make_interval(secs => $3) END
               RETURNING failed_count, locked_until""",
            uuid.UUID(user_id), self._settings.lockout_threshold,
            float(self._settings.lockout_seconds))
        # Each failure in a row doubles the wait, which slows guessing without a lock.
        await asyncio.sleep(min(0.1 * 2 ** (row["failed_count"] - 1), MAX_DELAY_SECONDS))
        if row["locked_until"] is not None:
            raise account_locked(row["locked_until"])

    async def record_success(self, user_id: str) -> None:
        """Forget the failures of an account that signed in."""
        await self._pool.execute(
            "UPDATE auth.lockouts SET failed_count = 0, locked_until = NULL WHERE user_id = $1",
            uuid.UUID(user_id))

    async def unlock(self, user_id: str) -> bool:
        """Lift a lock (an admin's call); return whether the account was locked."""
        was_locked = await self._pool.fetchval(
            """UPDATE auth.lockouts AS now_row SET failed_count = 0, locked_until = NULL
               FROM (SELECT locked_until FROM auth.lockouts WHERE user_id = $1 FOR UPDATE) AS old
               WHERE now_row.user_id = $1
               RETURNING old.locked_until > now()""", uuid.UUID(user_id))
        return bool(was_locked)

    async def audit(self, *, tenant_id: str, email: str, user_id: str | None,
                    ip_address: str, user_agent: str, success: bool, reason: str) -> None:
        """Record one attempt with where it came from."""
        await self._pool.execute(
            """INSERT INTO auth.login_attempts
                   (tenant_id, email, user_id, ip_address, user_agent, success, reason)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            _uuid_or_none(tenant_id), email.lower()[:254],
            uuid.UUID(user_id) if user_id else None, ip_address, user_agent[:512], success,
            reason)


def account_locked(locked_until: datetime) -> ResourceExhausted:
    """Return the error for a locked account, with the time it may retry."""
    retry_after = max(int((locked_until - datetime.now(UTC)) / timedelta(seconds=1)), 1)
    return ResourceExhausted(
        f"the account is locked after repeated failed sign-ins; retry in {retry_after} s",
        reason="ACCOUNT_LOCKED",
        metadata={"retryAfterSeconds": str(retry_after), "lockedUntil": locked_until.isoformat()})


def _ip_key(ip_address: str) -> str:
    return f"login-failures-ip:{ip_address}"


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
