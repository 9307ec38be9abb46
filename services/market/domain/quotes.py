"""Quotes and instruments, and the simulated venue that moves prices."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Instrument:
    """A tradable symbol and its price grid."""

    symbol: str
    name: str
    asset_class: str
    exchange: str
    currency_code: str
    tick_size: Decimal
    lot_size: Decimal
    reference_price: Decimal


@dataclass(frozen=True)
class Quote:
    """Best bid and ask of a symbol at one moment; prices as exact decimal strings."""

    symbol: str
    bid: str
    ask: str
    bid_size: str
    ask_size: str
    last: str
    time_ms: int
    sequence: int

    def to_json(self) -> str:
        """Return the compact JSON kept in Redis and sent over pub/sub."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> Quote:
        """Parse what `to_json` wrote."""
        return cls(**json.loads(raw))


class SimulatedVenue:
    """A per-symbol random walk with a spread of a few ticks; deterministic from `seed`."""

    def __init__(self, instruments: list[Instrument], seed: int = 7,
                 volatility: float = 0.0005) -> None:
        self._instruments = {i.symbol: i for i in instruments}
        self._mid = {i.symbol: i.reference_price for i in instruments}
        self._sequence = dict.fromkeys(self._mid, 0)
        self._random = random.Random(seed)
        self._volatility = volatility

    def tick(self, now_ms: int) -> list[Quote]:
        """Move every symbol one step and return the new quotes."""
        return [self._step(symbol, now_ms) for symbol in self._instruments]

    def _step(self, symbol: str, now_ms: int) -> Quote:
        instrument = self._instruments[symbol]
        move = Decimal(str(self._random.gauss(0.0, self._volatility)))
        mid = max(self._mid[symbol] * (1 + move), instrument.tick_size * 10)
        self._mid[symbol] = mid
        half_spread = instrument.tick_size * self._random.randint(1, 3)
        bid = _on_grid(mid - half_spread, instrument.tick_size)
        ask = _on_grid(mid + half_spread, instrument.tick_size)
        self._sequence[symbol] += 1
        return Quote(
            symbol=symbol, bid=str(bid), ask=str(ask),
            bid_size=str(self._size(instrument)), ask_size=str(self._size(instrument)),
            last=str(_on_grid(mid, instrument.tick_size)), time_ms=now_ms,
            sequence=self._sequence[symbol])

    def _size(self, instrument: Instrument) -> Decimal:
        return instrument.lot_size * self._random.randint(1, 50) * 100


def _on_grid(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick
