"""Execution venues: where working orders meet liquidity.

`PaperVenue` is the broker's paper-trading venue for one symbol (of one tenant): a price-time
priority limit book in which the tenant's own orders match each other, plus a liquidity
simulator that fills against the market data feed's quotes (up to the quoted size per quote,
fresh liquidity with every new quote). Stops wait off-book until the quote trades through
their stop price. A real broker adapter implements `Venue` too: it returns no fills from
`submit` and hands the executions it later receives to the engine through `on_quote`'s
counterpart.

A taker meeting its own portfolio's resting order stops there and its remainder is canceled
(self-trade prevention, "cancel newest"), so a portfolio never trades with itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from services.trading.domain.book import OrderBook, better, crosses
from services.trading.domain.orders import ZERO, Order, Side, TimeInForce

SELF_TRADE_PREVENTED = "SELF_TRADE_PREVENTED"
FILL_OR_KILL_UNFILLABLE = "FILL_OR_KILL_UNFILLABLE"
IMMEDIATE_OR_CANCEL_REMAINDER = "IMMEDIATE_OR_CANCEL_REMAINDER"


@dataclass(frozen=True, slots=True)
class MarketQuote:
    """The feed's best bid and ask of a symbol, with the quantity shown at each."""

    symbol: str
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal
    last: Decimal
    sequence: int
    time_ms: int

    def price_for(self, side: Side) -> Decimal:
        """Return the price an order of `side` takes: the ask for buys, the bid for sells."""
        return self.ask if side is Side.BUY else self.bid


@dataclass(slots=True)
class Fill:
    """A quantity of one order that traded at one price."""

    order: Order
    quantity: Decimal
    price: Decimal
    # The other side of an internal match; None when the simulated market liquidity filled it.
    contra: Order | None
    # Shared by both sides of one internal match.
    match_id: int
    # What was left of the order right after this fill.
    remaining_after: Decimal


class Venue(Protocol):
    """What the engine needs from an execution venue of one symbol."""

    def submit(self, order: Order) -> list[Fill]:
        """Take a new order (status NEW); accept it and return any immediate fills."""

    def cancel(self, order: Order, reason: str) -> None:
        """Stop working an open order."""

    def replace(self, order: Order, quantity: Decimal, limit_price: Decimal | None,
                stop_price: Decimal | None, time_in_force: TimeInForce) -> list[Fill]:
        """Change an open order and return any fills the new terms cause at once."""

    def on_quote(self, quote: MarketQuote) -> list[Fill]:
        """Take a new market quote and return the fills and stop triggers it causes."""


