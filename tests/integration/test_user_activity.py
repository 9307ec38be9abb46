"""The activity consumer on the mesh's real PostgreSQL and Valkey: every event recorded exactly
once across crashes and restarts, and poison entries set aside; preference compare-and-set
under contention.

Each test reads its own streams (a unique prefix), so the mesh's user service, which consumes
the real `events:*` streams, never competes for these entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from mesh.supervisor import Mesh
from services.runtime.errors import Aborted
from services.runtime.tenancy import tenant_transaction
from services.user.activity_consumer import ActivityConsumer, ConsumerSettings
from services.user.domain.events import DomainEvent, new_event, to_fields
from services.user.preferences import PreferenceStore, PreferenceUpdate
from tests.support.accounts import create_tenant

WAIT = 15.0


class Crash(Exception):
    """Stands for the process dying at a chosen point."""


@pytest.fixture(scope="module")
async def pool(mesh: Mesh) -> AsyncIterator[asyncpg.Pool]:
    connections = await asyncpg.create_pool(mesh.database_url, min_size=1, max_size=8)
    yield connections
    await connections.close()


@pytest.fixture(scope="module")
async def redis(mesh: Mesh) -> AsyncIterator[Redis]:
    client = Redis.from_url(mesh.redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
async def tenant_id(edge: httpx.AsyncClient) -> str:
    return await create_tenant(edge, name="Activity Tests")


@dataclass(frozen=True)
class Streams:
    """A private set of event streams and the consumer settings that read them."""

    auth: str
    user: str
    dead_letter: str

    def settings(self, consumer: str, **overrides: object) -> ConsumerSettings:
        values: dict[str, object] = {
            "streams": (self.auth, self.user), "consumer": consumer, "batch": 50,
            "block_ms": 100, "claim_idle_ms": 300, "dead_letter_stream": self.dead_letter}
        return ConsumerSettings(**{**values, **overrides})  # type: ignore[arg-type]


@pytest.fixture
def streams() -> Streams:
    prefix = f"test-events:{uuid.uuid4().hex[:8]}"
    return Streams(f"{prefix}:auth", f"{prefix}:user", f"{prefix}:dead-letter")


def login_events(tenant_id: str, user_id: str, count: int) -> list[DomainEvent]:
    return [new_event("auth.login_succeeded", tenant_id, user_id,
                      {"sessionId": f"s{i}", "ipAddress": "203.0.113.7", "method": "password"})
            for i in range(count)]


async def publish(redis: Redis, stream: str, events: Sequence[DomainEvent]) -> None:
    for event in events:
        await redis.xadd(stream, to_fields(event))  # type: ignore[arg-type]


async def recorded(pool: asyncpg.Pool, tenant_id: str, user_id: str) -> list[str]:
    async with tenant_transaction(pool, tenant_id) as connection:
        rows = await connection.fetch(
            "SELECT id FROM activities WHERE user_id = $1 ORDER BY create_time",
            uuid.UUID(user_id))
    return [str(row["id"]) for row in rows]


async def wait_until_recorded(pool: asyncpg.Pool, tenant_id: str, user_id: str,
                              count: int) -> list[str]:
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        ids = await recorded(pool, tenant_id, user_id)
        if len(ids) >= count:
            return ids
        assert asyncio.get_running_loop().time() < deadline, f"{len(ids)} of {count} recorded"
        await asyncio.sleep(0.05)


async def pending(redis: Redis, streams: Streams) -> int:
    total = 0
    for stream in (streams.auth, streams.user):
        summary = await redis.xpending(stream, "user-activity")
        total += summary["pending"]
    return total


async def wait_until_acknowledged(redis: Redis, streams: Streams) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while await pending(redis, streams):
        assert asyncio.get_running_loop().time() < deadline, "entries stay unacknowledged"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(consumer: ActivityConsumer) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(consumer.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Crash):
            await task


class CrashingConsumer(ActivityConsumer):
    """Dies after committing activities, at the `crash_at`-th event, before acknowledging."""

    def __init__(self, *args: object, crash_at: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._left = crash_at

    async def _project(self, event: DomainEvent) -> None:
        await super()._project(event)
        self._left -= 1
        if self._left == 0:
            raise Crash


async def test_crash_between_commit_and_ack_loses_and_duplicates_nothing(
        pool: asyncpg.Pool, redis: Redis, tenant_id: str, streams: Streams) -> None:
    user_id = str(uuid.uuid4())
    events = login_events(tenant_id, user_id, 20)
    await publish(redis, streams.auth, events)

    doomed = CrashingConsumer(redis, pool, streams.settings("replica-a"), crash_at=5)
    async with running(doomed) as task:
        with pytest.raises(Crash):
            await asyncio.wait_for(task, WAIT)
    # The batch of all twenty was committed together, and none was acknowledged.
    assert len(await recorded(pool, tenant_id, user_id)) == 20
    assert await pending(redis, streams) == 20

    # Another replica takes the dead one's entries over once they have been idle long enough.
    async with running(ActivityConsumer(redis, pool, streams.settings("replica-b"))):
        await publish(redis, streams.auth, more := login_events(tenant_id, user_id, 5))
        ids = await wait_until_recorded(pool, tenant_id, user_id, 25)
        await wait_until_acknowledged(redis, streams)
    assert sorted(ids) == sorted(e.event_id for e in [*events, *more])
    assert await redis.xlen(streams.dead_letter) == 0


async def test_restart_with_the_same_name_finishes_its_own_pending_entries_first(
        pool: asyncpg.Pool, redis: Redis, tenant_id: str, streams: Streams) -> None:
    user_id = str(uuid.uuid4())
    events = login_events(tenant_id, user_id, 10)
    await publish(redis, streams.auth, events)
    await redis.xgroup_create(streams.auth, "user-activity", id="0", mkstream=True)
    # The replica read these, then died before recording any of them.
    await redis.xreadgroup("user-activity", "replica-a", {streams.auth: ">"}, count=6)

    # Claiming would wait an hour: only the restarted replica's own start can pick them up.
    settings = streams.settings("replica-a", claim_idle_ms=3_600_000)
    async with running(ActivityConsumer(redis, pool, settings)):
        ids = await wait_until_recorded(pool, tenant_id, user_id, 10)
        await wait_until_acknowledged(redis, streams)
    assert sorted(ids) == sorted(e.event_id for e in events)


async def test_events_published_while_stopped_are_recorded_after_the_restart(
        pool: asyncpg.Pool, redis: Redis, tenant_id: str, streams: Streams) -> None:
    user_id = str(uuid.uuid4())
    before, during = (login_events(tenant_id, user_id, 10), login_events(tenant_id, user_id, 10))
    async with running(ActivityConsumer(redis, pool, streams.settings("replica-a"))):
        await publish(redis, streams.auth, before)
        await wait_until_recorded(pool, tenant_id, user_id, 10)
    await publish(redis, streams.auth, during)
    # A redelivered event (the same id published twice) is recorded once.
    await publish(redis, streams.user, [before[0]])
    async with running(ActivityConsumer(redis, pool, streams.settings("replica-a"))):
        ids = await wait_until_recorded(pool, tenant_id, user_id, 20)
        await wait_until_acknowledged(redis, streams)
    assert sorted(ids) == sorted(e.event_id for e in [*before, *during])


async def test_entries_that_cannot_be_recorded_are_set_aside(
        pool: asyncpg.Pool, redis: Redis, tenant_id: str, streams: Streams) -> None:
    user_id = str(uuid.uuid4())
    await redis.xadd(streams.auth, {"kind": "auth.login_succeeded", "junk": "x"})
    await publish(redis, streams.auth, login_events(str(uuid.uuid4()), user_id, 1))
    await publish(redis, streams.auth, [new_event("auth.something_new", tenant_id, user_id)])
    good = login_events(tenant_id, user_id, 1)
    await publish(redis, streams.auth, good)
    async with running(ActivityConsumer(redis, pool, streams.settings("replica-a"))):
        ids = await wait_until_recorded(pool, tenant_id, user_id, 1)
        await wait_until_acknowledged(redis, streams)
    assert ids == [good[0].event_id]
    dead = await redis.xrange(streams.dead_letter)
    assert len(dead) == 2  # the malformed entry and the unknown tenant; new kinds are skipped
    assert all(fields["source_stream"] == streams.auth and fields["error"]
               for _, fields in dead)


async def test_only_one_of_many_writers_of_the_same_version_wins(
        pool: asyncpg.Pool, tenant_id: str) -> None:
    store, user_id = PreferenceStore(pool), str(uuid.uuid4())
    first, _ = await store.update(PreferenceUpdate(tenant_id, user_id, 0, {"n": 0}, ()))
    assert first.preferences.version == 1

    async def write(n: int) -> int | Aborted:
        try:
            change, _ = await store.update(
                PreferenceUpdate(tenant_id, user_id, 1, {"n": n}, (), session_id=f"s{n}"))
        except Aborted as conflict:
            return conflict
        return change.preferences.version

    outcomes = await asyncio.gather(*(write(n) for n in range(1, 9)))
    assert [o for o in outcomes if not isinstance(o, Aborted)] == [2]
    conflicts = [o for o in outcomes if isinstance(o, Aborted)]
    assert len(conflicts) == 7
    assert all(c.metadata == {"expectedVersion": "1", "currentVersion": "2"} for c in conflicts)
    assert (await store.get(tenant_id, user_id)).version == 2


async def test_an_entry_that_fails_in_the_database_does_not_hold_back_its_batch(
        pool: asyncpg.Pool, redis: Redis, tenant_id: str, streams: Streams) -> None:
    user_id = str(uuid.uuid4())
    good = login_events(tenant_id, user_id, 3)
    bad = new_event("auth.login_succeeded", tenant_id, user_id,
                    {"sessionId": "s", "userAgent": "nul\x00byte", "method": "password"})
    await publish(redis, streams.auth, [good[0], bad, *good[1:]])
    settings = streams.settings("replica-a", claim_idle_ms=100, max_deliveries=2)
    async with running(ActivityConsumer(redis, pool, settings)):
        ids = await wait_until_recorded(pool, tenant_id, user_id, 3)
        await wait_until_acknowledged(redis, streams)
    assert sorted(ids) == sorted(e.event_id for e in good)
    dead = await redis.xrange(streams.dead_letter)
    assert [fields["event_id"] for _, fields in dead] == [bad.event_id]
