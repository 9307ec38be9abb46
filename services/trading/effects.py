"""Everything one engine command changed, written by one SQL statement.

A command touches up to eight tables (a new order, changed orders, trades, ledger entries,
order events, positions, portfolio totals, outbox). Written one statement each, that is up to
eight round trips while the venue's lock is held; instead each table's rows travel as one JSON
array, and one statement of data-modifying CTEs (one per table that has rows) writes them all.
Foreign keys between the new rows hold: PostgreSQL checks them at the end of the statement.
Ledger entries and events are inserted in the order given (`n`), since their sequence numbers
record booking order.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.trading.domain.orders import Order
from services.trading.domain.positions import Position

Row = dict[str, Any]

_ORDER_COLUMNS = """id uuid, portfolio_id uuid, user_id uuid, client_order_id text,
    venue_order_id text, symbol text, side text, order_type text, time_in_force text,
    quantity numeric, limit_price numeric, stop_price numeric, protection_price numeric,
    status text, filled_quantity numeric, average_fill_price numeric, fees numeric,
    reserved_cash numeric, currency_code text, reject_reason text, reject_details jsonb,
    triggered boolean, create_time timestamptz, update_time timestamptz,
    expire_time timestamptz, priority_time timestamptz"""
_ORDER_NAMES = ", ".join(line.split()[0] for line in _ORDER_COLUMNS.replace("\n", "").split(","))

# One CTE per table, in this order; `$rows` is that table's JSON array.
_PARTS = {
    "new_orders": f"""
    INSERT INTO orders ({_ORDER_NAMES})
    SELECT {_ORDER_NAMES} FROM jsonb_to_recordset($rows::jsonb) AS x({_ORDER_COLUMNS})""",
    "changed_orders": f"""
    UPDATE orders o SET venue_order_id = x.venue_order_id, time_in_force = x.time_in_force,
        quantity = x.quantity, limit_price = x.limit_price, stop_price = x.stop_price,
        status = x.status, filled_quantity = x.filled_quantity,
        average_fill_price = x.average_fill_price, fees = x.fees,
        reserved_cash = x.reserved_cash, triggered = x.triggered, update_time = x.update_time,
        priority_time = coalesce(x.priority_time, o.priority_time), version = o.version + 1
    FROM jsonb_to_recordset($rows::jsonb) AS x({_ORDER_COLUMNS})
    WHERE o.id = x.id""",
    "trades": """
    INSERT INTO trades (id, order_id, portfolio_id, venue_trade_id, symbol, side, quantity,
                        price, notional, fee, realized_pnl, currency_code, trade_time)
    SELECT * FROM jsonb_to_recordset($rows::jsonb) AS x(
        id uuid, order_id uuid, portfolio_id uuid, venue_trade_id text, symbol text,
        side text, quantity numeric, price numeric, notional numeric, fee numeric,
        realized_pnl numeric, currency_code text, trade_time timestamptz)""",
    "ledger": """
    INSERT INTO cash_ledger_entries (id, portfolio_id, entry_type, amount, balance_after,
                                     currency_code, description, order_id, trade_id,
                                     create_time)
    SELECT id, portfolio_id, entry_type, amount, balance_after, currency_code, description,
           order_id, trade_id, create_time
    FROM jsonb_to_recordset($rows::jsonb) AS x(
        n integer, id uuid, portfolio_id uuid, entry_type text, amount numeric,
        balance_after numeric, currency_code text, description text, order_id uuid,
        trade_id uuid, create_time timestamptz)
    ORDER BY n""",
    "events": """
    INSERT INTO order_events (id, order_id, event_type, trade_id, reason, order_snapshot,
                              event_time)
    SELECT id, order_id, event_type, trade_id, reason, order_snapshot::jsonb, event_time
    FROM jsonb_to_recordset($rows::jsonb) AS x(
        n integer, id uuid, order_id uuid, event_type text, trade_id uuid, reason text,
        order_snapshot text, event_time timestamptz)
    ORDER BY n""",
    "positions": """
    INSERT INTO positions (portfolio_id, symbol, quantity, average_cost, cost_basis,
                           realized_pnl, open_time, update_time)
    SELECT * FROM jsonb_to_recordset($rows::jsonb) AS x(
        portfolio_id uuid, symbol text, quantity numeric, average_cost numeric,
        cost_basis numeric, realized_pnl numeric, open_time timestamptz,
        update_time timestamptz)
    ON CONFLICT (portfolio_id, symbol) DO UPDATE SET quantity = excluded.quantity,
        average_cost = excluded.average_cost, cost_basis = excluded.cost_basis,
        realized_pnl = excluded.realized_pnl, open_time = excluded.open_time,
        update_time = excluded.update_time, version = positions.version + 1""",
    "totals": """
    UPDATE portfolios p SET cash_balance = p.cash_balance + x.cash_delta,
        reserved_cash = x.reserved_cash, realized_pnl = p.realized_pnl + x.realized_delta,
        update_time = now(), version = p.version + 1
    FROM jsonb_to_recordset($rows::jsonb) AS x(
        id uuid, cash_delta numeric, reserved_cash numeric, realized_delta numeric)
    WHERE p.id = x.id""",
    "outbox": """
    INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload)
    SELECT aggregate_type, aggregate_id, event_type, payload
    FROM jsonb_to_recordset($rows::jsonb) AS x(
        n integer, aggregate_type text, aggregate_id text, event_type text, payload jsonb)
    ORDER BY n""",
}


@functools.cache
def _statement(present: tuple[str, ...]) -> str:
    """Return the statement writing the tables in `present` (fewer CTEs plan faster)."""
    ctes = [f"{name} AS ({_PARTS[name].replace('$rows', f'${number}')})"
            for number, name in enumerate(present, start=1)]
    return "WITH " + ",\n".join(ctes) + "\nSELECT 1"


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

    async def write(self, connection: asyncpg.Connection) -> None:
        """Write every row in one statement (inside the caller's tenant transaction)."""
        for ordered in (self.ledger, self.events, self.outbox):
            for n, row in enumerate(ordered):
                row["n"] = n
        tables = {name: rows for name in _PARTS if (rows := getattr(self, name))}
        if tables:
            await connection.execute(_statement(tuple(tables)),
                                     *(_json(rows) for rows in tables.values()))


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


def _encode(value: object) -> str:
    # Exact text for the SQL types: numeric from Decimal's digits, never through a float.
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _json(rows: list[Row]) -> str:
    return json.dumps(rows, default=_encode, separators=(",", ":"))
