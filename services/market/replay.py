"""A feed that replays recorded quotes from a CSV file, at real or accelerated speed.

The file has a header and one quote per row, oldest first:

    time,symbol,bid,ask,bid_size,ask_size,last
    2026-01-05T14:30:00.000Z,AAPL,189.49,189.51,300,1200,189.50

Rows with the same time are published together. The file's times set the pace only: each quote
goes out stamped with the time it is published and the next sequence number of its symbol, so
live clients, the recorder and the bars see a feed that is happening now (and a looped file
never goes back in time).

`python -m services.market.replay PATH` writes the sample file shipped in `data/`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from redis.exceptions import RedisError

from services.market.domain.quotes import Instrument, Quote, SimulatedVenue

log = logging.getLogger("tradesage.market.replay")

COLUMNS = ("time", "symbol", "bid", "ask", "bid_size", "ask_size", "last")
SAMPLE_FILE = Path(__file__).with_name("data") / "sample_quotes.csv"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Publish = Callable[[list[Quote]], Awaitable[None]]


@dataclass(frozen=True)
class ReplayRow:
    """One recorded quote; prices and sizes as the exact decimal text of the file."""

    time_ms: int
    symbol: str
    bid: str
    ask: str
    bid_size: str
    ask_size: str
    last: str


def parse_csv(lines: Iterable[str], source: str = "<csv>") -> list[ReplayRow]:
    """Return the rows of a replay file, or raise ValueError naming the first bad line."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise ValueError(f"{source}:1: the header must be {','.join(COLUMNS)}")
    rows: list[ReplayRow] = []
    for number, fields in enumerate(reader, start=2):
        if not fields:
            continue
        try:
            row = _row(fields)
        except ValueError as error:
            raise ValueError(f"{source}:{number}: {error}") from None
        if rows and row.time_ms < rows[-1].time_ms:
            raise ValueError(f"{source}:{number}: rows must be in time order")
        rows.append(row)
    return rows


def load(path: Path) -> list[ReplayRow]:
    """Return the rows of the replay file at `path`."""
    with path.open(newline="") as handle:
        return parse_csv(handle, source=str(path))


