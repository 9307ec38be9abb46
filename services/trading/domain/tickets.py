"""Validation of order requests: every field, then the instrument's price and lot grid."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.runtime.errors import FieldViolation, InvalidArgument, require
from services.trading.domain.instruments import Instrument
from services.trading.domain.money import parse_positive
from services.trading.domain.orders import OrderType, Side, TimeInForce

MAX_CLIENT_ORDER_ID = 64
_PRICED = (OrderType.LIMIT, OrderType.STOP_LIMIT)
_STOPPED = (OrderType.STOP, OrderType.STOP_LIMIT)


@dataclass(frozen=True)
class OrderTicket:
    """A syntactically valid order request."""

    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None


def validate_ticket(client_order_id: str, symbol: str, side: Side | None,
                    order_type: OrderType | None, time_in_force: TimeInForce | None,
                    quantity: str, limit_price: str, stop_price: str) -> OrderTicket:
    """Return the ticket, or fail naming every bad field."""
    violations: list[FieldViolation] = []
    if not client_order_id or len(client_order_id) > MAX_CLIENT_ORDER_ID or not (
            client_order_id.isascii() and client_order_id.isprintable()):
        violations.append(FieldViolation(
            "client_order_id", f"must be 1 to {MAX_CLIENT_ORDER_ID} printable ASCII characters"))
    if not symbol.strip():
        violations.append(FieldViolation("symbol", "must not be empty"))
    if side is None:
        violations.append(FieldViolation("side", "must be ORDER_SIDE_BUY or ORDER_SIDE_SELL"))
    if order_type is None:
        violations.append(FieldViolation("order_type", "must be set"))
    amount = parse_positive("quantity", quantity, violations)
    limit = _price("limit_price", limit_price, order_type in _PRICED, order_type, violations)
    stop = _price("stop_price", stop_price, order_type in _STOPPED, order_type, violations)
    require(violations, "the order has invalid fields")
    assert side is not None and order_type is not None and amount is not None
    return OrderTicket(client_order_id, symbol.strip().upper(), side, order_type,
                       time_in_force or TimeInForce.DAY, amount, limit, stop)


def _price(field: str, value: str, needed: bool, order_type: OrderType | None,
           violations: list[FieldViolation]) -> Decimal | None:
    if needed:
        return parse_positive(field, value, violations)
    if value.strip() and order_type is not None:
        violations.append(FieldViolation(
            field, f"must be empty for {order_type.value} orders",
            reason="INVALID_PRICE_FOR_ORDER_TYPE"))
    return None


def check_grid(ticket: OrderTicket, instrument: Instrument) -> None:
    """Refuse prices off the tick grid and quantities off the lot grid."""
    if ticket.quantity % instrument.lot_size:
        raise InvalidArgument(
            f"quantity {ticket.quantity} is not a multiple of the lot size {instrument.lot_size}",
            [FieldViolation("quantity", f"must be a multiple of {instrument.lot_size}",
                            reason="INVALID_QUANTITY_INCREMENT")],
            reason="INVALID_QUANTITY_INCREMENT",
            metadata={"quantity": str(ticket.quantity), "lotSize": str(instrument.lot_size)})
    for field, price in (("limit_price", ticket.limit_price), ("stop_price", ticket.stop_price)):
        if price is not None and price % instrument.tick_size:
            raise InvalidArgument(
                f"{field} {price} is not a multiple of the tick size {instrument.tick_size}",
                [FieldViolation(field, f"must be a multiple of {instrument.tick_size}",
                                reason="INVALID_PRICE_INCREMENT")],
                reason="INVALID_PRICE_INCREMENT",
                metadata={"field": field, "price": str(price),
                          "tickSize": str(instrument.tick_size)})
