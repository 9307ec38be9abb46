"""The Redis (Valkey) client shared by a service."""

from __future__ import annotations

import asyncio

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError

# Connections per service process. A burst of calls waits up to POOL_WAIT_SECONDS for one to
# come free rather than failing at once (the default pool refuses the 101st). A stream that
# subscribes to pub/sub holds one for its lifetime.
MAX_CONNECTIONS = 256
POOL_WAIT_SECONDS = 5.0


async def connect_redis(url: str, *, attempts: int = 30) -> Redis:
    """Connect and PING, retrying while the server is still starting."""
    pool = BlockingConnectionPool.from_url(
        url, decode_responses=True, health_check_interval=30,
        max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECONDS)
    client = Redis(connection_pool=pool)
    for attempt in range(1, attempts + 1):
        try:
            await client.ping()
            return client
        except (RedisConnectionError, OSError):
            if attempt == attempts:
                await client.aclose()
                raise
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")
