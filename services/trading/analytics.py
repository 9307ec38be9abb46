"""GetPortfolioAnalytics: the stored history fed to the analytics domain, as a message."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tradesage.trading.v1 import trading_analytics_pb2 as pb

from services.runtime.errors import FieldViolation, InvalidArgument
from services.runtime.timestamps import to_timestamp
from services.trading.converters import decimal_text
from services.trading.domain.analytics import Fill, Granularity, analyse
from services.trading.domain.orders import Side
from services.trading.domain.positions import money
from services.trading.store import PortfolioRecord, TenantTrading, portfolio_history
from services.trading.valuation import Valuer

_GRANULARITIES = {pb.ANALYTICS_GRANULARITY_UNSPECIFIED: Granularity.DAY,
                  pb.ANALYTICS_GRANULARITY_DAY: Granularity.DAY,
                  pb.ANALYTICS_GRANULARITY_WEEK: Granularity.WEEK,
                  pb.ANALYTICS_GRANULARITY_MONTH: Granularity.MONTH}
# More buckets than this is a client asking for day buckets over decades.
MAX_BUCKETS = 1100
_RATE = Decimal("0.0001")


async def compute_analytics(db: TenantTrading, portfolio: PortfolioRecord,
                            start: datetime | None, end: datetime | None, granularity: int,
                            valuer: Valuer) -> pb.PortfolioAnalytics:
    """Return the analytics of `portfolio` over [start, end)."""
    kind = _GRANULARITIES.get(granularity)  # type: ignore[call-overload]
    if kind is None:
        raise InvalidArgument("granularity is not valid", [
            FieldViolation("granularity", "must be DAY, WEEK or MONTH")])
    start = start or portfolio.create_time
    end = end or datetime.now(UTC)
    width = {Granularity.DAY: 1, Granularity.WEEK: 7, Granularity.MONTH: 28}[kind]
    if (end - start).days / width > MAX_BUCKETS:
        raise InvalidArgument("the range has too many buckets for this granularity", [
            FieldViolation("granularity", f"the range would need over {MAX_BUCKETS} buckets")])
    trades, balances = await portfolio_history(db, portfolio.id, end)
    fills = [Fill(t.trade_time, t.symbol, Side(t.side), t.quantity, t.price, t.notional, t.fee,
                  t.realized_pnl) for t in trades]
    report = analyse(fills, balances, start, end, kind, valuer.mark_now)
    message = pb.PortfolioAnalytics(
        portfolio=f"portfolios/{portfolio.id}", currency_code=portfolio.base_currency_code,
        start_time=to_timestamp(start), end_time=to_timestamp(end), granularity=granularity
        or pb.ANALYTICS_GRANULARITY_DAY,
        realized_pnl=str(money(report.realized_pnl)),
        unrealized_pnl=str(money(report.unrealized_pnl)), turnover=str(money(report.turnover)),
        fees=str(money(report.fees)), trade_count=report.trade_count,
        winning_trade_count=report.winning, losing_trade_count=report.losing,
        win_rate=decimal_text(report.win_rate.quantize(_RATE)) if report.win_rate is not None
        else "", max_drawdown=decimal_text(report.max_drawdown.quantize(_RATE)))
    for bucket in report.buckets:
        message.pnl_series.add(
            time=to_timestamp(bucket.start), realized_pnl=str(money(bucket.realized_pnl)),
            unrealized_pnl=str(money(bucket.unrealized_pnl)),
            cumulative_pnl=str(money(bucket.cumulative_pnl)), equity=str(money(bucket.equity)),
            turnover=str(money(bucket.turnover)), fees=str(money(bucket.fees)))
    return message



