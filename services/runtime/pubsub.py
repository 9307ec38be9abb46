"""Following Redis (Valkey) pub/sub channels for as long as a service runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("tradesage.pubsub")

RECONNECT_SECONDS = 0.5

Handler = Callable[[str], Awaitable[None]]


async def follow_pattern(redis: Redis, pattern: str, handle: Handler, *,
                         subscribed: Callable[[], None] | None = None,
                         lost: Callable[[], None] | None = None) -> None:
    """Pass each message published on channels matching `pattern` to `handle`, until cancelled.

    A lost connection is re-made after RECONNECT_SECONDS; messages published meanwhile are
    missed (pub/sub keeps nothing), so `subscribed` (the server confirmed the subscription)
    and `lost` let a caller track when it may be behind.
    """
    while True:
        pubsub = redis.pubsub()
        try:
            await pubsub.psubscribe(pattern)
            async for message in pubsub.listen():
                kind = message.get("type")
                if kind == "psubscribe" and subscribed is not None:
                    subscribed()
                elif kind == "pmessage":
                    await handle(message["data"])
        except RedisError as error:
            log.warning("pub/sub connection lost; reconnecting",
                        extra={"pattern": pattern, "error": str(error)})
        finally:
            if lost is not None:
                lost()
            await pubsub.aclose()
        await asyncio.sleep(RECONNECT_SECONDS)
