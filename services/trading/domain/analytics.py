"""Portfolio performance over time: P&L per bucket, turnover, fees, win rate, drawdown.

Positions are replayed from the fills; each bucket's unrealized P&L and equity value them at
the last fill price of each symbol up to the bucket's end (the latest market price for the
bucket that is still running), and the cash is the ledger balance at the bucket's end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from services.trading.domain.orders import ZERO, Side
from services.trading.domain.positions import Position


class Granularity(StrEnum):
    """The width of an analytics bucket."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Fill:
    """What analytics needs of a trade."""

    time: datetime
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    notional: Decimal
    fee: Decimal
    realized_pnl: Decimal


@dataclass
class Bucket:
    """The figures of one bucket."""

    start: datetime
    realized_pnl: Decimal = ZERO
    unrealized_pnl: Decimal = ZERO
    cumulative_pnl: Decimal = ZERO
    equity: Decimal = ZERO
    turnover: Decimal = ZERO
    fees: Decimal = ZERO


@dataclass
class Report:
    """Performance of a portfolio over a range."""

    buckets: list[Bucket] = field(default_factory=list)
    realized_pnl: Decimal = ZERO
    unrealized_pnl: Decimal = ZERO
    turnover: Decimal = ZERO
    fees: Decimal = ZERO
    trade_count: int = 0
    winning: int = 0
    losing: int = 0
    max_drawdown: Decimal = ZERO

    @property
    def win_rate(self) -> Decimal | None:
        """Return winning over closing fills, or None when nothing closed."""
        closing = self.winning + self.losing
        return Decimal(self.winning) / closing if closing else None


def bucket_start(moment: datetime, granularity: Granularity) -> datetime:
    """Return the start (UTC) of the bucket holding `moment`."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if granularity is Granularity.MONTH:
        return day.replace(day=1)
    return day


def next_bucket(start: datetime, granularity: Granularity) -> datetime:
    """Return the start of the bucket after the one starting at `start`."""
    if granularity is Granularity.DAY:
        return start + timedelta(days=1)
    if granularity is Granularity.WEEK:
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def analyse(fills: Sequence[Fill], balances: Sequence[tuple[datetime, Decimal]],
            start: datetime, end: datetime, granularity: Granularity,
            live_mark: Callable[[str], Decimal | None]) -> Report:
    """Compute the report of [start, end) from every fill and cash balance before `end`."""
    report = Report()
    positions: dict[str, Position] = {}
    marks: dict[str, Decimal] = {}
    fill_index = balance_index = 0
    cash = ZERO
    cumulative = ZERO
    peak: Decimal | None = None
    bucket = bucket_start(start, granularity)
    while bucket < end:
        until = min(next_bucket(bucket, granularity), end)
        current = Bucket(start=bucket)
        while fill_index < len(fills) and fills[fill_index].time < until:
            fill = fills[fill_index]
            fill_index += 1
            position = positions.setdefault(fill.symbol, Position(fill.symbol))
            position.apply_fill(fill.side, fill.quantity, fill.price, fill.fee, fill.time)
            marks[fill.symbol] = fill.price
            if fill.time >= start:
                _count(report, current, fill)
        while balance_index < len(balances) and balances[balance_index][0] < until:
            cash = balances[balance_index][1]
            balance_index += 1
        running = until >= end and end >= datetime.now(UTC) - timedelta(seconds=1)
        value = unrealized = ZERO
        for symbol, position in positions.items():
            mark = (live_mark(symbol) if running else None) or marks[symbol]
            value += position.market_value(mark)
            unrealized += position.unrealized_pnl(mark)
        cumulative += current.realized_pnl
        current.cumulative_pnl, current.unrealized_pnl = cumulative, unrealized
        current.equity = cash + value
        peak = current.equity if peak is None else max(peak, current.equity)
        if peak > 0:
            report.max_drawdown = max(report.max_drawdown, (peak - current.equity) / peak)
        report.buckets.append(current)
        report.unrealized_pnl = unrealized
        bucket = until
    return report


def _count(report: Report, bucket: Bucket, fill: Fill) -> None:
    bucket.realized_pnl += fill.realized_pnl
    bucket.turnover += fill.notional
    bucket.fees += fill.fee
    report.realized_pnl += fill.realized_pnl
    report.turnover += fill.notional
    report.fees += fill.fee
    report.trade_count += 1
    if fill.realized_pnl > 0:
        report.winning += 1
    elif fill.realized_pnl < 0:
        report.losing += 1
