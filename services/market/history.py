"""Price history in PostgreSQL: the quote recorder, bar queries, partitions and retention.

One recorder per cluster listens to every quote on Redis pub/sub and writes them every 200 ms
in one transaction: the quotes by COPY and their 1-minute bars by one upsert that merges with
what earlier batches stored. Replicas elect the recorder with a PostgreSQL advisory lock held
on the connection it writes with, so a recorder that loses its database also loses the lead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.market.domain.bars import Bar, Interval, Tick, aggregate
from services.market.domain.quotes import Quote
from services.market.hub import channel

log = logging.getLogger("tradesage.market.history")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_MS = 3_600_000
TABLES = {"quotes": "quote_time", "bars_1m": "start_time"}
# The feed carries no trade sizes, so each quote counts as one print of its last price:
# volume is tick volume, as FX venues report it.
TICK_SIZE = Decimal(1)

_RECORDER_LOCK = "tradesage:market:recorder"
_PARTITION_LOCK = "tradesage:market:partitions"
_PARTITION_NAME = re.compile(r"^(?P<table>quotes|bars_1m)_p(?P<day>\d{8})$")
_QUOTE_COLUMNS = ("symbol", "quote_time", "sequence", "bid", "ask", "bid_size", "ask_size",
                  "last")

_UPSERT_BARS = """
INSERT INTO market.bars_1m AS b
    (symbol, start_time, open, high, low, close, volume, turnover, trade_count,
     first_time, last_time)
SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::numeric[], $4::numeric[],
                     $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[], $9::bigint[],
                     $10::timestamptz[], $11::timestamptz[])
ON CONFLICT (symbol, start_time) DO UPDATE SET
    open = CASE WHEN excluded.first_time < b.first_time THEN excluded.open ELSE b.open END,
    high = greatest(b.high, excluded.high),
    low = least(b.low, excluded.low),
    close = CASE WHEN excluded.last_time >= b.last_time THEN excluded.close ELSE b.close END,
    volume = b.volume + excluded.volume,
    turnover = b.turnover + excluded.turnover,
    trade_count = b.trade_count + excluded.trade_count,
    first_time = least(b.first_time, excluded.first_time),
    last_time = greatest(b.last_time, excluded.last_time)
"""

_BAR_COLUMNS = """open, high, low, close, volume, turnover, trade_count, first_time, last_time"""

_MINUTE_BARS = f"""
SELECT start_time AS bucket, {_BAR_COLUMNS} FROM market.bars_1m
WHERE symbol = $1 AND start_time >= $2 AND start_time < $3
ORDER BY start_time {{order}} LIMIT $4
"""

# Buckets whose start lies in [$2, $3); a bucket starting before $3 may hold minutes up to one
# interval later, hence the wider scan ($5). Only whole buckets are returned: a bucket that
# starts before $2 is left out rather than served with part of its minutes.
_ROLLED_BARS = """
SELECT bucket,
       (array_agg(open ORDER BY start_time))[1] AS open, max(high) AS high, min(low) AS low,
       (array_agg(close ORDER BY start_time DESC))[1] AS close, sum(volume) AS volume,
       sum(turnover) AS turnover, sum(trade_count)::bigint AS trade_count,
       min(first_time) AS first_time, max(last_time) AS last_time
FROM (SELECT {bucket} AS bucket, * FROM market.bars_1m
      WHERE symbol = $1 AND start_time >= $2::timestamptz
            AND start_time < $3::timestamptz + $5::interval) AS minute
GROUP BY bucket HAVING bucket >= $2 AND bucket < $3
ORDER BY bucket {order} LIMIT $4
"""
_INTRADAY_BUCKET = "date_bin($6::interval, start_time, TIMESTAMPTZ 'epoch')"
_DAY_BUCKET = "date_trunc('day', start_time, $6::text)"


def to_datetime(time_ms: int) -> datetime:
    """Return the UTC datetime of milliseconds since the epoch, exactly."""
    return EPOCH + timedelta(milliseconds=time_ms)


def to_ms(moment: datetime) -> int:
    """Return milliseconds since the epoch of an aware datetime."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def tick_of(quote: Quote) -> Tick:
    """Return the print a quote stands for."""
    return Tick(quote.symbol, quote.time_ms, Decimal(quote.last), TICK_SIZE)


