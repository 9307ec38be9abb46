"""Positions by the average-cost method, fees included, and their profit and loss.

Quantities are signed (positive long, negative short). `cost_basis` is signed with them: what a
long position cost including buy fees, or minus what a short sale brought in net of fees, so
`average_cost = cost_basis / quantity` is a positive price either way and
`unrealized = quantity * mark - cost_basis` holds for both directions. A fill against the
position realizes `quantity * (price - average_cost)` (mirrored for shorts) minus its fee; a
fill through zero closes the old direction and opens the new one, splitting its fee pro rata.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from services.trading.domain.orders import ZERO, Side

CENT = Decimal("0.01")


def money(amount: Decimal) -> Decimal:
    """Round an amount to cents, half to even (bankers' rounding, no drift over many fills)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(slots=True)
class Position:
    """The holding of one symbol in one portfolio."""

    symbol: str
    quantity: Decimal = ZERO
    cost_basis: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    open_time: datetime | None = None
    update_time: datetime | None = None

    @property
    def average_cost(self) -> Decimal:
        """Return the cost per unit held, fees included; zero while flat."""
        return self.cost_basis / self.quantity if self.quantity else ZERO

    def market_value(self, mark: Decimal) -> Decimal:
        """Return the signed value of the holding at `mark`."""
        return self.quantity * mark

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        """Return the profit or loss of the holding if it were closed at `mark`."""
        return self.quantity * mark - self.cost_basis

    def apply_fill(self, side: Side, quantity: Decimal, price: Decimal, fee: Decimal,
                   when: datetime) -> Decimal:
        """Book a fill; return the profit or loss it realized (rounded to cents)."""
        signed = quantity if side is Side.BUY else -quantity
        self.update_time = when
        if self.quantity == 0 or (self.quantity > 0) == (signed > 0):
            self._open(signed, price, fee, when)
            return ZERO
        closing = min(quantity, abs(self.quantity))
        closing_fee = fee if closing == quantity else money(fee * closing / quantity)
        average = self.average_cost
        direction = 1 if self.quantity > 0 else -1
        realized = money(direction * closing * (price - average) - closing_fee)
        self.quantity += closing if signed > 0 else -closing
        self.cost_basis = self.quantity * average
        self.realized_pnl += realized
        if self.quantity == 0:
            self.cost_basis, self.open_time = ZERO, None
        if closing < quantity:
            rest = quantity - closing
            self._open(rest if signed > 0 else -rest, price, fee - closing_fee, when)
        return realized

    def _open(self, signed: Decimal, price: Decimal, fee: Decimal, when: datetime) -> None:
        """Add to the position in its own direction (or open it from flat)."""
        if self.quantity == 0:
            self.open_time = when
        # A buy costs notional plus fee; a short sale brings in notional minus fee.
        self.cost_basis += signed * price + fee
        self.quantity += signed
