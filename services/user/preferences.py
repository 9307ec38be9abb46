"""Preferences in the tenant schema's `preferences` table, and the push of every change to the
user's other devices.

A write is one tenant transaction: claim the request id (so a retried request returns the first
result), read the row, compare-and-set it (`UPDATE ... WHERE version = $expected`, or an insert
for version 0), and record the activity entry. Only after the commit is the change published
on the Redis pub/sub channel `user-preferences:{user_id}`; every replica's `PreferenceHub`
listens to all such channels over one connection and hands changes to its local streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.runtime.errors import FieldViolation, InvalidArgument
from services.runtime.pubsub import follow_pattern
from services.runtime.tenancy import tenant_transaction
from services.user.activities import insert_activity
from services.user.domain.activity import activity_from_event
from services.user.domain.events import new_event
from services.user.domain.preferences import (
    PreferenceChange,
    Preferences,
    changed_keys,
    check_settings,
    merged_settings,
    version_conflict,
)

log = logging.getLogger("tradesage.user.preferences")

CHANNEL_PREFIX = "user-preferences:"
IDEMPOTENCY_METHOD = "UpdatePreferences"
MAX_REQUEST_ID = 64
# Undelivered changes a slow stream keeps; older ones are dropped (each carries the full state).
STREAM_BACKLOG = 32


def channel(user_id: str) -> str:
    """Return the pub/sub channel of a user's preference changes."""
    return f"{CHANNEL_PREFIX}{user_id}"


@dataclass(frozen=True)
class PreferenceUpdate:
    """A validated UpdatePreferences request."""

    tenant_id: str
    user_id: str
    expected_version: int
    settings: dict[str, Any]
    paths: tuple[str, ...]
    session_id: str = ""
    request_id: str = ""

    def fingerprint(self) -> bytes:
        """Return a hash of what the request asks for, to tell a retry from a reuse."""
        body = json.dumps([self.user_id, self.expected_version, self.settings, self.paths],
                          sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).digest()


class PreferenceStore:
    """Read and compare-and-set preferences inside the tenant's transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get(self, tenant_id: str, user_id: str) -> Preferences:
        """Return the user's preferences (version 0 and no settings if never saved)."""
        async with tenant_transaction(self._pool, tenant_id) as connection:
            return await _read(connection, user_id)

    async def update(self, update: PreferenceUpdate) -> tuple[PreferenceChange, bool]:
        """Apply the update if the version still matches; return the change and whether it
        is the stored result of an earlier request with the same request id."""
        if len(update.request_id) > MAX_REQUEST_ID:
            raise InvalidArgument("request_id is too long", [FieldViolation(
                "request_id", f"must be at most {MAX_REQUEST_ID} characters")])
        async with tenant_transaction(self._pool, update.tenant_id) as connection:
            if update.request_id:
                replayed = await _claim_request(connection, update)
                if replayed is not None:
                    return replayed, True
            change = await _compare_and_set(connection, update)
            await _record_activity(connection, update, change)
            if update.request_id:
                await connection.execute(
                    """UPDATE idempotency_keys SET response = $3
                       WHERE method = $1 AND request_id = $2""",
                    IDEMPOTENCY_METHOD, _request_key(update), _encode_change(change))
        return change, False


async def _read(connection: asyncpg.Connection, user_id: str) -> Preferences:
    row = await connection.fetchrow(
        "SELECT version, settings::text AS settings, update_time FROM preferences"
        " WHERE user_id = $1", uuid.UUID(user_id))
    if row is None:
        return Preferences(user_id, 0, {})
    return Preferences(user_id, row["version"], json.loads(row["settings"]), row["update_time"])


async def _compare_and_set(connection: asyncpg.Connection,
                           update: PreferenceUpdate) -> PreferenceChange:
    current = await _read(connection, update.user_id)
    if current.version != update.expected_version:
        raise version_conflict(update.expected_version, current.version)
    settings = merged_settings(current.settings, update.settings, list(update.paths))
    check_settings(settings)
    if update.expected_version == 0:
        row = await connection.fetchrow(
            """INSERT INTO preferences (user_id, version, settings, update_time)
               VALUES ($1, 1, $2::jsonb, now())
               ON CONFLICT (user_id) DO NOTHING RETURNING version, update_time""",
            uuid.UUID(update.user_id), json.dumps(settings))
    else:
        # Under READ COMMITTED a concurrent writer's committed row fails this WHERE, so of two
        # writes based on the same version exactly one changes the row.
        row = await connection.fetchrow(
            """UPDATE preferences SET settings = $3::jsonb, version = version + 1,
                                      update_time = now()
               WHERE user_id = $1 AND version = $2 RETURNING version, update_time""",
            uuid.UUID(update.user_id), update.expected_version, json.dumps(settings))
    if row is None:
        latest = await connection.fetchval(
            "SELECT version FROM preferences WHERE user_id = $1", uuid.UUID(update.user_id))
        raise version_conflict(update.expected_version, latest or 0)
    preferences = Preferences(update.user_id, row["version"], settings, row["update_time"])
    return PreferenceChange(preferences, changed_keys(current.settings, settings),
                            update.session_id, row["update_time"])


