"""Sessions in Redis, and the events every change to them publishes.

Layout (session ids are 128-bit hex, user ids as the auth service issues them):
  session:{id}                      hash of one session; TTL = the sliding session lifetime
  user-sessions:{user}              sorted set of the user's session ids, scored by creation
                                    time (ms); ids whose hash expired are pruned when read
  user-devices:{user}               sorted set of device fingerprints the user signed in from,
                                    scored by last sign-in (ms); forgotten after DEVICE_MEMORY
  session-request:{user}:{request}  the session a CreateSession request id made (retries)
  session-events:{user}             pub/sub channel of the user's SessionEvent JSON payloads

Check-and-insert runs under WATCH/MULTI on the user's keys: a concurrent sign-in or revocation
touching them makes EXEC fail and the loser retries against the new state, so the limit holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline, PubSub
from redis.exceptions import RedisError, WatchError

from services.runtime.errors import Aborted, Unavailable
from services.runtime.sessions import session_events_channel, session_key, user_sessions_key
from services.session.domain import events
from services.session.domain.events import SessionEvent
from services.session.domain.limits import IndexEntry, LimitPolicy, sessions_to_evict
from services.session.domain.session import Location, Session, not_found

log = logging.getLogger("tradesage.session.store")
T = TypeVar("T")

# A device unused this long counts as new again.
DEVICE_MEMORY_SECONDS = 180 * 24 * 3600
# Retries of a request id return the first session for this long (at most the session TTL).
REQUEST_MEMORY_SECONDS = 24 * 3600
# Conflicting transactions retry; each round one of the contenders commits.
MAX_ATTEMPTS = 64


def devices_key(user_id: str) -> str:
    """Return the key of the sorted set of a user's known device fingerprints."""
    return f"user-devices:{user_id}"


def request_key(user_id: str, request_id: str) -> str:
    """Return the key remembering which session a CreateSession request id made."""
    return f"session-request:{user_id}:{request_id}"


@dataclass(frozen=True)
class Admission:
    """The outcome of CreateSession."""

    session: Session
    new_device: bool
    evicted: tuple[Session, ...] = ()
    # True when a retried request id got the session its first attempt made.
    replayed: bool = False