class PaperVenue:
    """A limit book plus simulated market liquidity for one symbol of one tenant."""

    _match_ids = itertools.count(1)

    def __init__(self, symbol: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
                 ) -> None:
        self.symbol = symbol
        self._clock = clock
        self.book = OrderBook()
        self._stops: list[Order] = []
        # Market orders (and triggered stops) waiting for more simulated liquidity.
        self._pending: list[Order] = []
        self.quote: MarketQuote | None = None
        # Orders changed without an event (a stop triggering), for the engine to store.
        self.triggered: list[Order] = []
        self._bid_left = ZERO
        self._ask_left = ZERO

    # The Venue interface

    def submit(self, order: Order) -> list[Fill]:
        """Accept `order` and work it: match at once, rest it, or park it until triggered."""
        order.venue_order_id = f"paper-{order.id}"
        order.accept()
        return self._work(order)

    def cancel(self, order: Order, reason: str) -> None:
        """Take `order` off the venue and cancel it."""
        self._detach(order)
        order.cancel(reason)

    def expire(self, order: Order) -> None:
        """Take `order` off the venue as its time in force ended."""
        self._detach(order)
        order.expire()

    def replace(self, order: Order, quantity: Decimal, limit_price: Decimal | None,
                stop_price: Decimal | None, time_in_force: TimeInForce) -> list[Fill]:
        """Apply new terms; a higher quantity or a new price loses time priority.

        The new quantity must exceed what has filled (ValueError otherwise): an order cannot be
        replaced down to, or below, its fills.
        """
        if quantity <= order.filled_quantity:
            raise ValueError(f"the new quantity {quantity} does not exceed the filled "
                             f"{order.filled_quantity}")
        keeps_priority = (quantity <= order.quantity and limit_price == order.limit_price
                          and stop_price == order.stop_price)
        order.time_in_force = time_in_force
        if keeps_priority:  # a smaller order keeps its place in the queue
            order.quantity = quantity
            return []
        self._detach(order)
        order.quantity, order.limit_price, order.stop_price = quantity, limit_price, stop_price
        order.priority_time = self._clock()
        return self._work(order)

    def on_quote(self, quote: MarketQuote) -> list[Fill]:
        """Refresh the simulated liquidity; trigger stops and fill what the quote reaches."""
        self.set_quote(quote)
        fills: list[Fill] = []
        for order in [o for o in self._stops if self._triggers(o)]:
            self._stops.remove(order)
            order.triggered = True
            order.priority_time = self._clock()
            self.triggered.append(order)
            fills += self._activate(order)
        for order in list(self._pending):
            fills += self._take_market(order)
            if not order.status.is_open:
                self._pending.remove(order)
        for side in (Side.BUY, Side.SELL):
            for order in self.book.resting(side):
                taken = self._take_market(order)
                if not taken:
                    break  # priority order is price order: nothing further down crosses
                fills += taken
                if not order.status.is_open:
                    self.book.remove(order)
        return fills

    # Loading and inspection

    def restore(self, order: Order) -> None:
        """Put back an open order loaded from storage, without matching it."""
        if order.is_waiting_for_trigger:
            self._stops.append(order)
        elif order.rests_in_book:
            self.book.add(order)
        else:
            self._pending.append(order)

    def set_quote(self, quote: MarketQuote) -> None:
        """Take `quote` as the market; a new quote brings fresh simulated liquidity."""
        if self.quote is None or quote.sequence != self.quote.sequence:
            self._bid_left, self._ask_left = quote.bid_size, quote.ask_size
        self.quote = quote

    def open_orders(self) -> list[Order]:
        """Return every order working on this venue."""
        return [*self.book.orders(), *self._stops, *self._pending]

    def working(self, portfolio_id: str) -> list[Order]:
        """Return the portfolio's orders working on this venue (its risk exposure here)."""
        parked = [o for o in (*self._stops, *self._pending) if o.portfolio_id == portfolio_id]
        return self.book.of_portfolio(portfolio_id) + parked

    def wants(self, quote: MarketQuote) -> bool:
        """Return whether `quote` could trigger or fill anything here (a cheap pre-check)."""
        if self._pending or any(self._triggers(o, quote) for o in self._stops):
            return True
        best_bid, best_ask = self.book.best_price(Side.BUY), self.book.best_price(Side.SELL)
        return bool((best_bid is not None and best_bid >= quote.ask)
                    or (best_ask is not None and best_ask <= quote.bid))

    def portfolios_touched(self, order: Order, quote: MarketQuote | None = None, *,
                           sweep: bool = False) -> set[str]:
        """Return the portfolios whose resting orders `order` may trade with (a dry run).

        A stop is judged by `quote` (the venue's quote by default). With `sweep`, every
        resting order within its price counts, not only as many as its quantity reaches
        (other orders of the same command may take the best ones first).
        """
        touched = {order.portfolio_id}
        if order.is_waiting_for_trigger and not self._triggers(order, quote):
            return touched
        limit = order.limit_price if order.limit_price is not None else order.working_price
        wanted = order.quantity - order.filled_quantity
        for resting in self.book.resting(order.side.opposite):
            assert resting.limit_price is not None
            if (wanted <= 0 and not sweep) or not crosses(order.side, limit,
                                                          resting.limit_price):
                break
            touched.add(resting.portfolio_id)
            wanted -= resting.remaining
        return touched

    def portfolios_touched_by_quote(self, quote: MarketQuote) -> set[str]:
        """Return the portfolios `on_quote(quote)` may change (a dry run)."""
        touched = {o.portfolio_id for o in self._pending}
        for order in self._stops:
            if self._triggers(order, quote):  # it trades against the book once triggered
                touched |= self.portfolios_touched(order, quote, sweep=True)
        for side in (Side.BUY, Side.SELL):
            for order in self.book.resting(side):
                assert order.limit_price is not None
                if not crosses(side, order.limit_price, quote.price_for(side)):
                    break
                touched.add(order.portfolio_id)
        return touched

    # Matching

    def _work(self, order: Order) -> list[Fill]:
        if order.is_waiting_for_trigger and not self._triggers(order):
            self._stops.append(order)
            return []
        order.triggered = order.is_stop
        return self._activate(order)

    def _activate(self, order: Order) -> list[Fill]:
        """Match a live order, then apply its time in force to what is left."""
        if order.time_in_force is TimeInForce.FOK and self._fillable(order) < order.remaining:
            order.cancel(FILL_OR_KILL_UNFILLABLE)
            return []
        fills = self._take(order)
        if order.status.is_open:
            if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                order.cancel(IMMEDIATE_OR_CANCEL_REMAINDER)
            elif order.rests_in_book:
                self.book.add(order)
            else:
                self._pending.append(order)
        return fills

    def _take(self, taker: Order) -> list[Fill]:
        """Fill `taker` against the book and the simulated market, best price first."""
        fills: list[Fill] = []
        side, limit = taker.side, taker.working_price
        while taker.remaining > 0:
            contra = self.book.first(side.opposite)
            contra_price = contra.limit_price if contra is not None else None
            if contra_price is not None and not crosses(side, limit, contra_price):
                contra = contra_price = None
            market_price = self._market_price(side, limit)
            if market_price is not None and (contra_price is None
                                             or better(side, market_price, contra_price)):
                fills.append(self._fill_from_market(taker, market_price))
            elif contra is not None and contra_price is not None:
                if contra.portfolio_id == taker.portfolio_id:
                    taker.cancel(SELF_TRADE_PREVENTED)
                    break
                fills += self._match(taker, contra, contra_price)
            else:
                break
        return fills

    def _match(self, taker: Order, resting: Order, price: Decimal) -> list[Fill]:
        quantity = min(taker.remaining, resting.remaining)
        taker.fill(quantity, price)
        resting.fill(quantity, price)
        if not resting.status.is_open:
            self.book.remove(resting)
        match_id = next(self._match_ids)
        return [Fill(taker, quantity, price, resting, match_id, taker.remaining),
                Fill(resting, quantity, price, taker, match_id, resting.remaining)]

    def _take_market(self, order: Order) -> list[Fill]:
        """Fill `order` from the simulated market liquidity alone, as far as it reaches."""
        fills = []
        while order.remaining > 0:
            price = self._market_price(order.side, order.working_price)
            if price is None:
                break
            fills.append(self._fill_from_market(order, price))
        return fills

    def _market_price(self, side: Side, limit: Decimal | None) -> Decimal | None:
        """Return the simulated market's price for `side` if liquidity is left and acceptable."""
        if self.quote is None:
            return None
        left = self._ask_left if side is Side.BUY else self._bid_left
        price = self.quote.price_for(side)
        return price if left > 0 and crosses(side, limit, price) else None

    def _fill_from_market(self, order: Order, price: Decimal) -> Fill:
        if order.side is Side.BUY:
            quantity = min(order.remaining, self._ask_left)
            self._ask_left -= quantity
        else:
            quantity = min(order.remaining, self._bid_left)
            self._bid_left -= quantity
        order.fill(quantity, price)
        return Fill(order, quantity, price, None, next(self._match_ids), order.remaining)

    def _fillable(self, order: Order) -> Decimal:
        """Return how much of `order` could fill right now (for fill-or-kill).

        Walks the prices in the order `_take` would take them, so the portfolio's own resting
        order ends the walk where self-trade prevention would stop the fill.
        """
        side, limit = order.side, order.working_price
        market_price = self._market_price(side, limit)
        market_left = ZERO if market_price is None else (
            self._ask_left if side is Side.BUY else self._bid_left)
        available = ZERO
        for resting in self.book.resting(side.opposite):
            assert resting.limit_price is not None
            if available >= order.remaining or not crosses(side, limit, resting.limit_price):
                break
            if market_price is not None and better(side, market_price, resting.limit_price):
                available, market_left = available + market_left, ZERO
            if resting.portfolio_id == order.portfolio_id:
                return available
            available += resting.remaining
        return available + market_left

    def _triggers(self, order: Order, quote: MarketQuote | None = None) -> bool:
        """Return whether the market has traded through the stop price of `order`."""
        quote = quote or self.quote
        if quote is None or order.stop_price is None:
            return False
        last = quote.last or None  # a feed without trades yet sends last = 0
        if order.side is Side.BUY:
            return max(quote.ask, last or quote.ask) >= order.stop_price
        return min(quote.bid, last or quote.bid) <= order.stop_price

    def _detach(self, order: Order) -> None:
        self.book.remove(order)
        for parked in (self._stops, self._pending):
            if order in parked:
                parked.remove(order)
