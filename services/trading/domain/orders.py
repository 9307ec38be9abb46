"""Orders and their one state machine.

NEW -> ACCEPTED | REJECTED; ACCEPTED and PARTIALLY_FILLED -> PARTIALLY_FILLED | FILLED |
CANCELED | EXPIRED. Closed statuses never change again. Every status change goes through
`Order.move_to`, so no code path can skip a state or revive a closed order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

ZERO = Decimal(0)


class Side(StrEnum):
    """Whether the order buys or sells."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        """Return the other side."""
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    """How the order's price is decided."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    """How long the order keeps working."""

    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(StrEnum):
    """Where the order is in its life."""

    NEW = "new"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        """Return whether an order in this status may still fill."""
        return self._open  # type: ignore[attr-defined, no-any-return]


class EventType(StrEnum):
    """What happened to an order (stored with every transition)."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FILLED = "filled"
    CANCELED = "canceled"
    CANCEL_REJECTED = "cancel_rejected"
    REPLACED = "replaced"
    REPLACE_REJECTED = "replace_rejected"
    EXPIRED = "expired"


OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})
# A plain attribute per member: the matching loop asks is_open about a million times a second,
# and a set lookup hashes the member in Python code (Enum.__hash__).
for _status in OrderStatus:
    _status._open = _status in OPEN_STATUSES  # type: ignore[attr-defined]
_WORKING = frozenset({OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.CANCELED,
                      OrderStatus.EXPIRED})
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset({OrderStatus.ACCEPTED, OrderStatus.REJECTED}),
    OrderStatus.ACCEPTED: _WORKING,
    OrderStatus.PARTIALLY_FILLED: _WORKING,
    OrderStatus.FILLED: frozenset(),
    OrderStatus.CANCELED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}


class RecordedEvent(NamedTuple):
    """An event of an order, with the figures of the order right after it.

    A named tuple rather than a frozen dataclass: one is made per order event, in the matching
    loop, and a tuple is several times cheaper to build.
    """

    type: EventType
    reason: str | None
    status: OrderStatus
    quantity: Decimal
    filled_quantity: Decimal
    filled_notional: Decimal


class IllegalTransition(Exception):
    """A status change the state machine does not allow."""


@dataclass(slots=True, eq=False)
class Order:
    """An order as the engine and the ledger see it; quantities and prices are Decimals."""

    id: str
    portfolio_id: str
    user_id: str
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    currency_code: str = "USD"
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    # The worst price a market order (or a triggered stop) may fill at: its price protection.
    protection_price: Decimal | None = None
    status: OrderStatus = OrderStatus.NEW
    filled_quantity: Decimal = ZERO
    # Sum of quantity x price over fills; average_fill_price derives from it.
    filled_notional: Decimal = ZERO
    fees: Decimal = ZERO
    reserved_cash: Decimal = ZERO
    reject_reason: str | None = None
    # The figures behind a rejection (required, available, ...).
    reject_details: dict[str, str] = field(default_factory=dict)
    triggered: bool = False
    venue_order_id: str | None = None
    create_time: datetime | None = None
    update_time: datetime | None = None
    expire_time: datetime | None = None
    # Time priority in the book: creation, or the last change that lost priority.
    priority_time: datetime | None = None
    version: int = 1
    # The events of the command in progress, each with the order's state right after it;
    # the engine stores and clears them.
    pending_events: list[RecordedEvent] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        """Return the quantity still to fill (zero once closed)."""
        return self.quantity - self.filled_quantity if self.status.is_open else ZERO

    @property
    def average_fill_price(self) -> Decimal | None:
        """Return the quantity-weighted average fill price, or None before the first fill."""
        return self.filled_notional / self.filled_quantity if self.filled_quantity else None

    @property
    def is_stop(self) -> bool:
        """Return whether the order waits for a stop trigger."""
        return self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)

    @property
    def is_waiting_for_trigger(self) -> bool:
        """Return whether the order is a stop that has not triggered yet."""
        return self.is_stop and not self.triggered

    @property
    def rests_in_book(self) -> bool:
        """Return whether the remainder rests at a limit price that other orders can hit."""
        return self.order_type is OrderType.LIMIT or (
            self.order_type is OrderType.STOP_LIMIT and self.triggered)

    @property
    def working_price(self) -> Decimal | None:
        """Return the worst price this order accepts: its limit, else its price protection."""
        if self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            return self.limit_price
        return self.protection_price

    def move_to(self, status: OrderStatus) -> None:
        """Change status through the state machine."""
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(f"order {self.id}: {self.status} -> {status}")
        self.status = status

    def record(self, event: EventType, reason: str | None = None) -> None:
        """Note an event of this command with the order's state right after it."""
        self.pending_events.append(RecordedEvent(
            event, reason, self.status, self.quantity, self.filled_quantity,
            self.filled_notional))

    def accept(self) -> None:
        """The venue took the order."""
        self.move_to(OrderStatus.ACCEPTED)
        self.record(EventType.ACCEPTED)

    def reject(self, reason: str) -> None:
        """The order fails a check and never works."""
        self.move_to(OrderStatus.REJECTED)
        self.reject_reason = reason
        self.record(EventType.REJECTED, reason)

    def fill(self, quantity: Decimal, price: Decimal) -> None:
        """Record a fill of `quantity` at `price`."""
        if quantity <= 0 or quantity > self.remaining:
            raise IllegalTransition(f"order {self.id}: fill {quantity} of {self.remaining}")
        self.filled_quantity += quantity
        self.filled_notional += quantity * price
        self.move_to(OrderStatus.FILLED if self.filled_quantity == self.quantity
                     else OrderStatus.PARTIALLY_FILLED)
        self.record(EventType.FILLED)

    def cancel(self, reason: str) -> None:
        """Stop working; any filled part stands."""
        self.move_to(OrderStatus.CANCELED)
        self.record(EventType.CANCELED, reason)

    def expire(self) -> None:
        """The time in force ran out."""
        self.move_to(OrderStatus.EXPIRED)
        self.record(EventType.EXPIRED, "TIME_IN_FORCE_ENDED")