class SessionStore:
    """Reads, writes and revokes sessions, publishing an event for every change."""

    def __init__(self, redis: Redis, ttl_seconds: int) -> None:
        self._redis = redis
        self._ttl = ttl_seconds

    async def create(self, session: Session, *, max_sessions: int, policy: LimitPolicy,
                     request_id: str = "") -> Admission:
        """Store `session` as created now if the limit allows, evicting per `policy`.

        Publish REVOKED for each evicted session, then CREATED for the new one.
        """
        now = _now_ms()
        session = replace(session, create_time_ms=now, last_seen_time_ms=now,
                          expire_time_ms=now + self._ttl * 1000)
        admission = await _retrying(
            lambda: self._try_create(session, max_sessions, policy, request_id))
        if not admission.replayed:
            await self._publish([
                *(events.revoked(s, events.REASON_EVICTED, session.create_time_ms)
                  for s in admission.evicted),
                events.created(session, admission.new_device)])
        return admission

    async def get(self, session_id: str) -> Session:
        """Return a live session or raise NotFound."""
        found = await self._read([session_id])
        if not found:
            raise not_found(session_id)
        return found[0]

    async def touch(self, session_id: str) -> Session:
        """Mark a live session used now and push its expiry a full TTL out."""
        return await _retrying(lambda: self._try_touch(session_id))

    async def live_entries(self, user_id: str) -> list[IndexEntry]:
        """Return the index entries of the user's live sessions, pruning expired ones."""
        entries = await self._redis.zrange(user_sessions_key(user_id), 0, -1, withscores=True)
        live, dead = await self._split_live([IndexEntry(int(s), i) for i, s in entries])
        if dead:
            await self._redis.zrem(user_sessions_key(user_id), *dead)
        return live

    async def read_many(self, session_ids: Sequence[str]) -> list[Session]:
        """Return the sessions of `session_ids` that are still live, in the same order."""
        return await self._read(session_ids)

    async def revoke(self, session: Session, reason: str) -> Session:
        """End one session now; raise NotFound if it ended already."""
        async with self._redis.pipeline(transaction=True) as pipe:
            _queue_revoke(pipe, user_sessions_key(session.user_id), [session.id])
            ended = _revoked_snapshots([session.id], await pipe.execute(), _now_ms())
        if not ended:
            raise not_found(session.id)
        await self._publish_revoked(ended, reason)
        return ended[0]

    async def revoke_user(self, user_id: str, tenant_id: str, reason: str,
                          except_session_id: str = "") -> list[Session]:
        """End every session of a user in `tenant_id` but `except_session_id`; return them."""
        ended = await _retrying(
            lambda: self._try_revoke_user(user_id, tenant_id, except_session_id))
        await self._publish_revoked(ended, reason)
        return ended

    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: str) -> AsyncIterator[EventFeed]:
        """Listen to a user's session events until the block ends (one connection)."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(session_events_channel(user_id))
            yield EventFeed(pubsub)
        finally:
            # Closing the connection drops the subscription on the server too.
            await pubsub.aclose()

    # Transactions ---------------------------------------------------------------------------

    async def _try_create(self, session: Session, max_sessions: int, policy: LimitPolicy,
                          request_id: str) -> Admission:
        index, devices = user_sessions_key(session.user_id), devices_key(session.user_id)
        remembered = request_key(session.user_id, request_id) if request_id else ""
        async with self._redis.pipeline(transaction=True) as pipe:
            await pipe.watch(*(k for k in (index, devices, remembered) if k))
            if remembered and (first := await self._replay(pipe, remembered)):
                return Admission(first, new_device=False, replayed=True)
            entries = await pipe.zrange(index, 0, -1, withscores=True)
            live, dead = await self._split_live([IndexEntry(int(s), i) for i, s in entries])
            evict = sessions_to_evict(live, max_sessions, policy)
            new_device = await pipe.zscore(devices, session.device_fingerprint) is None
            pipe.multi()
            _queue_revoke(pipe, index, evict)
            if dead:
                pipe.zrem(index, *dead)
            self._queue_insert(pipe, session, remembered)
            results = await pipe.execute()
        evicted = _revoked_snapshots(evict, results, session.create_time_ms)
        return Admission(session, new_device, tuple(evicted))

    async def _replay(self, pipe: Pipeline, remembered: str) -> Session | None:
        first_id = await pipe.get(remembered)
        found = await self._read([first_id]) if first_id else []
        return found[0] if found else None

    def _queue_insert(self, pipe: Pipeline, session: Session, remembered: str) -> None:
        key, index = session_key(session.id), user_sessions_key(session.user_id)
        devices = devices_key(session.user_id)
        now = session.create_time_ms
        pipe.hset(key, mapping=_fields(session))
        pipe.expire(key, self._ttl)
        pipe.zadd(index, {session.id: now})
        # Every session expires within a TTL of its last use, so the index may go with them.
        pipe.expire(index, self._ttl)
        pipe.zadd(devices, {session.device_fingerprint: now})
        pipe.zremrangebyscore(devices, "-inf", now - DEVICE_MEMORY_SECONDS * 1000)
        pipe.expire(devices, DEVICE_MEMORY_SECONDS)
        if remembered:
            pipe.set(remembered, session.id, ex=min(self._ttl, REQUEST_MEMORY_SECONDS))

    async def _try_touch(self, session_id: str) -> Session:
        key = session_key(session_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            # Watching the key keeps a touch from recreating a session revoked meanwhile.
            await pipe.watch(key)
            fields = await pipe.hgetall(key)
            if not fields:
                raise not_found(session_id)
            now = _now_ms()
            pipe.multi()
            pipe.hset(key, "last_seen_time_ms", now)
            pipe.expire(key, self._ttl)
            pipe.expire(user_sessions_key(str(fields["user_id"])), self._ttl)
            await pipe.execute()
        return replace(_session(session_id, fields, now + self._ttl * 1000),
                       last_seen_time_ms=now)

    async def _try_revoke_user(self, user_id: str, tenant_id: str,
                               except_session_id: str) -> list[Session]:
        index = user_sessions_key(user_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            # Watching the index makes a sign-in racing a "revoke all" either land first (and be
            # revoked) or conflict, retry, and come after.
            await pipe.watch(index)
            live = await self._read(await pipe.zrange(index, 0, -1))
            ids = [s.id for s in live if s.tenant_id == tenant_id and s.id != except_session_id]
            if not ids:
                return []
            pipe.multi()
            _queue_revoke(pipe, index, ids)
            results = await pipe.execute()
        return _revoked_snapshots(ids, results, _now_ms())

    # Reads and events -----------------------------------------------------------------------

    async def _split_live(self, entries: list[IndexEntry]) -> tuple[list[IndexEntry], list[str]]:
        if not entries:
            return [], []
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.exists(session_key(entry.id))
            exists = await pipe.execute()
        live = [e for e, found in zip(entries, exists, strict=True) if found]
        return live, [e.id for e, found in zip(entries, exists, strict=True) if not found]

    async def _read(self, session_ids: Sequence[str]) -> list[Session]:
        if not session_ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for session_id in session_ids:
                pipe.hgetall(session_key(session_id))
                pipe.pttl(session_key(session_id))
            replies = await pipe.execute()
        now = _now_ms()
        return [_session(session_id, fields, now + max(ttl_ms, 0))
                for session_id, fields, ttl_ms in zip(
                    session_ids, replies[0::2], replies[1::2], strict=True) if fields]

    async def _publish_revoked(self, ended: Iterable[Session], reason: str) -> None:
        now = _now_ms()
        await self._publish([events.revoked(s, reason, now) for s in ended])

    async def _publish(self, changes: Sequence[SessionEvent]) -> None:
        if not changes:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for event in changes:
                    pipe.publish(session_events_channel(event.session.user_id),
                                 events.to_json(event))
                await pipe.execute()
        except RedisError as error:
            # The change itself is committed; a lost notice must not turn it into a failure.
            log.warning("session event not published", extra={"error": str(error)})


class EventFeed:
    """The session events of one subscription, one at a time."""

    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub

    async def next(self, timeout: float) -> SessionEvent | None:
        """Return the next event, or None if none arrives within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=remaining)
            except RedisError as error:
                raise Unavailable("session events are unavailable; reconnect",
                                  reason="SESSION_EVENTS_UNAVAILABLE") from error
            if message is None or message.get("type") != "message":
                continue
            try:
                return events.from_json(message["data"])
            except (ValueError, KeyError, TypeError) as error:
                log.warning("unreadable session event skipped", extra={"error": str(error)})
        return None


