"""Everything one engine command changed, as rows per table, for one write.

A command touches up to eight tables (a new order, changed orders, trades, ledger entries,
order events, positions, portfolio totals, outbox); `TenantTrading.write_effects` writes them
all in one statement rather than one round trip each while the venue's lock is held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.trading.domain.orders import Order
from services.trading.domain.positions import Position

Row = dict[str, Any]
# The tables in the order they are written (rows may refer to rows of earlier ones).
TABLES = ("new_orders", "changed_orders", "trades", "ledger", "events", "positions", "totals",
          "outbox")


@dataclass
class CommandEffects:
    """The rows one command writes, table by table."""

    new_orders: list[Row] = field(default_factory=list)
    changed_orders: list[Row] = field(default_factory=list)
    trades: list[Row] = field(default_factory=list)
    ledger: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    positions: list[Row] = field(default_factory=list)
    totals: list[Row] = field(default_factory=list)
    outbox: list[Row] = field(default_factory=list)

    def add_order(self, order: Order, *, new: bool) -> None:
        """Insert `order` (new) or store its changed state."""
        row = _order_row(order)
        if new:
            row["priority_time"] = order.priority_time or order.create_time
            self.new_orders.append(row)
        else:  # an order stored before priority times existed keeps none
            self.changed_orders.append(row)

    def add_position(self, portfolio_id: str, position: Position) -> None:
        """Insert or update a position."""
        self.positions.append({
            "portfolio_id": portfolio_id, "symbol": position.symbol,
            "quantity": position.quantity, "average_cost": abs(position.average_cost),
            "cost_basis": position.cost_basis, "realized_pnl": position.realized_pnl,
            "open_time": position.open_time, "update_time": position.update_time})

    def add_totals(self, portfolio_id: str, cash_delta: Decimal, reserved_cash: Decimal,
                   realized_delta: Decimal) -> None:
        """Apply a net change to a portfolio's running totals."""
        self.totals.append({"id": portfolio_id, "cash_delta": cash_delta,
                            "reserved_cash": reserved_cash, "realized_delta": realized_delta})

    def tables(self) -> dict[str, list[Row]]:
        """Return the tables that have rows, in write order; ordered rows numbered (`n`)."""
        for ordered in (self.ledger, self.events, self.outbox):
            for n, row in enumerate(ordered):
                row["n"] = n
        return {name: rows for name in TABLES if (rows := getattr(self, name))}


def _order_row(order: Order) -> Row:
    return {
        "id": order.id, "portfolio_id": order.portfolio_id, "user_id": order.user_id,
        "client_order_id": order.client_order_id, "venue_order_id": order.venue_order_id,
        "symbol": order.symbol, "side": order.side.value, "order_type": order.order_type.value,
        "time_in_force": order.time_in_force.value, "quantity": order.quantity,
        "limit_price": order.limit_price, "stop_price": order.stop_price,
        "protection_price": order.protection_price, "status": order.status.value,
        "filled_quantity": order.filled_quantity,
        "average_fill_price": order.average_fill_price, "fees": order.fees,
        "reserved_cash": order.reserved_cash, "currency_code": order.currency_code,
        "reject_reason": order.reject_reason, "reject_details": order.reject_details or None,
        "triggered": order.triggered, "create_time": order.create_time,
        "update_time": order.update_time, "expire_time": order.expire_time,
        "priority_time": order.priority_time}
