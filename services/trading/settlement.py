"""The bookkeeping of one engine command, inside its transaction.

A settlement starts by locking the portfolios the command may touch (in id order, so two
commands never deadlock), with their positions in the command's symbol (see
`TenantTrading.lock_portfolios` for why those need no lock of their own). Fills become trades,
cash ledger entries (the trade and its fee), position changes and realized P&L; reservations
follow what is left of each order; every order event is stored with the order's state right
after it, in the order the events happened, and the events other services care about go to
the outbox. Nothing is written until `write`, which writes it all in one statement, so a
rejected command leaves no trace but its own.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.trading.domain.orders import ZERO, EventType, Order, RecordedEvent, Side
from services.trading.domain.positions import Position
from services.trading.domain.risk import FeeSchedule, release_after_fill
from services.trading.domain.venue import Fill
from services.trading.effects import CommandEffects
from services.trading.records import order_snapshot
from services.trading.store import (
    LedgerRecord,
    PortfolioRecord,
    StoredEvent,
    TenantTrading,
    TradeRecord,
)

# Order events other services hear about (submitted is always followed by one of these).
PUBLISHED_EVENTS = frozenset({
    EventType.ACCEPTED, EventType.REJECTED, EventType.FILLED, EventType.CANCELED,
    EventType.REPLACED, EventType.EXPIRED})


@dataclass
class Outcome:
    """What a committed command changed, for the streams and the outbox relay."""

    events: list[tuple[Order, StoredEvent, TradeRecord | None]] = field(default_factory=list)
    ledger: list[LedgerRecord] = field(default_factory=list)
    portfolios: set[str] = field(default_factory=set)
    positions: dict[str, Position] = field(default_factory=dict)


class Settlement:
    """Accumulates one command's effects on orders, cash, positions; writes them at once."""

    def __init__(self, db: TenantTrading, portfolios: dict[str, PortfolioRecord],
                 fees: FeeSchedule, symbol: str, now: datetime,
                 positions: dict[str, Position] | None = None) -> None:
        self._db, self.fees, self._symbol, self._now = db, fees, symbol, now
        self.portfolios = portfolios
        self._cash = {p: r.cash_balance for p, r in portfolios.items()}
        self._reserved = {p: r.reserved_cash for p, r in portfolios.items()}
        self._realized: dict[str, Decimal] = defaultdict(Decimal)
        self._held = positions or {}  # as locked, in the command's symbol
        self.prior_orders: dict[tuple[str, str], str] = {}
        self._positions: dict[str, Position] = {}  # those the fills changed
        self._trades: dict[str, list[TradeRecord]] = defaultdict(list)
        self._venue_ids: dict[str, str] = {}
        self._orders: dict[str, Order] = {}
        self._new: set[str] = set()
        self._happened: list[tuple[RecordedEvent, Order]] = []
        # (portfolio, kind, amount, balance after, order, trade), in booking order.
        self._entries: list[tuple[str, str, Decimal, Decimal, str, str | None]] = []

    @classmethod
    async def lock(cls, db: TenantTrading, portfolio_ids: list[str], fees: FeeSchedule,
                   symbol: str, now: datetime,
                   client_orders: list[tuple[str, str]] | None = None) -> Settlement:
        """Lock the portfolios a command may touch; return the command's settlement.

        With `client_orders` (portfolio id, client order id), `prior_orders` names the orders
        placed before with those ids.
        """
        locked = await db.lock_portfolios(portfolio_ids, symbol, client_orders or ())
        settlement = cls(db, locked.portfolios, fees, symbol, now, locked.positions)
        settlement.prior_orders = locked.prior_orders
        return settlement

    @property
    def new_orders(self) -> int:
        """Return how many orders this command places."""
        return len(self._new)

    def cash(self, portfolio_id: str) -> Decimal:
        """Return the portfolio's cash balance as this command leaves it so far."""
        return self._cash[portfolio_id]

    def held_quantity(self, portfolio_id: str) -> Decimal:
        """Return the portfolio's position in the symbol as this command leaves it so far."""
        position = self._positions.get(portfolio_id) or self._held.get(portfolio_id)
        return position.quantity if position else ZERO

    def reserved(self, portfolio_id: str) -> Decimal:
        """Return the portfolio's reserved cash as this command leaves it so far."""
        return self._reserved[portfolio_id]

    def new_order(self, order: Order) -> None:
        """Insert `order` (rather than update it) when writing."""
        self._new.add(order.id)
        self._orders[order.id] = order

    def touch(self, order: Order) -> None:
        """Store `order`'s new state and its recorded events when writing."""
        self._orders[order.id] = order

    def hold(self, order: Order, amount: Decimal) -> None:
        """Set the cash `order` holds back, adjusting its portfolio's reservation."""
        self._reserved[order.portfolio_id] += amount - order.reserved_cash
        order.reserved_cash = amount
        self.touch(order)

    def position(self, portfolio_id: str) -> Position:
        """Return the portfolio's position in the command's symbol, to change it."""
        if portfolio_id not in self._positions:
            self._positions[portfolio_id] = (self._held.get(portfolio_id)
                                             or Position(self._symbol))
        return self._positions[portfolio_id]

    def settle(self, fill: Fill, notional_before: Decimal) -> None:
        """Book one fill: fee, position and realized P&L, cash, reservation, trade.

        `notional_before` is what the order had filled before this fill (for its fee).
        """
        order = fill.order
        notional = fill.quantity * fill.price
        fee = self.fees.fee(notional, order.fees, notional_before)
        order.fees += fee
        position = self.position(order.portfolio_id)
        realized = position.apply_fill(order.side, fill.quantity, fill.price, fee, self._now)
        self._realized[order.portfolio_id] += realized
        trade = TradeRecord(
            id=str(uuid.uuid4()), order_id=order.id, client_order_id=order.client_order_id,
            portfolio_id=order.portfolio_id, symbol=order.symbol, side=order.side.value,
            quantity=fill.quantity, price=fill.price, notional=notional, fee=fee,
            realized_pnl=realized, currency_code=order.currency_code, trade_time=self._now,
            record_time=self._now)
        self._trades[order.id].append(trade)
        self._venue_ids[trade.id] = f"paper-match-{fill.match_id}"
        self._book(order.portfolio_id, "trade", -notional if order.side is Side.BUY else notional,
                   order.id, trade.id)
        if fee:
            self._book(order.portfolio_id, "fee", -fee, order.id, trade.id)
        self.hold(order, release_after_fill(
            order.reserved_cash, fill.remaining_after + fill.quantity, fill.remaining_after))

    def _book(self, portfolio_id: str, kind: str, amount: Decimal, order_id: str,
              trade_id: str) -> None:
        self._cash[portfolio_id] += amount
        self._entries.append((portfolio_id, kind, amount, self._cash[portfolio_id], order_id,
                              trade_id))

    def release_closed(self) -> None:
        """Free the reservation of every touched order that can no longer fill."""
        for order in self._orders.values():
            if not order.status.is_open and order.reserved_cash:
                self.hold(order, ZERO)

    async def write(self) -> Outcome:
        """Write every change of the command in one statement; return what changed."""
        outcome, effects = Outcome(), CommandEffects()
        for order in self._orders.values():
            order.update_time = self._now
            effects.add_order(order, new=order.id in self._new)
        for trades in self._trades.values():
            effects.trades.extend(_trade_row(t, self._venue_ids[t.id]) for t in trades)
        self._book_ledger(outcome, effects)
        self._record_events(outcome, effects)
        for portfolio_id, position in self._positions.items():
            effects.add_position(portfolio_id, position)
            outcome.positions[portfolio_id] = position
        for portfolio_id in self._touched_portfolios():
            cash_delta = self._cash[portfolio_id] - self.portfolios[portfolio_id].cash_balance
            effects.add_totals(portfolio_id, cash_delta, self._reserved[portfolio_id],
                               self._realized[portfolio_id])
            outcome.portfolios.add(portfolio_id)
        effects.outbox = [{"aggregate_type": kind, "aggregate_id": key, "event_type": event,
                           "payload": payload}
                          for kind, key, event, payload in self._outbox(outcome)]
        await self._db.write_effects(effects)
        return outcome

    def _book_ledger(self, outcome: Outcome, effects: CommandEffects) -> None:
        for portfolio_id, kind, amount, balance_after, order_id, trade_id in self._entries:
            entry = LedgerRecord(
                id=str(uuid.uuid4()), portfolio_id=portfolio_id, entry_type=kind, amount=amount,
                balance_after=balance_after,
                currency_code=self.portfolios[portfolio_id].base_currency_code, description="",
                order_id=order_id, trade_id=trade_id, create_time=self._now)
            outcome.ledger.append(entry)
            effects.ledger.append(dataclasses.asdict(entry))

    def collect_events(self) -> None:
        """Take the events the orders recorded so far, order by order.

        A batch calls this after each order it places, so the events of one placement (the
        order's and those of the resting orders it traded with) follow the previous one's.
        """
        for order in self._orders.values():
            self._happened.extend((event, order) for event in order.pending_events)
            order.pending_events.clear()

    def _record_events(self, outcome: Outcome, effects: CommandEffects) -> None:
        self.collect_events()
        trades = {order_id: iter(fills) for order_id, fills in self._trades.items()}
        for event, order in self._happened:
            trade = next(trades[order.id]) if event.type is EventType.FILLED else None
            record = StoredEvent(str(uuid.uuid4()), order.id, event.type, event.reason,
                                 trade.id if trade else None, order_snapshot(order, event),
                                 self._now)
            outcome.events.append((order, record, trade))
            effects.events.append({
                "id": record.id, "order_id": order.id, "event_type": event.type.value,
                "trade_id": record.trade_id, "reason": record.reason,
                "order_snapshot": record.snapshot, "event_time": self._now})

    def _touched_portfolios(self) -> set[str]:
        return {p for p, r in self.portfolios.items() if self._cash[p] != r.cash_balance
                or self._reserved[p] != r.reserved_cash or self._realized[p]}

    def _outbox(self, outcome: Outcome) -> list[tuple[str, str, str, dict[str, Any]]]:
        rows = []
        for order, event, trade in outcome.events:
            if event.type not in PUBLISHED_EVENTS:
                continue
            details = {"orderId": order.id, "clientOrderId": order.client_order_id,
                       "portfolioId": order.portfolio_id, "symbol": order.symbol,
                       "side": order.side.value, "orderType": order.order_type.value,
                       "quantity": str(order.quantity), "reason": event.reason or ""}
            if trade is not None:
                details |= {"fillQuantity": str(trade.quantity), "price": str(trade.price),
                            "fee": str(trade.fee)}
            rows.append(("order", order.id, f"trading.order_{event.type.value}",
                         {"userId": order.user_id, "eventId": event.id,
                          "time": self._now.isoformat(), "details": details}))
        return rows


def _trade_row(trade: TradeRecord, venue_trade_id: str) -> dict[str, Any]:
    return {"id": trade.id, "order_id": trade.order_id, "portfolio_id": trade.portfolio_id,
            "venue_trade_id": venue_trade_id, "symbol": trade.symbol, "side": trade.side,
            "quantity": trade.quantity, "price": trade.price, "notional": trade.notional,
            "fee": trade.fee, "realized_pnl": trade.realized_pnl,
            "currency_code": trade.currency_code, "trade_time": trade.trade_time}
