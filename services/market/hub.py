"""Fan quotes out to this replica's subscribers, from one Redis pub/sub connection.

Every replica hears every quote on Redis (whichever replica ingested it) and hands it to its
local subscribers. A subscriber that falls behind is conflated: it keeps only the latest quote
per symbol, so a slow client never blocks the others nor grows memory beyond its symbol count.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Iterable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.market.domain.quotes import Quote

log = logging.getLogger("tradesage.market.hub")

CHANNEL_PREFIX = "quotes."


def channel(symbol: str) -> str:
    """Return the pub/sub channel of `symbol`."""
    return f"{CHANNEL_PREFIX}{symbol}"


class Subscription:
    """One client's view of the stream: the symbols it wants and what it has not taken yet."""

    def __init__(self, symbols: Iterable[str]) -> None:
        self.id = secrets.token_hex(8)
        self.symbols = set(symbols)
        self._pending: dict[str, Quote] = {}
        self._conflated = False
        self._ready = asyncio.Event()

    def offer(self, quote: Quote) -> None:
        """Keep `quote` for delivery, replacing an undelivered one of the same symbol."""
        if quote.symbol in self._pending:
            self._conflated = True
        self._pending[quote.symbol] = quote
        self._ready.set()

    async def next_batch(self, timeout: float) -> tuple[list[Quote], bool]:
        """Wait up to `timeout` s; return the pending quotes and whether any were dropped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
        batch, conflated = list(self._pending.values()), self._conflated
        self._pending, self._conflated = {}, False
        self._ready.clear()
        return batch, conflated


class QuoteHub:
    """Route quotes from Redis pub/sub to local subscriptions."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._by_symbol: dict[str, set[Subscription]] = {}

    def subscribe(self, symbols: Iterable[str]) -> Subscription:
        """Register a subscription for `symbols`."""
        subscription = Subscription(symbols)
        for symbol in subscription.symbols:
            self._by_symbol.setdefault(symbol, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a subscription (its stream ended)."""
        for symbol in subscription.symbols:
            self._by_symbol.get(symbol, set()).discard(subscription)

    @property
    def subscriber_count(self) -> int:
        """Return how many subscriptions are registered."""
        return len({s for subs in self._by_symbol.values() for s in subs})

    def dispatch(self, quote: Quote) -> None:
        """Offer `quote` to every subscription of its symbol."""
        for subscription in self._by_symbol.get(quote.symbol, ()):
            subscription.offer(quote)

    async def run(self) -> None:
        """Listen to every quote channel until cancelled, reconnecting after Redis failures."""
        while True:
            try:
                await self._listen()
            except RedisError as error:
                log.warning("quote channel lost; reconnecting", extra={"error": str(error)})
                await asyncio.sleep(0.5)

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
        try:
            async for message in _messages(pubsub):
                self.dispatch(Quote.from_json(message))
        finally:
            await pubsub.aclose()


async def _messages(pubsub: object) -> AsyncIterator[str]:
    async for message in pubsub.listen():  # type: ignore[attr-defined]
        if message.get("type") == "pmessage":
            yield message["data"]