def _queue_revoke(pipe: Pipeline, index: str, session_ids: Iterable[str]) -> None:
    # HGETALL and DEL in one MULTI: only the transaction that deleted a session reports it.
    for session_id in session_ids:
        pipe.hgetall(session_key(session_id))
        pipe.delete(session_key(session_id))
        pipe.zrem(index, session_id)


def _revoked_snapshots(session_ids: Sequence[str], results: list[object],
                       ended_ms: int) -> list[Session]:
    snapshots = results[0:3 * len(session_ids):3]
    deleted = results[1:3 * len(session_ids):3]
    return [_session(session_id, fields, ended_ms)  # type: ignore[arg-type]
            for session_id, fields, gone in zip(session_ids, snapshots, deleted, strict=True)
            if gone and fields]


async def _retrying(attempt: Callable[[], Awaitable[T]]) -> T:
    for _ in range(MAX_ATTEMPTS):
        try:
            return await attempt()
        except WatchError:
            # Jitter spreads the contenders so the next round has one clear winner sooner.
            await asyncio.sleep(random.uniform(0, 0.002))
    raise Aborted("too many concurrent changes to this user's sessions; retry",
                  reason="SESSION_CONTENTION")


def _fields(session: Session) -> dict[str, str | int]:
    return {
        "user_id": session.user_id, "tenant_id": session.tenant_id,
        "user_agent": session.user_agent, "ip_address": session.ip_address,
        "roles": ",".join(session.roles), "device_fingerprint": session.device_fingerprint,
        "country_code": session.location.country_code, "region": session.location.region,
        "city": session.location.city,
        "create_time_ms": session.create_time_ms, "last_seen_time_ms": session.last_seen_time_ms,
    }


def _session(session_id: str, fields: dict[str, object], expire_ms: int) -> Session:
    def text(name: str) -> str:
        return str(fields.get(name, ""))

    return Session(
        id=session_id,
        user_id=text("user_id"),
        tenant_id=text("tenant_id"),
        user_agent=text("user_agent"),
        ip_address=text("ip_address"),
        roles=tuple(r for r in text("roles").split(",") if r),
        create_time_ms=int(text("create_time_ms")),
        last_seen_time_ms=int(text("last_seen_time_ms")),
        expire_time_ms=expire_ms,
        device_fingerprint=text("device_fingerprint"),
        location=Location(text("country_code"), text("region"), text("city")),
    )


def _now_ms() -> int:
    return int(time.time() * 1000)
