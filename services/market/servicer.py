"""MarketDataService: thin async adapters over the catalogue, the quote book and the hub."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import grpc
from tradesage.market.v1 import market_service_pb2 as api
from tradesage.market.v1 import market_service_pb2_grpc as api_grpc
from tradesage.type.v1 import stream_pb2

from services.market.converters import instrument_to_proto, quote_to_proto
from services.market.domain.symbols import normalize_symbols
from services.market.hub import QuoteHub
from services.market.store import InstrumentStore, QuoteBook
from services.runtime import pagination
from services.runtime.errors import NotFound
from services.runtime.identity import current_identity
from services.runtime.plans import TenantLimits, check_limit
from services.runtime.timestamps import from_epoch_ms


class MarketDataServicer(api_grpc.MarketDataServiceServicer):
    """Serve instruments, quotes and price streams; the rest answers UNIMPLEMENTED."""

    def __init__(self, instruments: InstrumentStore, quotes: QuoteBook, hub: QuoteHub,
                 known_symbols: set[str], heartbeat_seconds: float,
                 limits: TenantLimits) -> None:
        self._instruments = instruments
        self._quotes = quotes
        self._hub = hub
        self._known = known_symbols
        self._heartbeat = heartbeat_seconds
        self._limits = limits

    async def ListInstruments(self, request: api.ListInstrumentsRequest,
                              context: grpc.aio.ServicerContext) -> api.ListInstrumentsResponse:
        limit = pagination.page_size(request.page_size)
        cursor = pagination.decode_token(request.page_token) or {}
        found = await self._instruments.list(limit + 1, str(cursor.get("s", "")))
        page, more = found[:limit], len(found) > limit
        token = pagination.encode_token({"s": page[-1].symbol}) if more else ""
        return api.ListInstrumentsResponse(
            instruments=[instrument_to_proto(i) for i in page], next_page_token=token)

    async def GetQuote(self, request: api.GetQuoteRequest,
                       context: grpc.aio.ServicerContext) -> api.GetQuoteResponse:
        (symbol,) = normalize_symbols([request.symbol], self._known, field="symbol")
        quote = (await self._quotes.latest([symbol])).get(symbol)
        if quote is None:
            raise NotFound(f"no quote for {symbol} yet", reason="QUOTE_NOT_AVAILABLE",
                           metadata={"symbol": symbol})
        return api.GetQuoteResponse(quote=quote_to_proto(quote))

    async def Subscribe(self, request: api.SubscribeRequest,
                        context: grpc.aio.ServicerContext) -> AsyncIterator[api.SubscribeResponse]:
        symbols = normalize_symbols(request.symbols, self._known)
        if caller := current_identity():
            limits = await self._limits.of(caller.tenant_id)
            check_limit(limits, "max_subscription_symbols", 0, adding=len(symbols))
        subscription = self._hub.subscribe(symbols)
        try:
            # Snapshot first, so a client has every price at once rather than at the next tick.
            for quote in (await self._quotes.latest(symbols)).values():
                yield api.SubscribeResponse(
                    quote=quote_to_proto(quote), subscription_id=subscription.id)
            while True:
                batch, conflated = await subscription.next_batch(self._heartbeat)
                if not batch:
                    yield api.SubscribeResponse(
                        heartbeat=stream_pb2.Heartbeat(time=from_epoch_ms(_now_ms())),
                        subscription_id=subscription.id)
                for quote in batch:
                    yield api.SubscribeResponse(quote=quote_to_proto(quote),
                                                subscription_id=subscription.id,
                                                conflated=conflated)
        finally:
            self._hub.unsubscribe(subscription)


def _now_ms() -> int:
    return int(time.time() * 1000)
