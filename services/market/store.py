"""Instruments in PostgreSQL and latest quotes in Redis."""

from __future__ import annotations

import asyncpg
from redis.asyncio import Redis

from services.market.domain.quotes import Instrument, Quote
from services.market.hub import channel


def _quote_key(symbol: str) -> str:
    return f"quote:{symbol}"


class InstrumentStore:
    """Reads the instrument catalogue."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def list(self, limit: int, after_symbol: str = "") -> list[Instrument]:
        """Return up to `limit` instruments ordered by symbol, after `after_symbol`."""
        rows = await self._pool.fetch(
            """SELECT symbol, name, asset_class, exchange, currency_code, tick_size, lot_size,
                      reference_price
               FROM market.instruments WHERE status = 'active' AND symbol > $1
               ORDER BY symbol LIMIT $2""", after_symbol, limit)
        return [Instrument(**dict(row)) for row in rows]


class QuoteBook:
    """The latest quote per symbol, shared by every replica through Redis."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def latest(self, symbols: list[str]) -> dict[str, Quote]:
        """Return the latest quote of each symbol that has one."""
        if not symbols:
            return {}
        raw = await self._redis.mget([_quote_key(s) for s in symbols])
        return {s: Quote.from_json(r) for s, r in zip(symbols, raw, strict=True) if r}

    async def publish(self, quotes: list[Quote]) -> None:
        """Store each quote as its symbol's latest and announce it to every replica."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for quote in quotes:
                payload = quote.to_json()
                pipe.set(_quote_key(quote.symbol), payload)
                pipe.publish(channel(quote.symbol), payload)
            await pipe.execute()
