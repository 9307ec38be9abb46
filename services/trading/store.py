"""SQL over the trading tables: platform reference data, and one tenant's trading schema.

`TenantTrading` works on a connection from `tenant_transaction`, so every statement runs
under the tenant's role and schema; the caller owns the transaction.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.trading.domain.orders import OPEN_STATUSES, EventType, Order
from services.trading.domain.positions import Position
from services.trading.domain.risk import FeeSchedule, RiskPolicy
from services.trading.effects import CommandEffects, Row
from services.trading.records import ORDER_COLUMNS, order_from_row, position_from_row


class ReferenceStore:
    """Commission schedules and risk policies per plan (platform data, briefly cached)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._fees: dict[str, FeeSchedule] = {}
        self._policies: dict[str, RiskPolicy] = {}

    async def fees(self, plan: str) -> FeeSchedule:
        """Return the commission schedule of a tenant plan."""
        if plan not in self._fees:
            row = await self._pool.fetchrow(
                "SELECT rate_bps, minimum_fee, currency_code FROM trading.fee_schedules"
                " WHERE plan = $1", plan)
            if row is None:
                raise LookupError(f"no fee schedule for plan {plan}")
            self._fees[plan] = FeeSchedule(row["rate_bps"], row["minimum_fee"],
                                           row["currency_code"].strip())
        return self._fees[plan]

    async def policy(self, plan: str) -> RiskPolicy:
        """Return the pre-trade risk policy of a tenant plan."""
        if plan not in self._policies:
            row = await self._pool.fetchrow(
                "SELECT max_order_notional, max_position_notional, collar_bps, allow_short"
                " FROM trading.risk_policies WHERE plan = $1", plan)
            if row is None:
                raise LookupError(f"no risk policy for plan {plan}")
            self._policies[plan] = RiskPolicy(**dict(row))
        return self._policies[plan]


@dataclass(frozen=True)
class PortfolioRecord:
    """A row of `portfolios`."""

    id: str
    user_id: str
    display_name: str
    base_currency_code: str
    state: str
    cash_balance: Decimal
    reserved_cash: Decimal
    realized_pnl: Decimal
    create_time: datetime
    update_time: datetime
    close_time: datetime | None

    @property
    def available_cash(self) -> Decimal:
        """Return the cash free for orders and withdrawals."""
        return self.cash_balance - self.reserved_cash


@dataclass(frozen=True)
class LockedPortfolios:
    """Portfolios a command locked, with their positions in its symbol."""

    portfolios: dict[str, PortfolioRecord]
    positions: dict[str, Position]
    # Orders placed before, by (portfolio id, client order id), of those the command asked for.
    prior_orders: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class LedgerRecord:
    """A row of `cash_ledger_entries`."""

    id: str
    portfolio_id: str
    entry_type: str
    amount: Decimal
    balance_after: Decimal
    currency_code: str
    description: str
    order_id: str | None
    trade_id: str | None
    create_time: datetime


@dataclass(frozen=True)
class TradeRecord:
    """A row of `trades`, with the order's client id."""

    id: str
    order_id: str
    client_order_id: str
    portfolio_id: str
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    notional: Decimal
    fee: Decimal
    realized_pnl: Decimal
    currency_code: str
    trade_time: datetime
    record_time: datetime


@dataclass(frozen=True)
class StoredEvent:
    """An order event as stored: the snapshot is the order's JSON right after it."""

    id: str
    order_id: str
    type: EventType
    reason: str | None
    trade_id: str | None
    snapshot: str
    time: datetime


_PORTFOLIO_COLUMNS = (
    "id, user_id, display_name, base_currency_code, state, cash_balance, reserved_cash,"
    " realized_pnl, create_time, update_time, close_time")
_PORTFOLIO_NAMES = [name.strip() for name in _PORTFOLIO_COLUMNS.split(",")]
_POSITION_NAMES = [f"position_{name}" for name in (
    "symbol", "quantity", "cost_basis", "realized_pnl", "open_time", "update_time")]
# A portfolio with its position in one symbol (positions share some column names).
_LOCKED_COLUMNS = ", ".join([f"p.{name}" for name in _PORTFOLIO_NAMES] + [
    f"s.{name.removeprefix('position_')} AS {name}" for name in _POSITION_NAMES])
_LEDGER_COLUMNS = (
    "id, portfolio_id, entry_type, amount, balance_after, currency_code, description,"
    " order_id, trade_id, create_time")
_OPEN = list(s.value for s in OPEN_STATUSES)
# A fill with its order's client id (the trades table does not repeat it).
_TRADE_SELECT = (
    "SELECT t.id, t.order_id, o.client_order_id, t.portfolio_id, t.symbol, t.side, t.quantity,"
    " t.price, t.notional, t.fee, t.realized_pnl, t.currency_code, t.trade_time, t.record_time"
    " FROM trades t JOIN orders o ON o.id = t.order_id")


def _portfolio(row: Mapping[str, Any]) -> PortfolioRecord:
    return PortfolioRecord(**{**dict(row), "id": str(row["id"]), "user_id": str(row["user_id"]),
                              "base_currency_code": row["base_currency_code"].strip()})


def _ledger(row: Mapping[str, Any]) -> LedgerRecord:
    return LedgerRecord(**{
        **dict(row), "id": str(row["id"]), "portfolio_id": str(row["portfolio_id"]),
        "currency_code": row["currency_code"].strip(),
        "order_id": str(row["order_id"]) if row["order_id"] else None,
        "trade_id": str(row["trade_id"]) if row["trade_id"] else None})


def _trade(row: Mapping[str, Any]) -> TradeRecord:
    return TradeRecord(**{
        **dict(row), "id": str(row["id"]), "order_id": str(row["order_id"]),
        "portfolio_id": str(row["portfolio_id"]), "currency_code": row["currency_code"].strip()})


# A command's writes in one statement: each table's rows travel as one JSON array, and one
# data-modifying CTE per table that has rows inserts or updates them. Foreign keys between the
# new rows hold (PostgreSQL checks them at the end of the statement); ledger entries and
# events go in the order given (`n`), since their sequence numbers record booking order.
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


def _encode(value: object) -> str:
    # Exact text for the SQL types: numeric from Decimal's digits, never through a float.
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _json(rows: list[Row]) -> str:
    return json.dumps(rows, default=_encode, separators=(",", ":"))


