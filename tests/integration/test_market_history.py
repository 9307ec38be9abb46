"""Market history on the mesh's PostgreSQL and Valkey: recorder, partitions, replay, paging.

Each test works on symbols of its own (e.g. "ZH1A2B3C"), so the mesh's simulated feed, which
the same recorder records, never mixes into what a test checks.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import pytest
from redis.asyncio import Redis
from tradesage.market.v1 import market_resources_pb2 as pb
from tradesage.market.v1 import market_service_pb2 as api

from mesh.supervisor import Mesh
from services.market.domain.bars import Interval, aggregate, roll_up
from services.market.domain.quotes import Instrument, Quote
from services.market.history import HistoryStore, tick_of
from services.market.history_servicer import HistoryRpcs
from services.market.hub import channel
from services.market.replay import ReplayFeed, parse_csv
from services.market.store import QuoteBook
from services.runtime.errors import InvalidArgument

MINUTE = 60_000
RECORD_WAIT = 10.0


def _symbol(prefix: str = "ZH") -> str:
    return f"{prefix}{uuid.uuid4().hex[:6].upper()}"


def _minute_ago(days: int) -> int:
    """Return a whole minute `days` days before now, in ms."""
    now = int(time.time() * 1000) - days * 86_400_000
    return now - now % MINUTE


def _quotes(symbol: str, start_ms: int, count: int, step_ms: int) -> list[Quote]:
    """Return a zig-zag of prices around 100 on the cent grid, one quote every `step_ms`."""
    quotes = []
    for n in range(count):
        last = Decimal("100.00") + Decimal((n * 37) % 101 - 50) / 100
        quotes.append(Quote(symbol=symbol, bid=str(last - Decimal("0.01")),
                            ask=str(last + Decimal("0.01")), bid_size="100", ask_size="200",
                            last=str(last), time_ms=start_ms + n * step_ms, sequence=n + 1))
    return quotes


@pytest.fixture(scope="module")
async def pool(mesh: Mesh) -> AsyncIterator[asyncpg.Pool]:
    """Return a pool on the mesh's database, where the market service keeps its history."""
    connections = await asyncpg.create_pool(mesh.database_url, min_size=1, max_size=4)
    yield connections
    await connections.close()