class ReplayFeed:
    """Publish a file's quotes in order, `speed` times faster than recorded (0: at once)."""

    def __init__(self, rows: Sequence[ReplayRow], speed: float = 1.0, loop: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        if speed < 0:
            raise ValueError("the replay speed must be 0 (as fast as possible) or positive")
        if not rows:
            raise ValueError("the replay file has no rows")
        self._groups = [list(g) for _, g in itertools.groupby(rows, key=lambda r: r.time_ms)]
        self._speed = speed
        self._loop = loop
        self._clock = clock
        self._sequence: dict[str, int] = {}

    async def run(self, publish: Publish) -> None:
        """Publish every row (over and over when looping), pacing by the file's times."""
        first = self._groups[0][0].time_ms
        span = self._groups[-1][0].time_ms - first
        # A looped file starts over one average step after its last row, not on top of it.
        step = span // max(1, len(self._groups) - 1)
        started, offset = asyncio.get_running_loop().time(), 0
        while True:
            for group in self._groups:
                await self._wait(started, group[0].time_ms - first + offset)
                await publish(self._stamped(group))
            if not self._loop:
                return
            offset += span + step

    async def _wait(self, started: float, file_offset_ms: int) -> None:
        if self._speed == 0:
            await asyncio.sleep(0)  # let others run between batches
            return
        due = started + file_offset_ms / 1000 / self._speed
        await asyncio.sleep(max(0.0, due - asyncio.get_running_loop().time()))

    def _stamped(self, group: list[ReplayRow]) -> list[Quote]:
        now_ms = int(self._clock() * 1000)
        quotes = []
        for row in group:
            self._sequence[row.symbol] = self._sequence.get(row.symbol, 0) + 1
            quotes.append(Quote(symbol=row.symbol, bid=row.bid, ask=row.ask,
                                bid_size=row.bid_size, ask_size=row.ask_size, last=row.last,
                                time_ms=now_ms, sequence=self._sequence[row.symbol]))
        return quotes


def replay_job(known_symbols: set[str], publish: Publish) -> Callable[[], Awaitable[None]]:
    """Return the replay feed task the environment describes; fail fast on a bad file.

    TRADESAGE_MARKET_REPLAY_FILE: the CSV file (default: the sample in `data/`).
    TRADESAGE_MARKET_REPLAY_SPEED: 1.0 real time (default), 10 ten times faster, 0 at once.
    TRADESAGE_MARKET_REPLAY_LOOP: "on" (default) starts over at the end; "off" stops there.
    """
    path = Path(os.environ.get("TRADESAGE_MARKET_REPLAY_FILE") or SAMPLE_FILE)
    rows = load(path)
    if unknown := sorted({r.symbol for r in rows} - known_symbols):
        raise ValueError(f"{path}: symbols not in the catalogue: {', '.join(unknown)}")
    feed = ReplayFeed(rows, speed=float(os.environ.get("TRADESAGE_MARKET_REPLAY_SPEED", "1")),
                      loop=os.environ.get("TRADESAGE_MARKET_REPLAY_LOOP", "on") != "off")
    log.info("replaying quotes", extra={"file": str(path), "rows": len(rows)})
    return lambda: feed.run(_surviving_redis(publish))


def sample_csv(instruments: Sequence[Instrument] | None = None, ticks: int = 50,
               start_ms: int = 1_767_623_400_000, step_ms: int = 250) -> str:
    """Return the sample replay file: `ticks` steps of a seeded simulated venue."""
    venue = SimulatedVenue(list(instruments or _SAMPLE_INSTRUMENTS), seed=2026)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for n in range(ticks):
        for q in venue.tick(start_ms + n * step_ms):
            writer.writerow((_iso(q.time_ms), q.symbol, q.bid, q.ask, q.bid_size, q.ask_size,
                             q.last))
    return out.getvalue()


def _row(fields: list[str]) -> ReplayRow:
    if len(fields) != len(COLUMNS):
        raise ValueError(f"expected {len(COLUMNS)} fields, found {len(fields)}")
    stamp, symbol, *numbers = (f.strip() for f in fields)
    bid, ask, bid_size, ask_size, last = (_decimal(n, name) for n, name in
                                          zip(numbers, COLUMNS[2:], strict=True))
    if not symbol or symbol != symbol.upper():
        raise ValueError(f"symbol {symbol!r} must be upper case and not empty")
    if Decimal(bid) > Decimal(ask):
        raise ValueError(f"bid {bid} is above ask {ask}")
    return ReplayRow(_epoch_ms(stamp), symbol, bid, ask, bid_size, ask_size, last)


def _decimal(text: str, name: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{name} {text!r} is not a decimal") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{name} {text!r} must be a non-negative decimal")
    return text


def _epoch_ms(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"time {text!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} needs a UTC offset, e.g. a trailing Z")
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _iso(time_ms: int) -> str:
    moment = _EPOCH + timedelta(milliseconds=time_ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _surviving_redis(publish: Publish) -> Publish:
    async def publish_or_log(quotes: list[Quote]) -> None:
        try:
            await publish(quotes)
        except RedisError as error:  # Redis restarting: keep replaying once it is back
            log.warning("replay publish failed", extra={"error": str(error)})
    return publish_or_log


_SAMPLE_INSTRUMENTS = [
    Instrument(symbol, symbol, asset_class, "SIMX", "USD", Decimal("0.01"), Decimal(lot),
               Decimal(price))
    for symbol, asset_class, lot, price in (
        ("AAPL", "equity", "1", "189.50"), ("MSFT", "equity", "1", "415.20"),
        ("GOOGL", "equity", "1", "171.30"), ("AMZN", "equity", "1", "183.10"),
        ("TSLA", "equity", "1", "242.80"), ("NVDA", "equity", "1", "121.40"),
        ("SPY", "etf", "1", "548.90"), ("BTC-USD", "crypto", "0.0001", "67250.00"))
]

if __name__ == "__main__":
    Path(sys.argv[1] if len(sys.argv) > 1 else SAMPLE_FILE).write_text(sample_csv())
