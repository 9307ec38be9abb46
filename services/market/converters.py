"""Market proto messages <-> domain objects."""

from __future__ import annotations

from tradesage.market.v1 import market_resources_pb2 as pb

from services.market.domain.quotes import Instrument, Quote
from services.runtime.timestamps import from_epoch_ms

_ASSET_CLASSES = {
    "equity": pb.ASSET_CLASS_EQUITY, "etf": pb.ASSET_CLASS_ETF,
    "crypto": pb.ASSET_CLASS_CRYPTO, "fx": pb.ASSET_CLASS_FX,
}
_ALWAYS_OPEN = frozenset({"crypto", "fx"})


def instrument_to_proto(instrument: Instrument) -> pb.Instrument:
    """Return the API resource of an instrument."""
    always_open = instrument.asset_class in _ALWAYS_OPEN
    return pb.Instrument(
        symbol=instrument.symbol,
        name=instrument.name,
        tick_size=str(instrument.tick_size),
        lot_size=str(instrument.lot_size),
        currency_code=instrument.currency_code,
        asset_class=_ASSET_CLASSES[instrument.asset_class],
        exchange=instrument.exchange,
        status=pb.INSTRUMENT_STATUS_ACTIVE,
        trading_session=pb.TradingSession(always_open=True) if always_open else pb.TradingSession(
            time_zone="America/New_York", open_time="09:30", close_time="16:00",
            iso_weekdays=[1, 2, 3, 4, 5]),
    )


def quote_to_proto(quote: Quote) -> pb.Quote:
    """Return the API message of a quote."""
    return pb.Quote(
        symbol=quote.symbol, bid=quote.bid, ask=quote.ask, bid_size=quote.bid_size,
        ask_size=quote.ask_size, last=quote.last, time=from_epoch_ms(quote.time_ms),
        sequence=quote.sequence)