class HistoryStore:
    """Reads and writes the quote and bar history, and manages its partitions."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._ready_days: set[date] = set()
        self._native: bool | None = None

    async def write(self, connection: asyncpg.Connection, quotes: Sequence[Quote]) -> None:
        """Store `quotes` and fold them into the 1-minute bars, atomically."""
        await self._ensure_days({to_datetime(q.time_ms).date() for q in quotes}, connection)
        bars = aggregate(tick_of(q) for q in quotes)
        async with connection.transaction():
            await connection.copy_records_to_table(
                "quotes", schema_name="market", columns=_QUOTE_COLUMNS,
                records=[_quote_record(q) for q in quotes])
            await connection.execute(_UPSERT_BARS, *_bar_columns(bars))

    async def bars(self, symbol: str, interval: Interval, start_ms: int, end_ms: int,
                   limit: int, time_zone: str = "UTC", newest_first: bool = False) -> list[Bar]:
        """Return up to `limit` bars of `interval` starting in [start_ms, end_ms), by time."""
        order = "DESC" if newest_first else "ASC"
        args: list[object] = [symbol, to_datetime(start_ms), to_datetime(end_ms), limit]
        if interval is Interval.ONE_MINUTE:
            sql = _MINUTE_BARS.format(order=order)
        else:
            day = interval is Interval.ONE_DAY
            sql = _ROLLED_BARS.format(bucket=_DAY_BUCKET if day else _INTRADAY_BUCKET,
                                      order=order)
            args += [timedelta(milliseconds=interval.ms + HOUR_MS),
                     time_zone if day else timedelta(milliseconds=interval.ms)]
        rows = await self._pool.fetch(sql, *args)
        return [_bar_of(symbol, row) for row in rows]

    async def bars_before(self, symbol: str, interval: Interval, before_ms: int, count: int,
                          time_zone: str = "UTC") -> list[Bar]:
        """Return up to `count` bars starting in the `count` intervals before `before_ms`."""
        if count <= 0:
            return []
        start_ms = before_ms - count * interval.ms
        newest = await self.bars(symbol, interval, start_ms, before_ms, count, time_zone,
                                 newest_first=True)
        return newest[::-1]

    async def ensure_partitions(self, first: date, days: int) -> list[str]:
        """Create the daily partitions of `days` days from `first` that are missing."""
        async with self._pool.acquire() as connection:
            return await self._create_partitions(
                connection, [first + timedelta(days=n) for n in range(days)])

    async def drop_expired(self, retention_days: int, now: datetime) -> list[str]:
        """Drop the partitions (or chunks) whose rows are all older than the retention."""
        cutoff = (now - timedelta(days=retention_days)).astimezone(UTC)
        async with self._pool.acquire() as connection:
            if not await self._is_native(connection):
                for table in TABLES:
                    await connection.execute(
                        f"SELECT drop_chunks('market.{table}', older_than => $1)", cutoff)
                return []
            return await self._drop_partitions(connection, cutoff.date())

    async def partitions(self) -> dict[str, list[date]]:
        """Return the days that have a partition, per table."""
        rows = await self._pool.fetch(
            """SELECT c.relname FROM pg_inherits i
               JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
               WHERE p.relnamespace = 'market'::regnamespace AND p.relname = ANY($1)""",
            list(TABLES))
        found: dict[str, list[date]] = {table: [] for table in TABLES}
        for row in rows:
            if match := _PARTITION_NAME.match(row["relname"]):
                day = datetime.strptime(match["day"], "%Y%m%d").date()
                found[match["table"]].append(day)
        return {table: sorted(days) for table, days in found.items()}

    async def _ensure_days(self, days: set[date], connection: asyncpg.Connection) -> None:
        if missing := days - self._ready_days:
            await self._create_partitions(connection, sorted(missing))

    async def _create_partitions(self, connection: asyncpg.Connection,
                                 days: Sequence[date]) -> list[str]:
        created: list[str] = []
        if not await self._is_native(connection):
            return created
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))",
                                     _PARTITION_LOCK)
            for day in days:
                for table in TABLES:
                    if await _create_partition(connection, table, day):
                        created.append(_partition_name(table, day))
        self._ready_days.update(days)
        return created

    async def _drop_partitions(self, connection: asyncpg.Connection, cutoff: date) -> list[str]:
        expired = [_partition_name(table, day) for table, days in (await self.partitions()).items()
                   for day in days if day + timedelta(days=1) <= cutoff]
        for name in expired:
            async with connection.transaction():
                # Dropping a partition locks its parent: give up rather than stall the recorder.
                await connection.execute("SET LOCAL lock_timeout = '2s'")
                await connection.execute(f"DROP TABLE IF EXISTS market.{name}")
        self._ready_days = {d for d in self._ready_days if d >= cutoff}
        return expired

    async def _is_native(self, connection: asyncpg.Connection) -> bool:
        if self._native is None:
            self._native = await connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table"
                " WHERE partrelid = 'market.quotes'::regclass)")
        return bool(self._native)


class QuoteRecorder:
    """Record every published quote into the history, while this replica holds the lead."""

    def __init__(self, store: HistoryStore, pool: asyncpg.Pool, redis: Redis,
                 flush_seconds: float = 0.2, standby_seconds: float = 5.0) -> None:
        self._store = store
        self._pool = pool
        self._redis = redis
        self._flush_seconds = flush_seconds
        self._standby_seconds = standby_seconds
        self.recorded = 0
        self.leading = False

    async def run(self) -> None:
        """Record while leading; otherwise stand by and retry, until cancelled."""
        while True:
            try:
                async with self._pool.acquire() as connection:
                    if await connection.fetchval("SELECT pg_try_advisory_lock(hashtext($1))",
                                                 _RECORDER_LOCK):
                        await self._lead(connection)
            except (OSError, RedisError, asyncpg.InterfaceError, asyncpg.PostgresError) as error:
                log.warning("quote recorder lost a store; retrying", extra={"error": str(error)})
            except Exception:  # a bug must not end recording for good: log it and start over
                log.exception("quote recorder failed; restarting")
            finally:
                self.leading = False
            await asyncio.sleep(self._standby_seconds)

    async def _lead(self, connection: asyncpg.Connection) -> None:
        # The lock lives as long as this session; the pool's reset on release unlocks it.
        self.leading = True
        log.info("quote recorder leading")
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.psubscribe(channel("*"))
        try:
            while True:
                if batch := await _collect(pubsub, self._flush_seconds):
                    await self._flush(connection, batch)
        finally:
            await pubsub.aclose()

    async def _flush(self, connection: asyncpg.Connection, batch: list[Quote]) -> None:
        try:
            await self._store.write(connection, batch)
            self.recorded += len(batch)
        except asyncpg.PostgresError as error:  # e.g. a bad row: lose this batch, not the lead
            log.error("quote batch not recorded", extra={"error": str(error),
                                                         "quotes": len(batch)})


async def maintain_partitions(store: HistoryStore, retention_days: int,
                              every_seconds: float = 3600.0, ahead_days: int = 3) -> None:
    """Create the coming days' partitions and drop expired ones, now and every hour."""
    while True:
        try:
            now = datetime.now(UTC)
            await store.ensure_partitions(now.date(), ahead_days)
            dropped = await store.drop_expired(retention_days, now)
            if dropped:
                log.info("history partitions dropped", extra={"partitions": dropped})
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("history maintenance failed", extra={"error": str(error)})
        await asyncio.sleep(every_seconds)


