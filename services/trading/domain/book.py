"""A limit order book: resting orders by price, then by time (price-time priority)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from decimal import Decimal

from sortedcontainers import SortedDict

from services.trading.domain.orders import Order, Side


class OrderBook:
    """The resting limit orders of one symbol; bids best-first by highest price, asks by lowest."""

    __slots__ = ("_asks", "_bids", "_by_portfolio", "_orders")

    def __init__(self) -> None:
        # Bids are keyed by the negated price so both sides iterate best price first.
        self._bids: SortedDict = SortedDict()
        self._asks: SortedDict = SortedDict()
        self._orders: dict[str, Order] = {}
        self._by_portfolio: dict[str, dict[str, Order]] = {}

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: str) -> bool:
        return order_id in self._orders

    def add(self, order: Order) -> None:
        """Rest `order` at its limit price behind the orders already at that price."""
        assert order.limit_price is not None, "only priced orders rest in the book"
        side, key = self._side_and_key(order.side, order.limit_price)
        level = side.get(key)
        if level is None:
            level = side[key] = deque()
        level.append(order)
        self._orders[order.id] = order
        mine = self._by_portfolio.get(order.portfolio_id)
        if mine is None:  # kept once made: portfolios come back, and a dict is cheap
            mine = self._by_portfolio[order.portfolio_id] = {}
        mine[order.id] = order

    def remove(self, order: Order) -> None:
        """Take `order` out of the book (no-op if it is not resting)."""
        if self._orders.pop(order.id, None) is None:
            return
        del self._by_portfolio[order.portfolio_id][order.id]
        assert order.limit_price is not None
        side, key = self._side_and_key(order.side, order.limit_price)
        level = side[key]
        level.remove(order)
        if not level:
            del side[key]

    def best_price(self, side: Side) -> Decimal | None:
        """Return the best resting price of `side`, or None if that side is empty."""
        levels = self._bids if side is Side.BUY else self._asks
        if not levels:
            return None
        key = levels.keys()[0]
        return -key if side is Side.BUY else key

    def first(self, side: Side) -> Order | None:
        """Return the order with the highest priority on `side`: best price, then oldest."""
        levels = self._bids if side is Side.BUY else self._asks
        if not levels:
            return None
        return levels.peekitem(0)[1][0]  # type: ignore[no-any-return]

    def resting(self, side: Side) -> Iterator[Order]:
        """Yield the resting orders of `side` in priority order (a snapshot, safe to mutate)."""
        levels = self._bids if side is Side.BUY else self._asks
        return iter([order for level in levels.values() for order in level])

    def of_portfolio(self, portfolio_id: str) -> list[Order]:
        """Return the portfolio's resting orders."""
        return list(self._by_portfolio.get(portfolio_id, {}).values())

    def orders(self) -> Iterator[Order]:
        """Yield every resting order."""
        return iter(list(self._orders.values()))

    def _side_and_key(self, side: Side, price: Decimal) -> tuple[SortedDict, Decimal]:
        return (self._bids, -price) if side is Side.BUY else (self._asks, price)


def crosses(side: Side, limit: Decimal | None, price: Decimal) -> bool:
    """Return whether an order of `side` willing to trade at `limit` accepts `price`."""
    if limit is None:
        return True
    return price <= limit if side is Side.BUY else price >= limit


def better(side: Side, price: Decimal, than: Decimal) -> bool:
    """Return whether `price` is strictly better than `than` for an order of `side`."""
    return price < than if side is Side.BUY else price > than
