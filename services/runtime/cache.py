"""The Redis (Valkey) client shared by a service."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

# Connections for commands per service process. A burst of calls waits up to
# POOL_WAIT_SECONDS for one to come free rather than failing at once (the default pool
# refuses the 101st).
MAX_CONNECTIONS = 256
POOL_WAIT_SECONDS = 5.0
# Connections for pub/sub subscriptions, one per open stream (a client's SSE or gRPC stream).
MAX_SUBSCRIPTIONS = 10_000


class StoreClient(Redis):
    """A Redis client whose pub/sub subscriptions draw on a pool of their own.

    A stream holds its subscription's connection for as long as it is open; drawn from the
    command pool, a few hundred open streams would leave every command waiting.
    """

    subscriptions: ConnectionPool

    def pubsub(self, **kwargs: Any) -> PubSub:
        """Return a Publish/Subscribe object on the subscription pool."""
        return PubSub(self.subscriptions, **kwargs)

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        """Close the client, its command pool and its subscription pool."""
        await super().aclose(close_connection_pool)
        await self.subscriptions.aclose()


async def connect_redis(url: str, *, attempts: int = 30) -> Redis:
    """Connect and PING, retrying while the server is still starting."""
    options: dict[str, Any] = {"decode_responses": True, "health_check_interval": 30}
    client = StoreClient.from_pool(BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECONDS, **options))
    client.subscriptions = ConnectionPool.from_url(url, max_connections=MAX_SUBSCRIPTIONS,
                                                   **options)
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
