"""Publish the auth domain's events on the Redis stream `events:auth`.

The format (fields event_id, kind, tenant_id, user_id, time, details) and the kinds are
documented with their consumer, `services/user/activity_consumer.py`. Details are short strings
and never secrets: no password, token or code ever goes into an event.

Events follow the change they report and are best effort: a Redis failure is logged, never
turned into a failed sign-in. Failed sign-ins are published only for accounts that exist (an
unknown email has no user to show them to), and not when the attempt only lacked the second
factor (MFA_REQUIRED is a prompt, not a failure).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.auth.mfa import MfaService
from services.auth.secret_box import SecretBox
from services.auth.store import AccountStore

log = logging.getLogger("tradesage.auth.events")

STREAM = "events:auth"
MAX_STREAM_LENGTH = 1_000_000
NOT_PUBLISHED_FAILURES = frozenset({"MFA_REQUIRED"})


class AuthEvents:
    """Append auth events to `events:auth` (a no-op without Redis)."""

    def __init__(self, redis: Redis | None) -> None:
        self._redis = redis

    async def publish(self, kind: str, tenant_id: str, user_id: str,
                      details: dict[str, object] | None = None) -> None:
        """Publish one event about `user_id` of `tenant_id` happening now."""
        if self._redis is None:
            return
        fields = {
            "event_id": str(uuid.uuid4()),
            "kind": f"auth.{kind}",
            "tenant_id": tenant_id,
            "user_id": user_id,
            "time": datetime.now(UTC).isoformat(timespec="microseconds"),
            "details": json.dumps({k: str(v)[:512] for k, v in (details or {}).items()
                                   if v not in (None, "")}, separators=(",", ":")),
        }
        try:
            await self._redis.xadd(STREAM, fields,  # type: ignore[arg-type]
                                   maxlen=MAX_STREAM_LENGTH, approximate=True)
        except RedisError as error:
            log.warning("auth event not published", extra={"kind": kind, "error": str(error)})

    async def login_succeeded(self, user_id: str, tenant_id: str, session_id: str,
                              ip_address: str, user_agent: str, provider: str = "") -> None:
        """A user signed in (with a password, or through an OIDC provider)."""
        await self.publish("login_succeeded", tenant_id, user_id, {
            "method": "oidc" if provider else "password", "provider": provider,
            "sessionId": session_id, "ipAddress": ip_address, "userAgent": user_agent})

    async def login_failed(self, user_id: str, tenant_id: str, reason: str,
                           ip_address: str, user_agent: str) -> None:
        """A sign-in to an existing account was refused, with the ErrorInfo reason."""
        if reason in NOT_PUBLISHED_FAILURES:
            return
        await self.publish("login_failed", tenant_id, user_id, {
            "reason": reason, "ipAddress": ip_address, "userAgent": user_agent})

    async def logged_out(self, user_id: str, tenant_id: str, session_id: str) -> None:
        """A user signed out of one session."""
        await self.publish("logged_out", tenant_id, user_id, {"sessionId": session_id})

    async def refresh_token_reused(self, user_id: str, tenant_id: str, session_id: str) -> None:
        """A spent refresh token came back; its session was ended."""
        await self.publish("refresh_token_reused", tenant_id, user_id,
                           {"sessionId": session_id})

    async def password_reset(self, user_id: str, tenant_id: str, revoked_sessions: int) -> None:
        """A user set a new password with a reset link; their sessions were ended."""
        await self.publish("password_reset", tenant_id, user_id,
                           {"revokedSessions": revoked_sessions})


class EventPublishingMfa(MfaService):
    """The MFA service, publishing `auth.mfa_*` events after each change it makes."""

    def __init__(self, pool: asyncpg.Pool, box: SecretBox, accounts: AccountStore,
                 events: AuthEvents) -> None:
        super().__init__(pool, box)
        self._accounts = accounts
        self._events = events

    async def confirm(self, user_id: str, code: str) -> list[str]:
        """Turn the factor on (see MfaService.confirm) and publish `auth.mfa_enabled`."""
        codes = await super().confirm(user_id, code)
        await self._announce(user_id, "mfa_enabled")
        return codes

    async def disable(self, user_id: str, code: str) -> None:
        """Turn the factor off (see MfaService.disable) and publish `auth.mfa_disabled`."""
        await super().disable(user_id, code)
        await self._announce(user_id, "mfa_disabled")

    async def regenerate_recovery_codes(self, user_id: str, totp_code: str) -> list[str]:
        """Replace the recovery codes and publish `auth.recovery_codes_regenerated`."""
        codes = await super().regenerate_recovery_codes(user_id, totp_code)
        await self._announce(user_id, "recovery_codes_regenerated")
        return codes

    async def _announce(self, user_id: str, kind: str) -> None:
        account = await self._accounts.get(user_id)
        if account is not None:
            await self._events.publish(kind, account.tenant_id, user_id)