@pytest.fixture(scope="module")
async def redis(mesh: Mesh) -> AsyncIterator[Redis]:
    """Return a client of the mesh's Valkey, where quotes are published."""
    client = Redis.from_url(mesh.redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def _wait_recorded(pool: asyncpg.Pool, symbol: str, count: int) -> None:
    deadline = time.monotonic() + RECORD_WAIT
    while time.monotonic() < deadline:
        if await pool.fetchval("SELECT count(*) FROM market.quotes WHERE symbol = $1",
                               symbol) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the recorder did not record {count} quotes of {symbol}")


async def test_recorded_quotes_make_the_bars_a_direct_computation_gives(
        pool: asyncpg.Pool, redis: Redis) -> None:
    symbol, start = _symbol(), _minute_ago(days=1)
    quotes = _quotes(symbol, start + 1_500, count=240, step_ms=1_000)  # four minutes
    book = QuoteBook(redis)
    for n in range(0, len(quotes), 30):  # as a feed would: a batch at a time
        await book.publish(quotes[n:n + 30])
        await asyncio.sleep(0.05)
    await _wait_recorded(pool, symbol, len(quotes))

    stored = await HistoryStore(pool).bars(symbol, Interval.ONE_MINUTE, start - MINUTE,
                                           start + 10 * MINUTE, 100)
    expected = aggregate(tick_of(q) for q in quotes)
    assert stored == expected
    assert [b.trade_count for b in stored] == [59, 60, 60, 60, 1]

    # And the same again from the raw quotes in SQL, independent of the domain code.
    direct = await pool.fetch(
        """SELECT date_bin('1 minute', quote_time, 'epoch') AS start,
                  (array_agg(last ORDER BY quote_time))[1] AS open, max(last) AS high,
                  min(last) AS low, (array_agg(last ORDER BY quote_time DESC))[1] AS close,
                  count(*) AS n
           FROM market.quotes WHERE symbol = $1 GROUP BY 1 ORDER BY 1""", symbol)
    assert [(r["open"], r["high"], r["low"], r["close"], r["n"]) for r in direct] == [
        (b.open, b.high, b.low, b.close, b.trade_count) for b in stored]


async def test_wider_bars_roll_up_in_sql_as_in_the_domain(pool: asyncpg.Pool) -> None:
    symbol, start = _symbol(), _minute_ago(days=2)
    quotes = _quotes(symbol, start - 95 * MINUTE, count=400, step_ms=17_000)
    store = HistoryStore(pool)
    async with pool.acquire() as connection:
        for n in range(0, len(quotes), 64):
            await store.write(connection, quotes[n:n + 64])
    minute_bars = aggregate(tick_of(q) for q in quotes)

    for interval in (Interval.FIVE_MINUTES, Interval.FIFTEEN_MINUTES, Interval.ONE_HOUR,
                     Interval.ONE_DAY):
        zone = "America/New_York"
        rolled = [b for b in roll_up(minute_bars, interval, zone)
                  if b.start_ms >= quotes[0].time_ms]  # whole buckets only
        stored = await store.bars(symbol, interval, quotes[0].time_ms,
                                  quotes[-1].time_ms + 1, 1_000, zone)
        assert stored == [b for b in rolled if b.start_ms <= quotes[-1].time_ms], interval


async def test_partitions_exist_ahead_and_retention_drops_old_days(
        pool: asyncpg.Pool) -> None:
    store = HistoryStore(pool)
    today = datetime.now(UTC).date()
    assert {today + timedelta(days=n) for n in range(3)} <= set(
        (await store.partitions())["quotes"])  # made by the service at start-up

    old, kept = today - timedelta(days=40), today - timedelta(days=29)
    symbol = _symbol()
    async with pool.acquire() as connection:
        for day in (old, kept):
            noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
            await store.write(connection, _quotes(symbol, int(noon.timestamp() * 1000), 3, 1))
    assert {old, kept} <= set((await store.partitions())["bars_1m"])

    dropped = await store.drop_expired(30, datetime.now(UTC))

    assert f"quotes_p{old:%Y%m%d}" in dropped and f"bars_1m_p{old:%Y%m%d}" in dropped
    left = await store.partitions()
    assert old not in left["quotes"] and old not in left["bars_1m"]
    assert kept in left["quotes"] and today in left["bars_1m"]
    days = await pool.fetch("SELECT DISTINCT quote_time::date AS day FROM market.quotes"
                            " WHERE symbol = $1", symbol)
    assert [r["day"] for r in days] == [kept]


async def test_history_tables_are_natively_partitioned_without_timescaledb(
        pool: asyncpg.Pool) -> None:
    assert await pool.fetchval(
        "SELECT count(*) FROM pg_partitioned_table WHERE partrelid IN"
        " ('market.quotes'::regclass, 'market.bars_1m'::regclass)") == 2
    assert not await pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')")


@pytest.mark.parametrize("speed", [4.0, 0.0])
async def test_replay_publishes_the_file_in_order_at_the_requested_speed(
        redis: Redis, speed: float) -> None:
    symbols = [_symbol("ZR"), _symbol("ZR")]
    # 21 instants 100 ms apart (2 s of file time), both symbols at each.
    lines = ["time,symbol,bid,ask,bid_size,ask_size,last\n"]
    for n in range(21):
        stamp = (datetime(2026, 1, 5, 14, 30, tzinfo=UTC) + timedelta(milliseconds=100 * n))
        lines += [f"{stamp.isoformat()},{s},{100 + n}.00,{100 + n}.02,1,1,{100 + n}.01\n"
                  for s in symbols]
    feed = ReplayFeed(parse_csv(lines), speed=speed)
    heard: list[tuple[float, Quote]] = []
    listener = asyncio.create_task(_listen(redis, symbols, heard, expect=42))
    await asyncio.sleep(0.2)  # subscribed

    started = time.monotonic()
    await feed.run(QuoteBook(redis).publish)
    elapsed = time.monotonic() - started
    await asyncio.wait_for(listener, 5)

    if speed:
        assert 2.0 / speed * 0.9 <= elapsed <= 2.0 / speed + 0.4
        spread = heard[-1][0] - heard[0][0]
        assert 2.0 / speed * 0.8 <= spread <= 2.0 / speed + 0.4
    else:
        assert elapsed < 0.4
    for symbol in symbols:
        mine = [q for _, q in heard if q.symbol == symbol]
        assert [q.last for q in mine] == [f"{100 + n}.01" for n in range(21)]
        assert [q.sequence for q in mine] == list(range(1, 22))


async def _listen(redis: Redis, symbols: list[str], heard: list[tuple[float, Quote]],
                  expect: int) -> None:
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(*(channel(s) for s in symbols))
    try:
        while len(heard) < expect:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message:
                heard.append((time.monotonic(), Quote.from_json(message["data"])))
    finally:
        await pubsub.aclose()


@pytest.fixture(scope="module")
async def paged(pool: asyncpg.Pool, redis: Redis) -> tuple[HistoryRpcs, str, int]:
    """Return the history RPCs over 30 minutes of stored quotes of a symbol of their own."""
    symbol, start = _symbol(), _minute_ago(days=3)
    start -= start % (30 * MINUTE)  # so 5-minute bars cover the 30 minutes whole
    store = HistoryStore(pool)
    async with pool.acquire() as connection:
        await store.write(connection, _quotes(symbol, start, count=180, step_ms=10_000))
    instrument = Instrument(symbol, "Paged", "crypto", "SIMX", "USD", Decimal("0.01"),
                            Decimal("1"), Decimal("100"))
    rpcs = HistoryRpcs(history=store, quote_book=QuoteBook(redis),
                       instruments={symbol: instrument})
    return rpcs, symbol, start


def _request(kind: type, symbol: str, start: int, **fields: object) -> object:
    request = kind(symbol=symbol, interval=fields.pop("interval", pb.BAR_INTERVAL_ONE_MINUTE),
                   **fields)
    request.start_time.FromMilliseconds(start)
    request.end_time.FromMilliseconds(start + 30 * MINUTE)
    return request


async def _all_pages(call: object, request: object, items: str) -> list[list[object]]:
    pages = []
    while True:
        reply = await call(request, None)  # type: ignore[operator]
        pages.append(list(getattr(reply, items)))
        if not reply.next_page_token:
            return pages
        request.page_token = reply.next_page_token  # type: ignore[attr-defined]


async def test_bars_page_through_the_range_once_in_order(paged) -> None:
    rpcs, symbol, start = paged

    pages = await _all_pages(rpcs.ListBars, _request(api.ListBarsRequest, symbol, start,
                                                     page_size=7), "bars")
    five = await _all_pages(rpcs.ListBars, _request(
        api.ListBarsRequest, symbol, start, page_size=4,
        interval=pb.BAR_INTERVAL_FIVE_MINUTES), "bars")

    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    starts = [b.start_time.ToMilliseconds() for p in pages for b in p]
    assert starts == [start + n * MINUTE for n in range(30)]
    assert [len(p) for p in five] == [4, 2]
    assert sum(int(b.trade_count) for p in five for b in p) == 180


async def test_a_page_token_only_fits_its_own_query(paged) -> None:
    rpcs, symbol, start = paged
    first = await rpcs.ListBars(_request(api.ListBarsRequest, symbol, start, page_size=5), None)

    other = _request(api.ListBarsRequest, symbol, start, page_size=5,
                     interval=pb.BAR_INTERVAL_FIVE_MINUTES)
    other.page_token = first.next_page_token
    with pytest.raises(InvalidArgument) as caught:
        await rpcs.ListBars(other, None)
    assert [v.field for v in caught.value.violations] == ["page_token"]


async def test_indicator_pages_match_one_unpaged_computation(paged) -> None:
    rpcs, symbol, start = paged
    parameters = pb.IndicatorParameters(period=5)

    def request(page_size: int) -> api.ComputeIndicatorRequest:
        return _request(api.ComputeIndicatorRequest, symbol, start, page_size=page_size,
                        type=pb.INDICATOR_TYPE_SMA, parameters=parameters)

    whole = await _all_pages(rpcs.ComputeIndicator, request(100), "points")
    pages = await _all_pages(rpcs.ComputeIndicator, request(6), "points")

    assert len(whole) == 1 and len(whole[0]) == 26  # the first 4 bars have no 5-bar history
    assert [p.scalar for page in pages for p in page] == [p.scalar for p in whole[0]]
    assert len(pages[0]) == 2  # bars 5 and 6 of the first page of 6


async def test_recorder_batches_keep_up_with_the_feed(pool: asyncpg.Pool) -> None:
    # 8 symbols x 20 ticks/s for 200 ms is 32 quotes a batch; time a few hundred such batches.
    store, symbol = HistoryStore(pool), _symbol()
    start = _minute_ago(days=1)
    batches = [_quotes(symbol, start + n * 200, 32, 6) for n in range(100)]
    async with pool.acquire() as connection:
        began = time.perf_counter()
        for batch in batches:
            await store.write(connection, batch)
        per_batch = (time.perf_counter() - began) / len(batches)
    assert per_batch < 0.2, f"a batch takes {per_batch * 1000:.1f} ms, longer than its 200 ms"
    assert await pool.fetchval("SELECT count(*) FROM market.quotes WHERE symbol = $1",
                               symbol) == 3_200
