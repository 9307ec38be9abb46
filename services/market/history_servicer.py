"""The history side of MarketDataService: instruments, quote snapshots, bars and indicators.

A mixin: `MarketDataServicer` lists it before the generated base class, so these methods take
the place of the UNIMPLEMENTED ones, and calls `HistoryRpcs.__init__` with keyword arguments.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import grpc
from tradesage.market.v1 import market_resources_pb2 as pb
from tradesage.market.v1 import market_service_pb2 as api

from services.market.converters import instrument_to_proto, quote_to_proto
from services.market.domain.bars import Bar, Interval, bucket_start
from services.market.domain.indicators import (
    Indicator,
    Parameters,
    Value,
    compute,
    warm_up_bars,
)
from services.market.domain.quotes import Instrument
from services.market.domain.symbols import normalize_symbols
from services.market.history import HistoryStore
from services.market.store import QuoteBook
from services.runtime import pagination
from services.runtime.errors import FieldViolation, InvalidArgument
from services.runtime.timestamps import from_epoch_ms

# A range may span at most this many bars of its interval: 1m bars for ~34 days (more than the
# default retention), 1h bars for ~5.7 years. Pages then split the range.
MAX_RANGE_BARS = 50_000
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 5_000
# A session's worth of 1-minute bars: the most a VWAP has to read before its first point.
MAX_SESSION_BARS = 1_500

_INTERVALS = {
    pb.BAR_INTERVAL_ONE_MINUTE: Interval.ONE_MINUTE,
    pb.BAR_INTERVAL_FIVE_MINUTES: Interval.FIVE_MINUTES,
    pb.BAR_INTERVAL_FIFTEEN_MINUTES: Interval.FIFTEEN_MINUTES,
    pb.BAR_INTERVAL_ONE_HOUR: Interval.ONE_HOUR,
    pb.BAR_INTERVAL_ONE_DAY: Interval.ONE_DAY,
}
_INDICATORS = {
    pb.INDICATOR_TYPE_SMA: Indicator.SMA, pb.INDICATOR_TYPE_EMA: Indicator.EMA,
    pb.INDICATOR_TYPE_RSI: Indicator.RSI, pb.INDICATOR_TYPE_MACD: Indicator.MACD,
    pb.INDICATOR_TYPE_BOLLINGER_BANDS: Indicator.BOLLINGER_BANDS,
    pb.INDICATOR_TYPE_VWAP: Indicator.VWAP,
}


@dataclass(frozen=True)
class BarQuery:
    """A validated bar range of one instrument, resumed after `after_ms` on later pages."""

    instrument: Instrument
    interval: Interval
    start_ms: int
    end_ms: int
    page_size: int
    fingerprint: str

    @property
    def time_zone(self) -> str:
        """Return the zone the instrument's days (and so daily bars and VWAP) follow."""
        session = instrument_to_proto(self.instrument).trading_session
        return "UTC" if session.always_open else session.time_zone

    @property
    def price_places(self) -> int:
        """Return the decimal places of price-scaled indicator values: the tick's plus 4."""
        return max(0, -int(self.instrument.tick_size.as_tuple().exponent)) + 4

    def next_token(self, page: list[Bar], more: bool) -> str:
        """Return the token of the page after `page`, or "" when it was the last."""
        if not more:
            return ""
        return pagination.encode_token({"q": self.fingerprint, "after": str(page[-1].start_ms),
                                        "end": str(self.end_ms)})