def background_jobs(store: HistoryStore, pool: asyncpg.Pool,
                    redis: Redis) -> list[Callable[[], Awaitable[None]]]:
    """Return the recorder and the partition maintenance, as the environment configures them.

    TRADESAGE_MARKET_RECORD: "on" (default) or "off" (a replica that never records).
    TRADESAGE_MARKET_RETENTION_DAYS: days of history kept (default 30).
    """
    retention = int(os.environ.get("TRADESAGE_MARKET_RETENTION_DAYS", "30"))
    if retention < 1:
        raise ValueError("TRADESAGE_MARKET_RETENTION_DAYS must be at least 1")
    jobs: list[Callable[[], Awaitable[None]]] = [
        lambda: maintain_partitions(store, retention)]
    if os.environ.get("TRADESAGE_MARKET_RECORD", "on") != "off":
        jobs.append(QuoteRecorder(store, pool, redis).run)
    return jobs


async def _collect(pubsub: object, seconds: float) -> list[Quote]:
    """Return the quotes heard within `seconds`."""
    loop = asyncio.get_running_loop()
    deadline, quotes = loop.time() + seconds, []
    while (left := deadline - loop.time()) > 0:
        message = await pubsub.get_message(  # type: ignore[attr-defined]
            ignore_subscribe_messages=True, timeout=left)
        if message and message.get("type") == "pmessage":
            try:
                quotes.append(Quote.from_json(message["data"]))
            except (TypeError, ValueError):  # not a quote: skip it, keep the others
                log.warning("unreadable quote skipped", extra={"channel": message["channel"]})
    return quotes


async def _create_partition(connection: asyncpg.Connection, table: str, day: date) -> bool:
    name = _partition_name(table, day)
    exists = await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", f"market.{name}")
    if not exists:
        await connection.execute(
            f"CREATE TABLE market.{name} PARTITION OF market.{table}"
            f" FOR VALUES FROM ('{day.isoformat()} 00:00+00')"
            f" TO ('{(day + timedelta(days=1)).isoformat()} 00:00+00')")
    return not exists


def _partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def _quote_record(quote: Quote) -> tuple[object, ...]:
    return (quote.symbol, to_datetime(quote.time_ms), quote.sequence, Decimal(quote.bid),
            Decimal(quote.ask), Decimal(quote.bid_size), Decimal(quote.ask_size),
            Decimal(quote.last))


def _bar_columns(bars: Sequence[Bar]) -> list[list[object]]:
    return [
        [b.symbol for b in bars], [to_datetime(b.start_ms) for b in bars],
        [b.open for b in bars], [b.high for b in bars], [b.low for b in bars],
        [b.close for b in bars], [b.volume for b in bars], [b.turnover for b in bars],
        [b.trade_count for b in bars], [to_datetime(b.first_ms) for b in bars],
        [to_datetime(b.last_ms) for b in bars],
    ]


def _bar_of(symbol: str, row: asyncpg.Record) -> Bar:
    return Bar(symbol=symbol, start_ms=to_ms(row["bucket"]), open=row["open"], high=row["high"],
               low=row["low"], close=row["close"], volume=row["volume"],
               turnover=row["turnover"], trade_count=row["trade_count"],
               first_ms=to_ms(row["first_time"]), last_ms=to_ms(row["last_time"]))
