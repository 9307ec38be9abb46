"""The Redis (Valkey) client shared by a service."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError


async def connect_redis(url: str, *, attempts: int = 30) -> Redis:
    """Connect and PING, retrying while the server is still starting."""
    client = Redis.from_url(url, decode_responses=True, health_check_interval=30)
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