class HistoryRpcs:
    """GetInstrument, BatchGetQuotes, ListBars and ComputeIndicator."""

    def __init__(self, *, history: HistoryStore, quote_book: QuoteBook,
                 instruments: Mapping[str, Instrument],
                 clock: Callable[[], float] = time.time) -> None:
        self._history = history
        self._quote_book = quote_book
        self._catalogue = dict(instruments)
        self._clock = clock

    async def GetInstrument(self, request: api.GetInstrumentRequest,
                            context: grpc.aio.ServicerContext) -> api.GetInstrumentResponse:
        symbol = self._one_symbol(request.symbol)
        return api.GetInstrumentResponse(instrument=instrument_to_proto(self._catalogue[symbol]))

    async def BatchGetQuotes(self, request: api.BatchGetQuotesRequest,
                             context: grpc.aio.ServicerContext) -> api.BatchGetQuotesResponse:
        symbols = normalize_symbols(request.symbols, set(self._catalogue))
        latest = await self._quote_book.latest(symbols)
        return api.BatchGetQuotesResponse(
            quotes=[quote_to_proto(latest[s]) for s in symbols if s in latest])

    async def ListBars(self, request: api.ListBarsRequest,
                       context: grpc.aio.ServicerContext) -> api.ListBarsResponse:
        query = self._query(request, [])
        found = await self._history.bars(
            query.instrument.symbol, query.interval, query.start_ms, query.end_ms,
            query.page_size + 1, query.time_zone)
        page, more = found[:query.page_size], len(found) > query.page_size
        return api.ListBarsResponse(bars=[_bar_to_proto(b, request.interval) for b in page],
                                    next_page_token=query.next_token(page, more))

    async def ComputeIndicator(
            self, request: api.ComputeIndicatorRequest,
            context: grpc.aio.ServicerContext) -> api.ComputeIndicatorResponse:
        indicator = _INDICATORS.get(request.type)
        query = self._query(request, [] if indicator else [
            FieldViolation("type", "must name an indicator, e.g. INDICATOR_TYPE_SMA")])
        assert indicator is not None  # _query raised otherwise
        parameters = _parameters(request.parameters).resolved(indicator)
        warm_up = await self._warm_up(query, indicator, parameters)
        found = await self._history.bars(
            query.instrument.symbol, query.interval, query.start_ms, query.end_ms,
            query.page_size + 1, query.time_zone)
        page, more = found[:query.page_size], len(found) > query.page_size
        values = compute(indicator, parameters, warm_up + page, query.price_places,
                         query.time_zone)[len(warm_up):]
        return api.ComputeIndicatorResponse(
            points=[_point(bar, value, indicator)
                    for bar, value in zip(page, values, strict=True) if value is not None],
            next_page_token=query.next_token(page, more),
            parameters=_parameters_to_proto(parameters))

    async def _warm_up(self, query: BarQuery, indicator: Indicator,
                       parameters: Parameters) -> list[Bar]:
        """Return the bars before the page that the indicator needs to read first."""
        symbol, zone = query.instrument.symbol, query.time_zone
        if indicator is Indicator.VWAP:
            session = bucket_start(query.start_ms, Interval.ONE_DAY, zone)
            return await self._history.bars(symbol, query.interval, session, query.start_ms,
                                            MAX_SESSION_BARS, zone)
        return await self._history.bars_before(
            symbol, query.interval, query.start_ms, warm_up_bars(indicator, parameters), zone)

    def _one_symbol(self, value: str) -> str:
        """Return the known symbol `value` names (NOT_FOUND if unknown)."""
        symbols = normalize_symbols([value], set(self._catalogue), field="symbol")
        if len(symbols) != 1:
            raise InvalidArgument("name one symbol", [
                FieldViolation("symbol", "must name exactly one instrument")])
        return symbols[0]

    def _query(self, request: api.ListBarsRequest | api.ComputeIndicatorRequest,
               violations: list[FieldViolation]) -> BarQuery:
        """Return the validated range of `request`, resumed from its page token if any."""
        interval = _INTERVALS.get(request.interval)
        if interval is None:
            violations.append(FieldViolation("interval", "must name a bar interval, e.g. "
                                                         "BAR_INTERVAL_ONE_MINUTE"))
        if request.page_size < 0:
            violations.append(FieldViolation("page_size", "must be zero (default) or positive"))
        if not request.symbol.strip():
            violations.append(FieldViolation("symbol", "must name an instrument"))
        start_ms, end_ms = self._range(request, interval or Interval.ONE_MINUTE, violations)
        if violations:
            raise _invalid(violations)
        assert interval is not None
        symbol = self._one_symbol(request.symbol)
        fingerprint = _fingerprint(request, symbol)
        cursor = pagination.decode_token(request.page_token)
        if cursor is not None:
            start_ms, end_ms = _resume(cursor, fingerprint)
        return BarQuery(self._catalogue[symbol], interval, start_ms, end_ms,
                        min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE), fingerprint)

    def _range(self, request: api.ListBarsRequest | api.ComputeIndicatorRequest,
               interval: Interval, violations: list[FieldViolation]) -> tuple[int, int]:
        """Return [start, end) in ms, collecting what is wrong with it."""
        if not request.HasField("start_time"):
            violations.append(FieldViolation("start_time", "is required", "INVALID_TIME_RANGE"))
            return 0, 0
        start_ms = request.start_time.ToMilliseconds()
        has_end = request.HasField("end_time")
        end_ms = request.end_time.ToMilliseconds() if has_end else int(self._clock() * 1000)
        if end_ms <= start_ms:
            field = "end_time" if has_end else "start_time"
            violations.append(FieldViolation(
                field, "must be after start_time" if has_end else
                "must be in the past when end_time is not set", "INVALID_TIME_RANGE"))
        elif (end_ms - start_ms) / interval.ms > MAX_RANGE_BARS:
            violations.append(FieldViolation(
                "end_time", f"the range spans more than {MAX_RANGE_BARS} bars of the interval; "
                "narrow it or choose a wider interval", "INVALID_TIME_RANGE"))
        return start_ms, end_ms


