"""What an order would cost before it is placed: price, notional and commission."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from services.runtime.errors import FieldViolation, require
from services.trading.domain.money import CENT, parse_positive


class Side(StrEnum):
    """Whether the order buys or sells."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """How the order's price is decided."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


@dataclass(frozen=True)
class FeeSchedule:
    """A plan's commission: basis points of notional with a minimum per order."""

    rate_bps: Decimal
    minimum_fee: Decimal
    currency_code: str = "USD"


@dataclass(frozen=True)
class PreviewRequest:
    """A validated question: what would this order cost?"""

    symbol: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    limit_price: Decimal | None
    stop_price: Decimal | None


@dataclass(frozen=True)
class Preview:
    """The estimate."""

    price: Decimal
    notional: Decimal
    fee: Decimal


def validate_preview(symbol: str, side: Side | None, quantity: str,
                     order_type: OrderType | None, limit_price: str,
                     stop_price: str = "") -> PreviewRequest:
    """Return the validated request, or fail naming every bad field."""
    violations: list[FieldViolation] = []
    if not symbol.strip():
        violations.append(FieldViolation("symbol", "must not be empty"))
    if side is None:
        violations.append(FieldViolation("side", "must be ORDER_SIDE_BUY or ORDER_SIDE_SELL"))
    if order_type is None:
        violations.append(FieldViolation("order_type", "must be set"))
    amount = parse_positive("quantity", quantity, violations)
    limit = stop = None
    if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        limit = parse_positive("limit_price", limit_price, violations)
    if order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        stop = parse_positive("stop_price", stop_price, violations)
    require(violations, "the order has invalid fields")
    assert side is not None and order_type is not None and amount is not None
    return PreviewRequest(symbol.strip().upper(), side, amount, order_type, limit, stop)


def estimate(request: PreviewRequest, bid: Decimal, ask: Decimal, fees: FeeSchedule) -> Preview:
    """Price the order at its limit, else its stop, else the side of the book it would take."""
    price = request.limit_price or request.stop_price or (
        ask if request.side is Side.BUY else bid)
    notional = (price * request.quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    commission = (notional * fees.rate_bps / 10_000).quantize(CENT, rounding=ROUND_HALF_UP)
    return Preview(price=price, notional=notional, fee=max(commission, fees.minimum_fee))
