"""Value positions and portfolios at the latest market prices."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from tradesage.trading.v1 import trading_resources_pb2 as pb

from services.trading.converters import portfolio_to_proto, position_to_proto
from services.trading.domain.orders import ZERO
from services.trading.domain.positions import Position
from services.trading.market_feed import MarketFeed
from services.trading.store import PortfolioRecord


class Valuer:
    """Marks positions to the last traded price of their symbol."""

    def __init__(self, market: MarketFeed) -> None:
        self._market = market

    async def mark(self, symbol: str) -> Decimal | None:
        """Return the price a position in `symbol` is valued at, if there is one."""
        quote = await self._market.quote(symbol)
        return quote.last if quote is not None else None

    def mark_now(self, symbol: str) -> Decimal | None:
        """Return the mark from quotes already heard (no network call)."""
        quote = self._market.latest(symbol)
        return quote.last if quote is not None else None

    async def portfolio(self, record: PortfolioRecord,
                        positions: Iterable[Position]) -> pb.Portfolio:
        """Return the portfolio message with equity and unrealized P&L at the latest prices."""
        value, unrealized = ZERO, ZERO
        for position in positions:
            if not position.quantity:
                continue
            mark = await self.mark(position.symbol)
            if mark is None:
                return portfolio_to_proto(record, None, None)
            value += position.market_value(mark)
            unrealized += position.unrealized_pnl(mark)
        return portfolio_to_proto(record, value, unrealized)

    async def position(self, portfolio_id: str, position: Position,
                       currency: str) -> pb.Position:
        """Return the position message valued at the latest price."""
        mark = await self.mark(position.symbol) if position.quantity else None
        return position_to_proto(portfolio_id, position, mark, currency)