async def _claim_request(connection: asyncpg.Connection,
                         update: PreferenceUpdate) -> PreferenceChange | None:
    # Inserting first makes a concurrent retry wait for this transaction, then see its row.
    claimed = await connection.fetchval(
        """INSERT INTO idempotency_keys (method, request_id, request_hash)
           VALUES ($1, $2, $3) ON CONFLICT (method, request_id) DO NOTHING RETURNING true""",
        IDEMPOTENCY_METHOD, _request_key(update), update.fingerprint())
    if claimed:
        return None
    row = await connection.fetchrow(
        "SELECT request_hash, response FROM idempotency_keys"
        " WHERE method = $1 AND request_id = $2", IDEMPOTENCY_METHOD, _request_key(update))
    if row["request_hash"] != update.fingerprint() or row["response"] is None:
        raise InvalidArgument("request_id was already used for a different update", [
            FieldViolation("request_id", "must be new for each different update")])
    return _decode_change(update.user_id, row["response"])


async def _record_activity(connection: asyncpg.Connection, update: PreferenceUpdate,
                           change: PreferenceChange) -> None:
    event = new_event("user.preferences_updated", update.tenant_id, update.user_id, {
        "changedKeys": ",".join(change.changed_keys),
        "version": change.preferences.version,
        "sessionId": update.session_id,
    }, time=change.change_time)
    activity = activity_from_event(event)
    assert activity is not None
    await insert_activity(connection, activity)


def _request_key(update: PreferenceUpdate) -> str:
    # Request ids are the client's; scoping them by user keeps two users' ids apart.
    return f"{update.user_id}/{update.request_id}"


def change_to_json(change: PreferenceChange) -> str:
    """Return the pub/sub payload of a change."""
    return json.dumps({
        "userId": change.preferences.user_id,
        "version": change.preferences.version,
        "settings": change.preferences.settings,
        "updateTime": _iso(change.preferences.update_time),
        "changedKeys": list(change.changed_keys),
        "sessionId": change.session_id,
        "changeTime": _iso(change.change_time),
    }, separators=(",", ":"))


def change_from_json(payload: str | bytes) -> PreferenceChange:
    """Return the change of a pub/sub payload made by `change_to_json`."""
    body = json.loads(payload)
    preferences = Preferences(body["userId"], int(body["version"]), dict(body["settings"]),
                              datetime.fromisoformat(body["updateTime"]))
    return PreferenceChange(preferences, tuple(body["changedKeys"]), body["sessionId"],
                            datetime.fromisoformat(body["changeTime"]))


def _encode_change(change: PreferenceChange) -> bytes:
    return change_to_json(change).encode()


def _decode_change(user_id: str, response: bytes) -> PreferenceChange:
    change = change_from_json(response)
    if change.preferences.user_id != user_id:
        raise ValueError("stored response of another user")
    return change


def _iso(moment: datetime | None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat()


class PreferenceFeed:
    """The changes of one user for one stream, oldest first, bounded."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self._queue: asyncio.Queue[PreferenceChange] = asyncio.Queue(STREAM_BACKLOG)

    def offer(self, change: PreferenceChange) -> None:
        """Keep `change` for delivery, dropping the oldest undelivered one when full."""
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(change)

    async def next(self, timeout: float) -> PreferenceChange | None:
        """Return the next change, or None if none comes within `timeout` seconds."""
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None


class PreferenceHub:
    """Publish preference changes, and route every replica's changes to local feeds."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._feeds: dict[str, set[PreferenceFeed]] = {}
        self._listening = asyncio.Event()

    async def publish(self, change: PreferenceChange) -> None:
        """Announce a committed change; a lost announcement never fails the write."""
        try:
            await self._redis.publish(channel(change.preferences.user_id),
                                      change_to_json(change))
        except RedisError as error:
            log.warning("preference change not published", extra={"error": str(error)})

    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: str, ready_timeout: float = 5.0,
                        ) -> AsyncIterator[PreferenceFeed]:
        """Yield a feed of the user's changes from now on, until the block ends."""
        feed = PreferenceFeed(user_id)
        self._feeds.setdefault(user_id, set()).add(feed)
        try:
            # Changes are heard only while the hub's subscription is up.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listening.wait(), ready_timeout)
            yield feed
        finally:
            feeds = self._feeds.get(user_id, set())
            feeds.discard(feed)
            if not feeds:
                self._feeds.pop(user_id, None)

    def dispatch(self, change: PreferenceChange) -> None:
        """Offer `change` to every local feed of its user."""
        for feed in self._feeds.get(change.preferences.user_id, ()):
            feed.offer(change)

    async def run(self) -> None:
        """Listen to every user's channel until cancelled, reconnecting after failures."""
        # Feeds wait for the server's confirmation: from then on nothing published is missed.
        await follow_pattern(self._redis, f"{CHANNEL_PREFIX}*", self._take,
                             subscribed=self._listening.set, lost=self._listening.clear)

    async def _take(self, raw: str) -> None:
        try:
            self.dispatch(change_from_json(raw))
        except (ValueError, KeyError, TypeError) as error:
            log.warning("unreadable preference change skipped", extra={"error": str(error)})
