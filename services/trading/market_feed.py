"""What trading takes from market data: the instrument catalogue and the live quotes.

Quotes arrive on the market service's published channels (`quotes.{symbol}` on Valkey, the
same feed its streams fan out), so every trading replica sees every tick without polling;
a symbol not heard yet is asked of the market service over the mesh. Instruments come from
the market service's catalogue RPC, refreshed when an unknown symbol is asked for.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from decimal import Decimal

import grpc
from redis.asyncio import Redis
from tradesage.market.v1 import market_resources_pb2 as market_pb
from tradesage.market.v1 import market_service_pb2 as market_api
from tradesage.market.v1 import market_service_pb2_grpc as market_grpc

from services.runtime.errors import FieldViolation, InvalidArgument
from services.runtime.peers import Peers, call_metadata, peer_error
from services.runtime.pubsub import follow_pattern
from services.trading.domain.instruments import Instrument
from services.trading.domain.venue import MarketQuote

log = logging.getLogger("tradesage.trading.market")

QUOTE_PATTERN = "quotes.*"
# An unknown symbol refreshes the catalogue at most this often.
CATALOGUE_REFRESH_SECONDS = 5.0

QuoteListener = Callable[[MarketQuote], None]


def quote_from_json(raw: str | bytes) -> MarketQuote:
    """Parse a quote as the market service publishes it."""
    data = json.loads(raw)
    return MarketQuote(
        symbol=data["symbol"], bid=Decimal(data["bid"]), ask=Decimal(data["ask"]),
        bid_size=Decimal(data["bid_size"]), ask_size=Decimal(data["ask_size"]),
        last=Decimal(data["last"]), sequence=int(data["sequence"]), time_ms=int(data["time_ms"]))


def _quote_from_proto(quote: market_pb.Quote) -> MarketQuote:
    return MarketQuote(
        symbol=quote.symbol, bid=Decimal(quote.bid), ask=Decimal(quote.ask),
        bid_size=Decimal(quote.bid_size or "0"), ask_size=Decimal(quote.ask_size or "0"),
        last=Decimal(quote.last or quote.bid), sequence=quote.sequence,
        time_ms=quote.time.ToMilliseconds())


class MarketFeed:
    """The latest quote per symbol and the instrument catalogue, kept by this replica."""

    def __init__(self, redis: Redis, peers: Peers) -> None:
        self._redis = redis
        self._market = market_grpc.MarketDataServiceStub(peers.channel("market"))
        self._quotes: dict[str, MarketQuote] = {}
        self._instruments: dict[str, Instrument] = {}
        self._catalogue_time = 0.0
        self._listeners: list[QuoteListener] = []

    def on_quote(self, listener: QuoteListener) -> None:
        """Call `listener` with every quote heard, in arrival order."""
        self._listeners.append(listener)

    def latest(self, symbol: str) -> MarketQuote | None:
        """Return the latest quote heard for `symbol`."""
        return self._quotes.get(symbol)

    async def quote(self, symbol: str) -> MarketQuote | None:
        """Return the latest quote, asking the market service if none was heard yet."""
        cached = self._quotes.get(symbol)
        if cached is not None:
            return cached
        try:
            reply = await self._market.GetQuote(market_api.GetQuoteRequest(symbol=symbol),
                                                metadata=call_metadata(), timeout=2.0)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise peer_error(error) from None
        quote = _quote_from_proto(reply.quote)
        self._quotes.setdefault(symbol, quote)
        return self._quotes[symbol]

    async def instrument(self, symbol: str) -> Instrument:
        """Return a tradable instrument, or fail with UNKNOWN_SYMBOL."""
        found = self._instruments.get(symbol)
        if found is None and time.monotonic() - self._catalogue_time > CATALOGUE_REFRESH_SECONDS:
            await self._load_catalogue()
            found = self._instruments.get(symbol)
        if found is None:
            raise InvalidArgument(
                f"{symbol} is not a known instrument",
                [FieldViolation("symbol", "must be a symbol of ListInstruments",
                                reason="UNKNOWN_SYMBOL")],
                reason="UNKNOWN_SYMBOL", metadata={"symbol": symbol})
        return found

    async def run(self) -> None:
        """Listen to the quote channels until cancelled, reconnecting after Redis failures."""
        await follow_pattern(self._redis, QUOTE_PATTERN, self._take)

    async def _take(self, raw: str) -> None:
        try:
            quote = quote_from_json(raw)
        except (ValueError, KeyError, TypeError, ArithmeticError) as error:
            log.warning("malformed quote ignored", extra={"error": str(error)})
            return
        known = self._quotes.get(quote.symbol)
        if known is not None and known.sequence > quote.sequence and quote.sequence > 1:
            return  # an older tick arriving late
        self._quotes[quote.symbol] = quote
        for listener in self._listeners:
            listener(quote)

    async def _load_catalogue(self) -> None:
        self._catalogue_time = time.monotonic()
        instruments: dict[str, Instrument] = {}
        token = ""
        while True:
            try:
                reply = await self._market.ListInstruments(
                    market_api.ListInstrumentsRequest(page_size=500, page_token=token),
                    metadata=call_metadata(), timeout=5.0)
            except grpc.aio.AioRpcError as error:
                raise peer_error(error) from None
            for item in reply.instruments:
                instruments[item.symbol] = _instrument(item)
            token = reply.next_page_token
            if not token:
                break
        self._instruments = instruments


def _instrument(item: market_pb.Instrument) -> Instrument:
    session = item.trading_session
    return Instrument(
        symbol=item.symbol, tick_size=Decimal(item.tick_size), lot_size=Decimal(item.lot_size),
        currency_code=item.currency_code,
        halted=item.status == market_pb.INSTRUMENT_STATUS_HALTED,
        always_open=session.always_open or not session.close_time,
        time_zone=session.time_zone or "UTC", close_time=session.close_time or "00:00",
        iso_weekdays=tuple(session.iso_weekdays) or (1, 2, 3, 4, 5, 6, 7))
