"""Pre-trade risk: fees, price protection, collars, buying power and exposure limits.

Every check raises FAILED_PRECONDITION with an ErrorInfo reason and the figures behind it
(`required`, `available`, ...), which the edge shows as the error's details.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from services.runtime.errors import FailedPrecondition, Unavailable
from services.trading.domain.orders import ZERO, Order, OrderType, Side
from services.trading.domain.positions import CENT
from services.trading.domain.venue import MarketQuote

BPS = Decimal(10_000)


@dataclass(frozen=True)
class FeeSchedule:
    """A plan's commission: basis points of notional, with a minimum per order."""

    rate_bps: Decimal
    minimum_fee: Decimal
    currency_code: str = "USD"

    def fee(self, notional: Decimal, charged_so_far: Decimal = ZERO,
            notional_before: Decimal = ZERO) -> Decimal:
        """Return the fee of a fill, so that an order's fees total max(commission, minimum).

        `notional_before` and `charged_so_far` are the order's earlier fills and their fees;
        the commission is computed on the running total, so splitting an order into many
        fills never costs more than filling it at once.
        """
        total = ((notional_before + notional) * self.rate_bps / BPS).quantize(
            CENT, rounding=ROUND_HALF_UP)
        return max(max(total, self.minimum_fee) - charged_so_far, ZERO)


@dataclass(frozen=True)
class RiskPolicy:
    """A plan's pre-trade limits; a zero notional limit means none."""

    max_order_notional: Decimal
    max_position_notional: Decimal
    collar_bps: Decimal
    allow_short: bool


@dataclass(frozen=True)
class Exposure:
    """What a portfolio holds and has working in one symbol, besides the order checked."""

    available_cash: Decimal
    position: Decimal
    open_buys: Decimal
    open_sells: Decimal


def reference_price(quote: MarketQuote | None, symbol: str) -> Decimal:
    """Return the price checks compare against: the last trade, else the mid."""
    if quote is None:
        raise Unavailable(f"there is no market price for {symbol} yet",
                          reason="NO_MARKET_PRICE", metadata={"symbol": symbol})
    return quote.last or (quote.bid + quote.ask) / 2


def protection_price(order: Order, quote: MarketQuote, policy: RiskPolicy,
                     tick: Decimal) -> Decimal | None:
    """Return the worst price a market or stop order may fill at: the collar beyond its start."""
    if order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        return None
    start = order.stop_price if order.order_type is OrderType.STOP else quote.price_for(order.side)
    assert start is not None
    band = start * policy.collar_bps / BPS
    worst = start + band if order.side is Side.BUY else start - band
    rounding = ROUND_CEILING if order.side is Side.BUY else ROUND_FLOOR
    return max((worst / tick).quantize(Decimal(1), rounding=rounding) * tick, tick)


def check_collar(order: Order, reference: Decimal, policy: RiskPolicy) -> None:
    """Refuse a limit price further than the collar from the reference price."""
    if order.limit_price is None or not policy.collar_bps:
        return
    band = reference * policy.collar_bps / BPS
    low, high = reference - band, reference + band
    if not low <= order.limit_price <= high:
        raise FailedPrecondition(
            f"the limit price {order.limit_price} is outside the price collar "
            f"[{low:.2f}, {high:.2f}] around the last price {reference}",
            reason="PRICE_OUTSIDE_COLLAR",
            metadata={"price": str(order.limit_price), "reference": str(reference),
                      "minPrice": f"{low:.2f}", "maxPrice": f"{high:.2f}"})


def short_quantity(order: Order, exposure: Exposure) -> Decimal:
    """Return how much of a sell would go short (beyond the position not already for sale)."""
    if order.side is Side.BUY:
        return ZERO
    uncovered = max(exposure.position - exposure.open_sells, ZERO)
    return max(order.remaining - uncovered, ZERO)


def reservation(order: Order, fees: FeeSchedule, shorting: Decimal = ZERO) -> Decimal:
    """Return the cash an order holds back: buys their cost, short sales their collateral."""
    quantity = order.remaining if order.side is Side.BUY else min(shorting, order.remaining)
    price = order.working_price
    if quantity <= 0 or price is None:
        return ZERO
    notional = quantity * price
    held = notional + fees.fee(notional)
    return held.quantize(CENT, rounding=ROUND_CEILING)


def release_after_fill(reserved: Decimal, remaining_before: Decimal,
                       remaining_after: Decimal) -> Decimal:
    """Return what stays reserved after a fill: the share of the remaining quantity."""
    if remaining_after <= 0 or remaining_before <= 0:
        return ZERO
    return (reserved * remaining_after / remaining_before).quantize(CENT, rounding=ROUND_CEILING)


def check_order(order: Order, reference: Decimal, policy: RiskPolicy, exposure: Exposure,
                fees: FeeSchedule) -> Decimal:
    """Run the pre-trade checks in a fixed order; return the cash the order must reserve."""
    check_collar(order, reference, policy)
    price = order.working_price or reference
    notional = order.quantity * price
    if policy.max_order_notional and notional > policy.max_order_notional:
        raise FailedPrecondition(
            f"the order's notional {notional:.2f} exceeds the limit {policy.max_order_notional}",
            reason="ORDER_NOTIONAL_LIMIT",
            metadata={"required": f"{notional:.2f}", "available": str(policy.max_order_notional)})
    shorting = short_quantity(order, exposure)
    if shorting and not policy.allow_short:
        available = max(exposure.position - exposure.open_sells, ZERO)
        raise FailedPrecondition(
            f"selling {order.quantity} {order.symbol} needs a position of that size; "
            f"{available} is held and not already for sale (the plan does not allow short selling)",
            reason="INSUFFICIENT_POSITION",
            metadata={"required": str(order.quantity), "available": str(available),
                      "symbol": order.symbol})
    _check_position_limit(order, reference, policy, exposure)
    required = reservation(order, fees, shorting)
    if required > exposure.available_cash:
        raise FailedPrecondition(
            f"the order needs {required} {fees.currency_code} of buying power; "
            f"{exposure.available_cash} is available",
            reason="INSUFFICIENT_FUNDS",
            metadata={"required": str(required), "available": str(exposure.available_cash),
                      "currency": fees.currency_code})
    return required


def _check_position_limit(order: Order, reference: Decimal, policy: RiskPolicy,
                          exposure: Exposure) -> None:
    if not policy.max_position_notional:
        return
    # What the position comes to if the working orders on the order's side fill, then with it.
    if order.side is Side.BUY:
        working = exposure.position + exposure.open_buys
        resulting = working + order.quantity
    else:
        working = exposure.position - exposure.open_sells
        resulting = working - order.quantity
    exposure_after = abs(resulting) * reference
    if abs(resulting) > abs(exposure.position) and exposure_after > policy.max_position_notional:
        # Both figures are measured from the working position: what the order adds, and the
        # room the limit leaves.
        committed = abs(working) * reference
        raise FailedPrecondition(
            f"the position in {order.symbol} would be worth {exposure_after:.2f}, above the "
            f"limit {policy.max_position_notional}",
            reason="POSITION_LIMIT",
            metadata={"required": f"{max(exposure_after - committed, ZERO):.2f}",
                      "available": f"{max(policy.max_position_notional - committed, ZERO):.2f}",
                      "limit": str(policy.max_position_notional), "symbol": order.symbol})
