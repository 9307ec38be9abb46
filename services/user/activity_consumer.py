"""Build users' activity logs from the domain events on the Redis streams.

Event format
------------
Every service publishes what happens to a user with `XADD events:{domain}` (`events:auth`,
`events:user`, `events:session`, later `events:trading`; trimmed with `MAXLEN ~ 1000000`).
Each stream entry has these fields, all strings:

  event_id   a UUID, unique per event; the consumer's idempotency key (the activity's id)
  kind       `{domain}.{what_happened}`, past tense, e.g. `auth.login_succeeded`
  tenant_id  the UUID of the user's tenant
  user_id    the UUID of the user the event is about
  time       when it happened, RFC 3339 in UTC, e.g. `2026-11-27T09:30:00.123456+00:00`
  details    a JSON object of short strings with lowerCamel keys; never a secret (no
             passwords, tokens, codes). `sessionId`, `ipAddress` and `userAgent` fill the
             activity's columns, `description` overrides the generated text, the rest are
             the activity's attributes.

Kinds in use (entry kind in brackets; kinds not listed are acknowledged and skipped):
  auth.login_succeeded [LOGIN]       method ("password", "oidc"), provider, sessionId,
                                     ipAddress, userAgent
  auth.login_failed [LOGIN_FAILED]   reason (the ErrorInfo reason), ipAddress, userAgent;
                                     only for accounts that exist
  auth.logged_out [LOGOUT]           sessionId
  auth.refresh_token_reused [LOGOUT] sessionId (the session ended for safety)
  auth.password_reset [PASSWORD_CHANGED]   revokedSessions
  auth.mfa_enabled, auth.mfa_disabled, auth.recovery_codes_regenerated [MFA_CHANGED]
  session.revoked [LOGOUT]           reason (revoked_by_user, revoked_by_admin, evicted,
                                     refresh_token_reuse), sessionId, ipAddress, userAgent
  user.profile_updated [PROFILE_UPDATED]   fields (comma-separated paths), changedBy
  user.preferences_updated [PREFERENCES_UPDATED]   changedKeys, version, sessionId
  user.roles_changed [ROLES_CHANGED]        roles (comma-separated), changedBy
  trading.order_* [ORDER], trading.cash_* [CASH]   e.g. orderId, symbol, side, quantity

Delivery
--------
Every replica of the user service reads all streams in the consumer group `user-activity`
(created at the start of the streams, so nothing published before the first start is missed).
An entry is acknowledged only after its activity row is committed in the tenant's schema, so a
crash between read and commit leaves it pending: the same consumer re-reads its pending entries
when it starts, and any consumer claims entries idle longer than `claim_idle_ms` from consumers
that are gone. The activity id is the event id and inserting it again is a no-op, so an entry
processed twice (committed, then a crash before the acknowledgement) is recorded once. Entries
that can never be recorded (malformed, unknown tenant, or failing `max_deliveries` times) are
copied to `events:dead-letter` and acknowledged.

The consumer also keeps two columns of `platform.users` current from the same events: the last
sign-in time and whether MFA is on (each applied only if newer than what is stored).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from services.user.activities import ActivityStore
from services.user.domain.activity import activity_from_event
from services.user.domain.events import DomainEvent, InvalidEvent, from_fields, stream_of
from services.user.store import UserStore

log = logging.getLogger("tradesage.user.activity")

GROUP = "user-activity"
DEAD_LETTER_STREAM = "events:dead-letter"
DEFAULT_STREAMS = tuple(stream_of(d) for d in ("auth", "user", "session", "trading"))
# Consumers without pending entries that were idle this long are removed from the group.
FORGET_CONSUMER_MS = 24 * 3600 * 1000

Fields = Mapping[str | bytes, str | bytes]
# Failures of the connection rather than of one entry: retrying later is all there is to do.
_UNREACHABLE = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
                asyncpg.exceptions.OperatorInterventionError,
                asyncpg.exceptions.InsufficientResourcesError)


def default_consumer_name() -> str:
    """Return a name unique to this process."""
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class ConsumerSettings:
    """Which streams to read, as whom, and how patiently."""

    streams: Sequence[str] = DEFAULT_STREAMS
    group: str = GROUP
    consumer: str = field(default_factory=default_consumer_name)
    batch: int = 100
    block_ms: int = 1000
    # After reading fewer than `batch` entries, wait this long so the next read gathers more:
    # a transaction per few entries rather than per entry, for activity a moment later.
    linger_ms: int = 50
    claim_idle_ms: int = 30_000
    max_deliveries: int = 10
    dead_letter_stream: str = DEAD_LETTER_STREAM


class ActivityConsumer:
    """Turn stream entries into activity rows, at least once and recorded exactly once."""

    def __init__(self, redis: Redis, pool: asyncpg.Pool,
                 settings: ConsumerSettings | None = None) -> None:
        self._redis = redis
        self._pool = pool
        self._settings = settings or ConsumerSettings()
        self._activities = ActivityStore(pool)
        self._users = UserStore(pool)
        self._next_claim = 0.0

    async def run(self) -> None:
        """Consume until cancelled, riding out failures of Redis and PostgreSQL."""
        settings, delay = self._settings, 0.2
        while True:
            try:
                await self._prepare()
                while True:
                    await self._claim_stale()
                    replies = await self._redis.xreadgroup(
                        settings.group, settings.consumer,
                        {stream: ">" for stream in settings.streams},
                        count=settings.batch, block=settings.block_ms)
                    await self._handle_replies(replies)
                    delay = 0.2
                    if replies and sum(len(m) for _, m in replies) < settings.batch:
                        await asyncio.sleep(settings.linger_ms / 1000)
            except (RedisError, *_UNREACHABLE) as error:
                log.warning("activity consumer failed; retrying",
                            extra={"error": str(error), "retry_seconds": delay})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _prepare(self) -> None:
        for stream in self._settings.streams:
            try:
                await self._redis.xgroup_create(stream, self._settings.group, id="0",
                                                mkstream=True)
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise
        # Entries this consumer read before a restart and never acknowledged.
        for stream in self._settings.streams:
            start: str | bytes = "0"
            while True:
                replies = await self._redis.xreadgroup(
                    self._settings.group, self._settings.consumer, {stream: start},
                    count=self._settings.batch)
                entries = [e for _, messages in replies or () for e in messages]
                if not entries:
                    break
                for entry_id, fields in entries:
                    if fields:
                        await self._handle(stream, entry_id, fields)
                    else:  # trimmed from the stream meanwhile: nothing left to record
                        await self._redis.xack(stream, self._settings.group, entry_id)
                    start = entry_id

    async def _handle_replies(self, replies: object) -> None:
        for stream, messages in replies or ():  # type: ignore[attr-defined]
            events: list[tuple[str | bytes, Fields, DomainEvent]] = []
            for entry_id, fields in messages:
                try:
                    events.append((entry_id, fields, from_fields(fields)))
                except InvalidEvent as error:
                    await self._dead_letter(_text(stream), entry_id, fields, str(error))
            by_tenant: dict[str, list[tuple[str | bytes, Fields, DomainEvent]]] = {}
            for entry in events:
                by_tenant.setdefault(entry[2].tenant_id, []).append(entry)
            for entries in by_tenant.values():
                await self._record_together(_text(stream), entries)

    async def _record_together(self, stream: str,
                               entries: list[tuple[str | bytes, Fields, DomainEvent]]) -> None:
        """Record one tenant's entries in one transaction; if that fails, one at a time.

        Busy streams deliver entries in batches, and one transaction per batch and tenant
        (rather than per entry) is most of the consumer's cost saved.
        """
        tenant = entries[0][2].tenant_id
        try:
            activities = [activity_from_event(event) for _, _, event in entries]
            await self._activities.add_all(tenant, [a for a in activities if a is not None])
            for _, _, event in entries:
                await self._project(event)
        except _UNREACHABLE:
            raise
        except asyncpg.PostgresError:
            for entry_id, fields, _ in entries:  # find the entry that fails; record the rest
                await self._handle(stream, entry_id, fields)
            return
        await self._redis.xack(stream, self._settings.group, *[e for e, _, _ in entries])

    async def _handle(self, stream: str, entry_id: str | bytes, fields: Fields) -> None:
        try:
            event = from_fields(fields)
        except InvalidEvent as error:
            await self._dead_letter(stream, entry_id, fields, str(error))
            return
        try:
            activity = activity_from_event(event)
            if activity is not None:
                await self._activities.add(event.tenant_id, activity)
            await self._project(event)
        except _UNREACHABLE:
            raise  # the database is away: stop and retry the same entries later
        except asyncpg.PostgresError as error:
            if not await self._tenant_exists(event.tenant_id):
                await self._dead_letter(stream, entry_id, fields, f"no such tenant: {error}")
                return
            # Left pending: claimed again after claim_idle_ms, dead-lettered after
            # max_deliveries; the entries behind it go on meanwhile.
            log.warning("activity not recorded; will retry",
                        extra={"entry_id": _text(entry_id), "error": str(error)})
            return
        await self._redis.xack(stream, self._settings.group, entry_id)

    async def _project(self, event: DomainEvent) -> None:
        if event.kind == "auth.login_succeeded":
            await self._users.record_login(event.user_id, event.tenant_id, event.time)
        elif event.kind in ("auth.mfa_enabled", "auth.mfa_disabled"):
            await self._users.record_mfa(event.user_id, event.tenant_id,
                                         event.kind == "auth.mfa_enabled", event.time)

    async def _claim_stale(self) -> None:
        """Take over entries other consumers read long ago and never acknowledged."""
        settings, now = self._settings, time.monotonic()
        if now < self._next_claim:
            return
        # Looking twice per idle period bounds how long a stuck entry waits to ~1.5 periods.
        self._next_claim = now + settings.claim_idle_ms / 2000
        for stream in settings.streams:
            pending = await self._redis.xpending_range(
                stream, settings.group, min="-", max="+", count=settings.batch,
                idle=settings.claim_idle_ms)
            if not pending:
                continue
            exhausted = [p["message_id"] for p in pending
                         if p["times_delivered"] >= settings.max_deliveries]
            retry = [p["message_id"] for p in pending if p["message_id"] not in exhausted]
            for entry_id in exhausted:
                entries = await self._redis.xrange(stream, entry_id, entry_id)
                await self._dead_letter(stream, entry_id, entries[0][1] if entries else {},
                                        f"failed {settings.max_deliveries} deliveries")
            if retry:
                claimed = await self._redis.xclaim(stream, settings.group, settings.consumer,
                                                   settings.claim_idle_ms, retry)
                for entry_id, fields in claimed:
                    if fields:
                        await self._handle(stream, entry_id, fields)
                    else:  # trimmed from the stream meanwhile: nothing left to record
                        await self._redis.xack(stream, settings.group, entry_id)
        await self._forget_idle_consumers()

    async def _forget_idle_consumers(self) -> None:
        settings = self._settings
        for stream in settings.streams:
            for consumer in await self._redis.xinfo_consumers(stream, settings.group):
                name = _text(consumer["name"])
                if (name != settings.consumer and not consumer["pending"]
                        and consumer["idle"] > FORGET_CONSUMER_MS):
                    await self._redis.xgroup_delconsumer(stream, settings.group, name)

    async def _dead_letter(self, stream: str, entry_id: str | bytes, fields: Fields,
                           error: str) -> None:
        log.warning("domain event dead-lettered",
                    extra={"stream": stream, "entry_id": _text(entry_id), "error": error})
        body = {_text(k): _text(v) for k, v in fields.items()}
        body.update(source_stream=stream, source_id=_text(entry_id), error=error[:500])
        await self._redis.xadd(self._settings.dead_letter_stream, body,  # type: ignore[arg-type]
                               maxlen=100_000, approximate=True)
        await self._redis.xack(stream, self._settings.group, entry_id)

    async def _tenant_exists(self, tenant_id: str) -> bool:
        return bool(await self._pool.fetchval(
            "SELECT true FROM platform.tenant_schemas WHERE tenant_id = $1::uuid", tenant_id))


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
