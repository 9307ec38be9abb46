"""Relay the trading outbox to the Redis stream `events:trading`.

Events are written to each tenant's `outbox` table in the transaction that caused them; this
relay publishes them in id order and stamps `publish_time`. The engine wakes it after every
commit (commits close together share one drain); a sweep over every tenant at start and then
every `SWEEP_SECONDS` publishes whatever a crash left behind. Publishing then stamping means a
crash in between publishes an event twice; consumers deduplicate by `event_id` (the user
service's activity log does). The stream entry format is the one documented in
`services/user/activity_consumer.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.runtime.tenancy import tenant_transaction

log = logging.getLogger("tradesage.trading.outbox")

STREAM = "events:trading"
MAX_STREAM_LENGTH = 1_000_000
BATCH = 500
SWEEP_SECONDS = 30.0
# After a wake, commits arriving this soon share the drain (one transaction per tenant).
COALESCE_SECONDS = 0.05


class OutboxRelay:
    """Publish tenants' unpublished outbox rows, woken per tenant after each commit."""

    def __init__(self, pool: asyncpg.Pool, redis: Redis) -> None:
        self._pool, self._redis = pool, redis
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()

    def wake(self, tenant_id: str) -> None:
        """Note that `tenant_id` has new outbox rows."""
        self._dirty.add(tenant_id)
        self._wake.set()

    async def run(self) -> None:
        """Publish until cancelled: woken tenants at once, every tenant on each sweep."""
        await self._sweep()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), SWEEP_SECONDS)
            except TimeoutError:
                await self._sweep()
                continue
            await asyncio.sleep(COALESCE_SECONDS)
            self._wake.clear()
            tenants, self._dirty = self._dirty, set()
            for tenant in tenants:
                if not await self._drain(tenant):
                    self._dirty.add(tenant)  # retried on the next wake or sweep

    async def _sweep(self) -> None:
        try:
            rows = await self._pool.fetch("SELECT id FROM platform.tenants ORDER BY id")
        except (asyncpg.PostgresError, OSError) as error:
            log.warning("outbox sweep failed", extra={"error": str(error)})
            return
        for row in rows:
            await self._drain(str(row["id"]))

    async def _drain(self, tenant: str) -> bool:
        """Publish a tenant's pending events; return False if it must be retried."""
        try:
            while await self._publish_batch(tenant) == BATCH:
                pass
        except (asyncpg.PostgresError, OSError, RedisError) as error:
            log.warning("outbox relay failed", extra={"tenantId": tenant, "error": str(error)})
            return False
        return True

    async def _publish_batch(self, tenant: str) -> int:
        async with tenant_transaction(self._pool, tenant) as connection:
            rows = await connection.fetch(
                "SELECT id, event_id, event_type, payload FROM outbox"
                " WHERE publish_time IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", BATCH)
            if not rows:
                return 0
            async with self._redis.pipeline(transaction=False) as pipe:
                for row in rows:
                    payload = json.loads(row["payload"])
                    pipe.xadd(STREAM, {
                        "event_id": str(row["event_id"]), "kind": row["event_type"],
                        "tenant_id": tenant, "user_id": payload["userId"],
                        "time": payload["time"],
                        "details": json.dumps(payload["details"], separators=(",", ":")),
                    }, maxlen=MAX_STREAM_LENGTH, approximate=True)
                await pipe.execute()
            await connection.execute(
                "UPDATE outbox SET publish_time = now() WHERE id = ANY($1::bigint[])",
                [r["id"] for r in rows])
            return len(rows)
