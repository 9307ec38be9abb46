"""OHLCV bars: aggregation of ticks into 1-minute bars, and roll-up to wider intervals.

Pure Python with exact decimals. The store does the same roll-up in SQL; this module is the
reference the tests compare it with, and what the recorder uses to fold a batch of ticks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo

MINUTE_MS = 60_000
VWAP_PLACES = Decimal("0.000001")


class Interval(Enum):
    """A bar width; the value is its nominal length in milliseconds."""

    ONE_MINUTE = MINUTE_MS
    FIVE_MINUTES = 5 * MINUTE_MS
    FIFTEEN_MINUTES = 15 * MINUTE_MS
    ONE_HOUR = 60 * MINUTE_MS
    # A calendar day in the instrument's session time zone, so 23 to 25 hours around DST.
    ONE_DAY = 24 * 60 * MINUTE_MS

    @property
    def ms(self) -> int:
        """Return the nominal length in milliseconds."""
        return self.value


@dataclass(frozen=True)
class Tick:
    """One trade print: a price and a size at a moment."""

    symbol: str
    time_ms: int
    price: Decimal
    size: Decimal


@dataclass(frozen=True)
class Bar:
    """Open, high, low, close and volume of a symbol over one interval.

    `first_ms` and `last_ms` are the times of the opening and closing prints, so that partial
    bars of the same interval (from different recorder batches) merge in any order.
    """

    symbol: str
    start_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    turnover: Decimal  # sum of price * size, kept instead of VWAP so that merging stays exact
    trade_count: int
    first_ms: int
    last_ms: int

    @property
    def vwap(self) -> Decimal:
        """Return the volume-weighted average price to 6 places (the close without volume)."""
        if not self.volume:
            return self.close
        return (self.turnover / self.volume).quantize(VWAP_PLACES)

    def merge(self, later: Bar) -> Bar:
        """Return this bar combined with `later`, a part of the same interval seen after it."""
        opens_first = later.first_ms < self.first_ms
        closes_last = later.last_ms >= self.last_ms
        return replace(
            self,
            open=later.open if opens_first else self.open,
            high=max(self.high, later.high),
            low=min(self.low, later.low),
            close=later.close if closes_last else self.close,
            volume=self.volume + later.volume,
            turnover=self.turnover + later.turnover,
            trade_count=self.trade_count + later.trade_count,
            first_ms=min(self.first_ms, later.first_ms),
            last_ms=max(self.last_ms, later.last_ms),
        )


def bucket_start(time_ms: int, interval: Interval, time_zone: str = "UTC") -> int:
    """Return the start of the interval holding `time_ms`.

    Intraday intervals align to the epoch (so to whole hours in every zone with a whole-hour
    offset); a day starts at local midnight in `time_zone`.
    """
    if interval is not Interval.ONE_DAY:
        return time_ms - time_ms % interval.ms
    local = datetime.fromtimestamp(time_ms / 1000, UTC).astimezone(ZoneInfo(time_zone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp() * 1000)


def aggregate(ticks: Iterable[Tick]) -> list[Bar]:
    """Fold ticks, in arrival order, into 1-minute bars ordered by symbol and start."""
    bars: dict[tuple[str, int], Bar] = {}
    for tick in ticks:
        bar = _bar_of(tick)
        key = (tick.symbol, bar.start_ms)
        bars[key] = bars[key].merge(bar) if key in bars else bar
    return [bars[key] for key in sorted(bars)]


def roll_up(bars: Iterable[Bar], interval: Interval, time_zone: str = "UTC") -> list[Bar]:
    """Combine 1-minute bars into bars of `interval`, ordered by symbol and start."""
    wide: dict[tuple[str, int], Bar] = {}
    for bar in sorted(bars, key=lambda b: (b.symbol, b.start_ms)):
        start = bucket_start(bar.start_ms, interval, time_zone)
        key = (bar.symbol, start)
        wide[key] = wide[key].merge(bar) if key in wide else replace(bar, start_ms=start)
    return [wide[key] for key in sorted(wide)]


def _bar_of(tick: Tick) -> Bar:
    return Bar(
        symbol=tick.symbol, start_ms=bucket_start(tick.time_ms, Interval.ONE_MINUTE),
        open=tick.price, high=tick.price, low=tick.price, close=tick.price,
        volume=tick.size, turnover=tick.price * tick.size, trade_count=1,
        first_ms=tick.time_ms, last_ms=tick.time_ms)
