"""Technical indicators over bars: SMA, EMA, RSI, MACD, Bollinger bands (TA-Lib) and VWAP.

Prices go in and values come out as exact decimals. In between, TA-Lib works in float64, which
is fine here and only here: an indicator is a statistic that informs a decision, never an amount
that is booked or paid, and float64 carries ~15-16 significant digits, so the error of turning
the decimal closes into floats and of the recursions (relative 1e-15 per step, decaying in the
EMAs) stays many orders below the rounding applied on the way out (`places`, e.g. 6 places for a
price quoted to the cent). VWAP is a ratio of exact sums, so it is computed in decimals outright.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum

import numpy as np
import talib

from services.market.domain.bars import Bar, Interval, bucket_start
from services.runtime.errors import FieldViolation, InvalidArgument

MAX_PERIOD = 200
MAX_MULTIPLIER = Decimal(10)
RSI_PLACES = 4
# Bars read before the first output so recursive averages have forgotten their seed: the seed's
# weight after 20 periods is (1 - 1/n)^(20n) < e^-20 for RSI, smaller still for EMA.
SETTLING_PERIODS = 20

Value = tuple[Decimal, ...]


class Indicator(Enum):
    """The indicators served."""

    SMA = "sma"
    EMA = "ema"
    RSI = "rsi"
    MACD = "macd"
    BOLLINGER_BANDS = "bollinger_bands"
    VWAP = "vwap"


@dataclass(frozen=True)
class Parameters:
    """The tuning of an indicator; zero (or empty) means the usual default."""

    period: int = 0
    fast_period: int = 0
    slow_period: int = 0
    signal_period: int = 0
    std_dev_multiplier: str = ""

    def resolved(self, indicator: Indicator) -> Parameters:
        """Return the parameters `indicator` uses, defaults filled in, the others zero.

        Raises InvalidArgument naming each parameter out of range.
        """
        used = _USED[indicator]
        filled = Parameters(**{
            name: getattr(self, name) or default for name, default in _defaults(indicator).items()
            if name in used})
        if violations := filled._violations(used):
            raise InvalidArgument("indicator parameters out of range", violations,
                                  reason="INVALID_INDICATOR_PARAMETERS",
                                  metadata={"parameter": violations[0].field})
        return filled

    @property
    def multiplier(self) -> Decimal:
        """Return the Bollinger band width in standard deviations."""
        return Decimal(self.std_dev_multiplier)

    def _violations(self, used: frozenset[str]) -> list[FieldViolation]:
        found = [FieldViolation(f"parameters.{name}", f"must be from 2 to {MAX_PERIOD}")
                 for name in ("period", "fast_period", "slow_period")
                 if name in used and not 2 <= getattr(self, name) <= MAX_PERIOD]
        if "signal_period" in used and not 1 <= self.signal_period <= MAX_PERIOD:
            found.append(FieldViolation("parameters.signal_period",
                                        f"must be from 1 to {MAX_PERIOD}"))
        if "slow_period" in used and self.fast_period >= self.slow_period:
            found.append(FieldViolation("parameters.fast_period",
                                        "must be shorter than slow_period"))
        if "std_dev_multiplier" in used and not _is_multiplier(self.std_dev_multiplier):
            found.append(FieldViolation("parameters.std_dev_multiplier",
                                        f"must be a decimal above 0 and at most {MAX_MULTIPLIER}"))
        return found


_USED: dict[Indicator, frozenset[str]] = {
    Indicator.SMA: frozenset({"period"}),
    Indicator.EMA: frozenset({"period"}),
    Indicator.RSI: frozenset({"period"}),
    Indicator.BOLLINGER_BANDS: frozenset({"period", "std_dev_multiplier"}),
    Indicator.MACD: frozenset({"fast_period", "slow_period", "signal_period"}),
    Indicator.VWAP: frozenset(),
}


def _defaults(indicator: Indicator) -> dict[str, int | str]:
    return {"period": 14 if indicator is Indicator.RSI else 20, "fast_period": 12,
            "slow_period": 26, "signal_period": 9, "std_dev_multiplier": "2"}


def warm_up_bars(indicator: Indicator, parameters: Parameters) -> int:
    """Return how many bars before the first output the indicator needs to read."""
    match indicator:
        case Indicator.SMA | Indicator.BOLLINGER_BANDS:
            return parameters.period - 1  # a plain window: exact after period - 1 bars
        case Indicator.EMA | Indicator.RSI:
            return SETTLING_PERIODS * parameters.period
        case Indicator.MACD:
            return SETTLING_PERIODS * parameters.slow_period + parameters.signal_period
        case Indicator.VWAP:
            return 0  # the caller reads the session's earlier bars instead


def compute(indicator: Indicator, parameters: Parameters, bars: Sequence[Bar],
            places: int, time_zone: str = "UTC") -> list[Value | None]:
    """Return one value per bar (None where there is not enough history yet).

    `places` is the rounding of price-scaled outputs; RSI, a 0-100 score, keeps 4 places.
    """
    if indicator is Indicator.VWAP:
        return session_vwap(bars, places, time_zone)
    closes = np.array([float(bar.close) for bar in bars], dtype=np.float64)
    lines = _TALIB[indicator](closes, parameters)
    digits = RSI_PLACES if indicator is Indicator.RSI else places
    return [_row(values, digits) for values in zip(*lines, strict=True)]


def session_vwap(bars: Sequence[Bar], places: int, time_zone: str) -> list[Value | None]:
    """Return the VWAP since the session (local day) began, at each bar, in exact decimals."""
    values: list[Value | None] = []
    session, volume, turnover = None, Decimal(0), Decimal(0)
    for bar in bars:
        day = bucket_start(bar.start_ms, Interval.ONE_DAY, time_zone)
        if day != session:
            session, volume, turnover = day, Decimal(0), Decimal(0)
        volume, turnover = volume + bar.volume, turnover + bar.turnover
        values.append((_rounded(turnover / volume, places),) if volume else None)
    return values


def _sma(closes: np.ndarray, p: Parameters) -> tuple[np.ndarray, ...]:
    return (talib.SMA(closes, timeperiod=p.period),)


def _ema(closes: np.ndarray, p: Parameters) -> tuple[np.ndarray, ...]:
    return (talib.EMA(closes, timeperiod=p.period),)


def _rsi(closes: np.ndarray, p: Parameters) -> tuple[np.ndarray, ...]:
    return (talib.RSI(closes, timeperiod=p.period),)


def _macd(closes: np.ndarray, p: Parameters) -> tuple[np.ndarray, ...]:
    return tuple(talib.MACD(closes, fastperiod=p.fast_period, slowperiod=p.slow_period,
                            signalperiod=p.signal_period))


def _bollinger(closes: np.ndarray, p: Parameters) -> tuple[np.ndarray, ...]:
    # matype 0: the middle band is an SMA; TA-Lib uses the population standard deviation, as
    # Bollinger defines the bands.
    width = float(p.multiplier)
    return tuple(talib.BBANDS(closes, timeperiod=p.period, nbdevup=width, nbdevdn=width,
                              matype=0))


_TALIB: dict[Indicator, Callable[[np.ndarray, Parameters], tuple[np.ndarray, ...]]] = {
    Indicator.SMA: _sma, Indicator.EMA: _ema, Indicator.RSI: _rsi,
    Indicator.MACD: _macd, Indicator.BOLLINGER_BANDS: _bollinger,
}


def _row(values: tuple[float, ...], places: int) -> Value | None:
    if any(np.isnan(v) for v in values):
        return None
    return tuple(_rounded(Decimal(float(v)), places) for v in values)


def _rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places))


def _is_multiplier(text: str) -> bool:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return False
    return value.is_finite() and 0 < value <= MAX_MULTIPLIER