class TenantTrading:
    """Statements on one tenant's trading tables, inside the caller's transaction."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    # Portfolios

    async def create_portfolio(self, user_id: str, display_name: str,
                               currency: str) -> PortfolioRecord:
        """Insert an active, empty portfolio."""
        row = await self.connection.fetchrow(
            f"INSERT INTO portfolios (user_id, display_name, base_currency_code)"
            f" VALUES ($1, $2, $3) RETURNING {_PORTFOLIO_COLUMNS}",
            uuid.UUID(user_id), display_name, currency)
        return _portfolio(row)

    async def count_portfolios(self) -> int:
        """Return how many active portfolios the tenant has."""
        return int(await self.connection.fetchval(
            "SELECT count(*) FROM portfolios WHERE state = 'active'"))

    async def portfolio(self, portfolio_id: str, *, lock: bool = False) -> PortfolioRecord | None:
        """Return a portfolio, optionally locked for update."""
        row = await self.connection.fetchrow(
            f"SELECT {_PORTFOLIO_COLUMNS} FROM portfolios WHERE id = $1"
            + (" FOR UPDATE" if lock else ""), uuid.UUID(portfolio_id))
        return _portfolio(row) if row else None

    async def lock_portfolios(self, ids: Sequence[str], symbol: str,
                              client_orders: Sequence[tuple[str, str]] = ()
                              ) -> LockedPortfolios:
        """Lock portfolios in id order; return them and their positions in `symbol`.

        The positions and prior orders come from the statement's snapshot, taken before any
        wait for a portfolio lock; they are current because the only writers of a symbol's
        positions and orders are the engine's commands on that symbol, which its venue lock
        already serializes (one active engine). `client_orders` (portfolio id, client order
        id) looks up the orders placed before with those ids, in the same round trip; a twin
        on another symbol committing meanwhile is caught by the unique key instead.
        """
        rows = await self.connection.fetch(
            f"SELECT {_LOCKED_COLUMNS}, (SELECT jsonb_object_agg(o.portfolio_id::text || ' '"
            " || o.client_order_id, o.id) FROM orders o JOIN unnest($3::uuid[], $4::text[])"
            " AS c (portfolio_id, client_order_id) ON o.portfolio_id = c.portfolio_id"
            " AND o.client_order_id = c.client_order_id) AS prior_orders FROM portfolios p"
            " LEFT JOIN positions s ON s.portfolio_id = p.id AND s.symbol = $2"
            " WHERE p.id = ANY($1::uuid[]) ORDER BY p.id FOR UPDATE OF p",
            sorted(ids), symbol, [uuid.UUID(p) for p, _ in client_orders],
            [c for _, c in client_orders])
        priors = json.loads(rows[0]["prior_orders"] or "{}") if rows else {}
        return LockedPortfolios(
            portfolios={str(r["id"]): _portfolio({k: r[k] for k in _PORTFOLIO_NAMES})
                        for r in rows},
            positions={str(r["id"]): position_from_row({
                k.removeprefix("position_"): r[k] for k in _POSITION_NAMES})
                for r in rows if r["position_symbol"] is not None},
            prior_orders={tuple(key.split(" ", 1)): order_id  # type: ignore[misc]
                          for key, order_id in priors.items()})

    async def list_portfolios(self, user_id: str, limit: int, after: tuple[datetime, str] | None,
                              show_closed: bool) -> list[PortfolioRecord]:
        """Return a user's portfolios, oldest first, after a (create_time, id) cursor."""
        rows = await self.connection.fetch(
            f"SELECT {_PORTFOLIO_COLUMNS} FROM portfolios WHERE user_id = $1"
            " AND ($2 OR state = 'active')"
            " AND ($3::timestamptz IS NULL OR (create_time, id) > ($3, $4::uuid))"
            " ORDER BY create_time, id LIMIT $5",
            uuid.UUID(user_id), show_closed, after[0] if after else None,
            uuid.UUID(after[1]) if after else None, limit)
        return [_portfolio(r) for r in rows]

    async def rename_portfolio(self, portfolio_id: str, display_name: str) -> PortfolioRecord:
        """Change a portfolio's display name."""
        row = await self.connection.fetchrow(
            f"UPDATE portfolios SET display_name = $2, update_time = now(), version = version + 1"
            f" WHERE id = $1 RETURNING {_PORTFOLIO_COLUMNS}", uuid.UUID(portfolio_id), display_name)
        return _portfolio(row)

    async def close_portfolio(self, portfolio_id: str) -> PortfolioRecord:
        """Mark a portfolio closed."""
        row = await self.connection.fetchrow(
            f"UPDATE portfolios SET state = 'closed', close_time = now(), update_time = now(),"
            f" version = version + 1 WHERE id = $1 RETURNING {_PORTFOLIO_COLUMNS}",
            uuid.UUID(portfolio_id))
        return _portfolio(row)

    async def has_holdings(self, portfolio_id: str) -> bool:
        """Return whether a portfolio still has a position or an open order."""
        return bool(await self.connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM positions WHERE portfolio_id = $1 AND quantity <> 0)"
            " OR EXISTS (SELECT 1 FROM orders WHERE portfolio_id = $1 AND status = ANY($2))",
            uuid.UUID(portfolio_id), _OPEN))

    async def save_portfolio_totals(self, portfolio_id: str, cash_delta: Decimal,
                                    reserved: Decimal, realized_delta: Decimal) -> None:
        """Apply a command's net change to a portfolio's running totals."""
        await self.connection.execute(
            "UPDATE portfolios SET cash_balance = cash_balance + $2, reserved_cash = $3,"
            " realized_pnl = realized_pnl + $4, update_time = now(), version = version + 1"
            " WHERE id = $1", uuid.UUID(portfolio_id), cash_delta, reserved, realized_delta)

    # Cash ledger

    async def book_entry(self, portfolio_id: str, entry_type: str, amount: Decimal,
                         balance_after: Decimal, currency: str, description: str = "",
                         order_id: str | None = None, trade_id: str | None = None,
                         when: datetime | None = None) -> LedgerRecord:
        """Append a ledger entry."""
        row = await self.connection.fetchrow(
            f"INSERT INTO cash_ledger_entries (portfolio_id, entry_type, amount, balance_after,"
            f" currency_code, description, order_id, trade_id, create_time)"
            f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, now()))"
            f" RETURNING {_LEDGER_COLUMNS}",
            uuid.UUID(portfolio_id), entry_type, amount, balance_after, currency, description,
            uuid.UUID(order_id) if order_id else None, uuid.UUID(trade_id) if trade_id else None,
            when)
        return _ledger(row)

    async def list_entries(self, portfolio_id: str, limit: int, before_sequence: int | None,
                           types: Sequence[str], start: datetime | None,
                           end: datetime | None) -> list[tuple[int, LedgerRecord]]:
        """Return ledger entries newest first, with their sequence for paging."""
        rows = await self.connection.fetch(
            f"SELECT sequence, {_LEDGER_COLUMNS} FROM cash_ledger_entries"
            " WHERE portfolio_id = $1 AND ($2::bigint IS NULL OR sequence < $2)"
            " AND (cardinality($3::text[]) = 0 OR entry_type = ANY($3))"
            " AND ($4::timestamptz IS NULL OR create_time >= $4)"
            " AND ($5::timestamptz IS NULL OR create_time < $5)"
            " ORDER BY sequence DESC LIMIT $6",
            uuid.UUID(portfolio_id), before_sequence, list(types), start, end, limit)
        return [(r["sequence"], _ledger({k: v for k, v in r.items() if k != "sequence"}))
                for r in rows]

    # Orders

    async def order(self, order_id: str, *, lock: bool = False) -> Order | None:
        """Return an order by id."""
        row = await self.connection.fetchrow(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1" + (" FOR UPDATE" if lock else ""),
            uuid.UUID(order_id))
        return order_from_row(row) if row else None

    async def order_row(self, order_id: str) -> asyncpg.Record:
        """Return an order's row (it must exist)."""
        return await self.connection.fetchrow(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1", uuid.UUID(order_id))

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Return the tenant's open orders (of one symbol if given), in time priority."""
        rows = await self.connection.fetch(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE status = ANY($1)"
            " AND ($2::text IS NULL OR symbol = $2)"
            " ORDER BY coalesce(priority_time, create_time), id", _OPEN, symbol)
        return [order_from_row(r) for r in rows]

    async def count_orders_since(self, since: datetime) -> int:
        """Return how many orders the tenant placed since `since`."""
        return int(await self.connection.fetchval(
            "SELECT count(*) FROM orders WHERE create_time >= $1", since))

    async def list_orders(self, user_id: str, limit: int, cursor: tuple[datetime, str] | None,
                          filters: Mapping[str, Any]) -> list[Order]:
        """Return a user's orders newest first, filtered, before a (create_time, id) cursor."""
        rows = await self.connection.fetch(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1"
            " AND ($2::timestamptz IS NULL OR (create_time, id) < ($2, $3::uuid))"
            " AND ($4::uuid IS NULL OR portfolio_id = $4)"
            " AND ($5::text IS NULL OR symbol = $5)"
            " AND (cardinality($6::text[]) = 0 OR status = ANY($6))"
            " AND ($7::text IS NULL OR side = $7)"
            " AND ($8::text IS NULL OR client_order_id = $8)"
            " AND ($9::timestamptz IS NULL OR create_time >= $9)"
            " AND ($10::timestamptz IS NULL OR create_time < $10)"
            " ORDER BY create_time DESC, id DESC LIMIT $11",
            uuid.UUID(user_id), cursor[0] if cursor else None,
            uuid.UUID(cursor[1]) if cursor else None,
            uuid.UUID(filters["portfolio"]) if filters.get("portfolio") else None,
            filters.get("symbol"), list(filters.get("statuses", ())), filters.get("side"),
            filters.get("client_order_id"), filters.get("start"), filters.get("end"), limit)
        return [order_from_row(r) for r in rows]

    async def list_events(self, order_id: str, limit: int,
                          after_sequence: int | None) -> list[asyncpg.Record]:
        """Return an order's events oldest first, after a sequence cursor."""
        return list(await self.connection.fetch(
            "SELECT e.sequence, e.id, e.event_type, e.reason, e.order_snapshot, e.event_time,"
            " e.record_time, e.trade_id FROM order_events e WHERE e.order_id = $1"
            " AND ($2::bigint IS NULL OR e.sequence > $2) ORDER BY e.sequence LIMIT $3",
            uuid.UUID(order_id), after_sequence, limit))

    # Trades and positions

    async def trades(self, user_id: str, limit: int, cursor: tuple[datetime, str] | None,
                     filters: Mapping[str, Any], *, newest_first: bool = True
                     ) -> list[TradeRecord]:
        """Return a user's fills, filtered, after a (trade_time, id) cursor."""
        direction, compare = ("DESC", "<") if newest_first else ("ASC", ">")
        rows = await self.connection.fetch(
            _TRADE_SELECT +
            " WHERE o.user_id = $1"
            f" AND ($2::timestamptz IS NULL OR (t.trade_time, t.id) {compare} ($2, $3::uuid))"
            " AND ($4::uuid IS NULL OR t.portfolio_id = $4)"
            " AND ($5::text IS NULL OR t.symbol = $5)"
            " AND ($6::uuid IS NULL OR t.order_id = $6)"
            " AND ($7::timestamptz IS NULL OR t.trade_time >= $7)"
            " AND ($8::timestamptz IS NULL OR t.trade_time < $8)"
            f" ORDER BY t.trade_time {direction}, t.id {direction} LIMIT $9",
            uuid.UUID(user_id), cursor[0] if cursor else None,
            uuid.UUID(cursor[1]) if cursor else None,
            uuid.UUID(filters["portfolio"]) if filters.get("portfolio") else None,
            filters.get("symbol"),
            uuid.UUID(filters["order"]) if filters.get("order") else None,
            filters.get("start"), filters.get("end"), limit)
        return [_trade(r) for r in rows]

    async def positions(self, portfolio_id: str,
                        symbols: Sequence[str] | None = None) -> dict[str, Position]:
        """Return a portfolio's positions (all, or of `symbols`)."""
        rows = await self.connection.fetch(
            "SELECT symbol, quantity, cost_basis, realized_pnl, open_time, update_time"
            " FROM positions WHERE portfolio_id = $1"
            " AND ($2::text[] IS NULL OR symbol = ANY($2)) ORDER BY symbol",
            uuid.UUID(portfolio_id), list(symbols) if symbols is not None else None)
        return {r["symbol"]: position_from_row(r) for r in rows}

    async def write_effects(self, effects: CommandEffects) -> None:
        """Write every row a command changed, in one statement."""
        tables = effects.tables()
        if tables:
            await self.connection.execute(_statement(tuple(tables)),
                                          *(_json(rows) for rows in tables.values()))

    # Outbox and idempotency

    async def add_outbox(self, events: Sequence[tuple[str, str, str, dict[str, Any]]]) -> None:
        """Queue domain events: (aggregate type, aggregate id, event type, payload)."""
        if events:
            await self.connection.executemany(
                "INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload)"
                " VALUES ($1, $2, $3, $4::jsonb)",
                [(a, i, t, json.dumps(p, separators=(",", ":"))) for a, i, t, p in events])

    async def remembered(self, method: str, request_id: str) -> asyncpg.Record | None:
        """Return the stored (request_hash, response) of an earlier request, locked."""
        return await self.connection.fetchrow(
            "SELECT request_hash, response FROM idempotency_keys WHERE method = $1"
            " AND request_id = $2 FOR UPDATE", method, request_id)

    async def remember(self, method: str, request_id: str, request_hash: bytes,
                       response: bytes) -> None:
        """Store the response to a request id (a concurrent twin fails on the key)."""
        await self.connection.execute(
            "INSERT INTO idempotency_keys (method, request_id, request_hash, response)"
            " VALUES ($1, $2, $3, $4)", method, request_id, request_hash, response)


async def portfolio_history(db: TenantTrading, portfolio_id: str, end: datetime
                            ) -> tuple[list[TradeRecord], list[tuple[datetime, Decimal]]]:
    """Return a portfolio's fills and cash balances (after each entry) before `end`, in order."""
    trades = await db.connection.fetch(
        _TRADE_SELECT + " WHERE t.portfolio_id = $1 AND t.trade_time < $2"
        " ORDER BY t.trade_time, t.id",
        uuid.UUID(portfolio_id), end)
    balances = await db.connection.fetch(
        "SELECT create_time, balance_after FROM cash_ledger_entries WHERE portfolio_id = $1"
        " AND create_time < $2 ORDER BY sequence", uuid.UUID(portfolio_id), end)
    return [_trade(r) for r in trades], [(r["create_time"], r["balance_after"]) for r in balances]
