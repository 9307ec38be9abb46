"""Trading domain objects and rows <-> protobuf messages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradesage.trading.v1 import trading_resources_pb2 as pb
from tradesage.type.v1 import money_pb2

from services.runtime.timestamps import to_timestamp
from services.trading.domain.orders import (
    EventType,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from services.trading.domain.positions import Position, money
from services.trading.records import order_from_snapshot
from services.trading.store import LedgerRecord, PortfolioRecord, TradeRecord

_SIDES = {pb.ORDER_SIDE_BUY: Side.BUY, pb.ORDER_SIDE_SELL: Side.SELL}
_ORDER_TYPES = {
    pb.ORDER_TYPE_MARKET: OrderType.MARKET, pb.ORDER_TYPE_LIMIT: OrderType.LIMIT,
    pb.ORDER_TYPE_STOP: OrderType.STOP, pb.ORDER_TYPE_STOP_LIMIT: OrderType.STOP_LIMIT}
_TIFS = {pb.TIME_IN_FORCE_DAY: TimeInForce.DAY, pb.TIME_IN_FORCE_GTC: TimeInForce.GTC,
         pb.TIME_IN_FORCE_IOC: TimeInForce.IOC, pb.TIME_IN_FORCE_FOK: TimeInForce.FOK}
_STATUSES = {OrderStatus.NEW: pb.ORDER_STATUS_NEW, OrderStatus.ACCEPTED: pb.ORDER_STATUS_ACCEPTED,
             OrderStatus.PARTIALLY_FILLED: pb.ORDER_STATUS_PARTIALLY_FILLED,
             OrderStatus.FILLED: pb.ORDER_STATUS_FILLED,
             OrderStatus.CANCELED: pb.ORDER_STATUS_CANCELED,
             OrderStatus.REJECTED: pb.ORDER_STATUS_REJECTED,
             OrderStatus.EXPIRED: pb.ORDER_STATUS_EXPIRED}
_ORDER_TYPES_OUT = {v: k for k, v in _ORDER_TYPES.items()}
_TIFS_OUT = {v: k for k, v in _TIFS.items()}
_EVENTS = {EventType(name.removeprefix("ORDER_EVENT_TYPE_").lower()): value
           for name, value in pb.OrderEventType.items() if value}
_LEDGER_TYPES = {"deposit": pb.LEDGER_ENTRY_TYPE_DEPOSIT,
                 "withdrawal": pb.LEDGER_ENTRY_TYPE_WITHDRAWAL,
                 "trade": pb.LEDGER_ENTRY_TYPE_TRADE, "fee": pb.LEDGER_ENTRY_TYPE_FEE,
                 "adjustment": pb.LEDGER_ENTRY_TYPE_ADJUSTMENT}


def side_from_proto(value: int) -> Side | None:
    """Return the side, or None when unspecified."""
    return _SIDES.get(value)  # type: ignore[call-overload]


def order_type_from_proto(value: int) -> OrderType | None:
    """Return the order type, or None when unspecified."""
    return _ORDER_TYPES.get(value)  # type: ignore[call-overload]


def time_in_force_from_proto(value: int) -> TimeInForce | None:
    """Return the time in force, or None when unspecified (the caller's default applies)."""
    return _TIFS.get(value)  # type: ignore[call-overload]


def status_from_proto(value: int) -> OrderStatus | None:
    """Return the order status, or None when unspecified."""
    for status, number in _STATUSES.items():
        if number == value:
            return status
    return None


def ledger_type_from_proto(value: int) -> str | None:
    """Return the ledger entry type name, or None when unspecified."""
    for name, number in _LEDGER_TYPES.items():
        if number == value:
            return name
    return None


def amount(value: Decimal, currency: str) -> money_pb2.Money:
    """Return a Money of `value` rounded to cents."""
    return money_pb2.Money(currency_code=currency, amount=str(money(value)))


def decimal_text(value: Decimal | None) -> str:
    """Return a decimal as plain text without exponent ('' for None)."""
    if value is None:
        return ""
    return format(value, "f")


def order_to_proto(order: Order) -> pb.Order:
    """Return the Order message of a domain order."""
    message = pb.Order(
        name=f"orders/{order.id}", id=order.id, client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id or "", portfolio=f"portfolios/{order.portfolio_id}",
        symbol=order.symbol, side=pb.ORDER_SIDE_BUY if order.side is Side.BUY
        else pb.ORDER_SIDE_SELL,
        order_type=_ORDER_TYPES_OUT[order.order_type],
        time_in_force=_TIFS_OUT[order.time_in_force],
        quantity=decimal_text(order.quantity), limit_price=decimal_text(order.limit_price),
        stop_price=decimal_text(order.stop_price), status=_STATUSES[order.status],
        filled_quantity=decimal_text(order.filled_quantity),
        remaining_quantity=decimal_text(order.remaining),
        average_fill_price=decimal_text(_price_precision(order.average_fill_price)),
        fees=amount(order.fees, order.currency_code), reject_reason=order.reject_reason or "")
    for field, moment in (("create_time", order.create_time), ("update_time", order.update_time),
                          ("expire_time", order.expire_time)):
        if moment is not None:
            getattr(message, field).CopyFrom(to_timestamp(moment))
    return message


def trade_to_proto(trade: TradeRecord) -> pb.Trade:
    """Return the Trade message of a fill."""
    currency = trade.currency_code
    return pb.Trade(
        name=f"trades/{trade.id}", id=trade.id, order=f"orders/{trade.order_id}",
        client_order_id=trade.client_order_id, portfolio=f"portfolios/{trade.portfolio_id}",
        symbol=trade.symbol,
        side=pb.ORDER_SIDE_BUY if trade.side == "buy" else pb.ORDER_SIDE_SELL,
        quantity=decimal_text(trade.quantity), price=decimal_text(trade.price),
        notional=amount(trade.notional, currency), fee=amount(trade.fee, currency),
        realized_pnl=amount(trade.realized_pnl, currency),
        trade_time=to_timestamp(trade.trade_time), record_time=to_timestamp(trade.record_time))


def event_to_proto(event_id: str, kind: str, reason: str | None, snapshot: str | Mapping[str, Any],
                   event_time: Any, record_time: Any, trade: TradeRecord | None) -> pb.OrderEvent:
    """Return the OrderEvent message of a stored event."""
    message = pb.OrderEvent(
        event_id=event_id, type=_EVENTS[EventType(kind)], reason=reason or "",
        order=order_to_proto(order_from_snapshot(
            json.loads(snapshot) if isinstance(snapshot, str) else snapshot)),
        event_time=to_timestamp(event_time), record_time=to_timestamp(record_time))
    if trade is not None:
        message.trade.CopyFrom(trade_to_proto(trade))
    return message


def ledger_to_proto(entry: LedgerRecord) -> pb.LedgerEntry:
    """Return the LedgerEntry message of a ledger row."""
    reference = (f"trades/{entry.trade_id}" if entry.trade_id
                 else f"orders/{entry.order_id}" if entry.order_id else "")
    return pb.LedgerEntry(
        name=f"portfolios/{entry.portfolio_id}/ledgerEntries/{entry.id}",
        type=_LEDGER_TYPES[entry.entry_type],
        amount=amount(entry.amount, entry.currency_code),
        balance_after=amount(entry.balance_after, entry.currency_code),
        description=entry.description, reference=reference,
        create_time=to_timestamp(entry.create_time))


def position_to_proto(portfolio_id: str, position: Position, mark: Decimal | None,
                      currency: str) -> pb.Position:
    """Return the Position message, valued at `mark` when there is a price."""
    message = pb.Position(
        name=f"portfolios/{portfolio_id}/positions/{position.symbol}", symbol=position.symbol,
        quantity=decimal_text(position.quantity),
        average_cost=decimal_text(money_precision(position.average_cost)),
        cost_basis=amount(position.cost_basis, currency),
        realized_pnl=amount(position.realized_pnl, currency))
    if mark is not None:
        message.market_price = decimal_text(mark)
        message.market_value.CopyFrom(amount(position.market_value(mark), currency))
        message.unrealized_pnl.CopyFrom(amount(position.unrealized_pnl(mark), currency))
    if position.open_time is not None:
        message.open_time.CopyFrom(to_timestamp(position.open_time))
    if position.update_time is not None:
        message.update_time.CopyFrom(to_timestamp(position.update_time))
    return message


def _price_precision(value: Decimal | None) -> Decimal | None:
    """Return an average price to at most 8 decimals (quotients can repeat forever)."""
    if value is None:
        return None
    rounded = value.quantize(Decimal("0.00000001"))
    return value if rounded == value else rounded.normalize()


def money_precision(value: Decimal) -> Decimal:
    """Return a per-unit price to 6 decimal places (average costs can repeat forever)."""
    return value.quantize(Decimal("0.000001"))


def portfolio_to_proto(record: PortfolioRecord, market_value: Decimal | None,
                       unrealized: Decimal | None) -> pb.Portfolio:
    """Return the Portfolio message, valued with the positions' market value when known."""
    currency = record.base_currency_code
    message = pb.Portfolio(
        name=f"portfolios/{record.id}", id=record.id, display_name=record.display_name,
        user_id=record.user_id, base_currency_code=currency,
        state=pb.PORTFOLIO_STATE_ACTIVE if record.state == "active"
        else pb.PORTFOLIO_STATE_CLOSED,
        cash_balance=amount(record.cash_balance, currency),
        reserved_cash=amount(record.reserved_cash, currency),
        available_cash=amount(record.available_cash, currency),
        realized_pnl=amount(record.realized_pnl, currency),
        create_time=to_timestamp(record.create_time), update_time=to_timestamp(record.update_time))
    if market_value is not None:
        message.equity.CopyFrom(amount(record.cash_balance + market_value, currency))
    if unrealized is not None:
        message.unrealized_pnl.CopyFrom(amount(unrealized, currency))
    if record.close_time is not None:
        message.close_time.CopyFrom(to_timestamp(record.close_time))
    return message