def _invalid(violations: list[FieldViolation]) -> InvalidArgument:
    if any(v.reason == "INVALID_TIME_RANGE" for v in violations):
        return InvalidArgument("the time range is not valid", violations,
                               reason="INVALID_TIME_RANGE",
                               metadata={"maxBars": str(MAX_RANGE_BARS)})
    return InvalidArgument("invalid request", violations)


def _fingerprint(request: api.ListBarsRequest | api.ComputeIndicatorRequest,
                 symbol: str) -> str:
    """Return a digest of what a page token must not change: all but the page fields."""
    stable = type(request)()
    stable.CopyFrom(request)
    stable.symbol = symbol
    stable.ClearField("page_size")
    stable.ClearField("page_token")
    digest = hashlib.sha256(stable.SerializeToString(deterministic=True))
    return digest.hexdigest()[:16]


def _resume(cursor: dict[str, str], fingerprint: str) -> tuple[int, int]:
    """Return the range left after the page that `cursor` ended."""
    try:
        if cursor["q"] != fingerprint:
            raise ValueError("token of another query")
        return int(cursor["after"]) + 1, int(cursor["end"])
    except (KeyError, ValueError, TypeError):
        raise InvalidArgument("page_token does not belong to this query", [FieldViolation(
            "page_token", "use the next_page_token of the same query, with only page_size "
            "changed")]) from None


def _parameters(message: pb.IndicatorParameters) -> Parameters:
    return Parameters(period=message.period, fast_period=message.fast_period,
                      slow_period=message.slow_period, signal_period=message.signal_period,
                      std_dev_multiplier=message.std_dev_multiplier.strip())


def _parameters_to_proto(parameters: Parameters) -> pb.IndicatorParameters:
    return pb.IndicatorParameters(
        period=parameters.period, fast_period=parameters.fast_period,
        slow_period=parameters.slow_period, signal_period=parameters.signal_period,
        std_dev_multiplier=parameters.std_dev_multiplier)


def _point(bar: Bar, value: Value, indicator: Indicator) -> pb.IndicatorPoint:
    time = from_epoch_ms(bar.start_ms)
    text = [format(v, "f") for v in value]
    if indicator is Indicator.MACD:
        return pb.IndicatorPoint(time=time, macd=pb.MacdValue(
            macd=text[0], signal=text[1], histogram=text[2]))
    if indicator is Indicator.BOLLINGER_BANDS:
        return pb.IndicatorPoint(time=time, bollinger_bands=pb.BollingerBandsValue(
            upper=text[0], middle=text[1], lower=text[2]))
    return pb.IndicatorPoint(time=time, scalar=text[0])


def _bar_to_proto(bar: Bar, interval: int) -> pb.Bar:
    return pb.Bar(
        symbol=bar.symbol, interval=interval,  # type: ignore[arg-type]
        start_time=from_epoch_ms(bar.start_ms),
        open=format(bar.open, "f"), high=format(bar.high, "f"), low=format(bar.low, "f"),
        close=format(bar.close, "f"), volume=format(bar.volume, "f"),
        vwap=format(bar.vwap, "f"), trade_count=bar.trade_count)

