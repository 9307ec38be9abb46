"""Live updates for the owner's streams, fanned out across replicas through Valkey pub/sub.

After a command commits, each order event goes to its owner's channel and each touched
portfolio gets a change notice on its own channel. A stream subscribes to the channels of
its caller only, so no user can hear another's orders or portfolios.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError
from tradesage.trading.v1 import trading_resources_pb2 as pb

from services.runtime.timestamps import to_timestamp
from services.trading.converters import event_to_proto, ledger_to_proto
from services.trading.settlement import Outcome

log = logging.getLogger("tradesage.trading.updates")


def orders_channel(tenant_id: str, user_id: str) -> str:
    """Return the channel of a user's order events."""
    return f"trading-orders:{tenant_id}:{user_id}"


def portfolio_channel(tenant_id: str, portfolio_id: str) -> str:
    """Return the channel of a portfolio's change notices."""
    return f"trading-portfolio:{tenant_id}:{portfolio_id}"


class Updates:
    """Publish committed changes; subscribe a stream to one channel."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def publish(self, messages: list[tuple[str, bytes]]) -> None:
        """Publish (channel, message bytes) pairs; a Redis failure only loses live updates."""
        if not messages:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel, data in messages:
                    pipe.publish(channel, base64.b64encode(data).decode())
                await pipe.execute()
        except RedisError as error:
            log.warning("live updates not published", extra={"error": str(error)})

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[bytes]]:
        """Yield a queue of the messages published on `channel` while the block runs."""
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=10_000)
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)

        async def pump() -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    with contextlib.suppress(asyncio.QueueFull):
                        queue.put_nowait(base64.b64decode(message["data"]))

        task = asyncio.create_task(pump())
        try:
            yield queue
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError):
                await task
            with contextlib.suppress(RedisError):
                await pubsub.aclose()


def outcome_messages(tenant_id: str, outcome: Outcome) -> list[tuple[str, bytes]]:
    """Return the live updates of a committed command: order events, portfolio notices."""
    messages = []
    for order, event, trade in outcome.events:
        message = event_to_proto(event.id, event.type.value, event.reason, event.snapshot,
                                 event.time, event.time, trade)
        messages.append((orders_channel(tenant_id, order.user_id), message.SerializeToString()))
    for portfolio_id in outcome.portfolios | set(outcome.positions):
        notice = with_ledger(pb.PortfolioUpdate(update_time=to_timestamp(datetime.now(UTC))), [
            ledger_to_proto(e) for e in outcome.ledger if e.portfolio_id == portfolio_id])
        if (position := outcome.positions.get(portfolio_id)) is not None:
            notice.positions.add(symbol=position.symbol)
        messages.append((portfolio_channel(tenant_id, portfolio_id), notice.SerializeToString()))
    return messages


def with_ledger(update: pb.PortfolioUpdate, entries: list[pb.LedgerEntry]) -> pb.PortfolioUpdate:
    """Add the ledger entries a change booked to `update` (and the last one, for old clients)."""
    update.ledger_entries.extend(entries)
    if entries:
        update.ledger_entry.CopyFrom(entries[-1])
    return update
