"""MarketDataService: thin async adapters over the catalogue, the quote book and the hub."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from tradesage.market.v1 import market_service_pb2 as api
from tradesage.market.v1 import market_service_pb2_grpc as api_grpc

from services.market.converters import instrument_to_proto, quote_to_proto
from services.market.domain.quotes import Instrument
from services.market.domain.symbols import normalize_symbols
from services.market.history import HistoryStore
from services.market.history_servicer import HistoryRpcs
from services.market.hub import QuoteHub, WireQuote
from services.market.store import InstrumentStore, QuoteBook
from services.market.subscriptions import SubscriptionControl
from services.runtime import pagination
from services.runtime.errors import FieldViolation, InvalidArgument, NotFound
from services.runtime.identity import current_identity, require_identity
from services.runtime.plans import TenantLimits, check_limit


class MarketDataServicer(HistoryRpcs, api_grpc.MarketDataServiceServicer):
    """Serve instruments, quotes and price streams; the rest answers UNIMPLEMENTED."""

    def __init__(self, instruments: InstrumentStore, quotes: QuoteBook, hub: QuoteHub,
                 known_symbols: set[str], heartbeat_seconds: float,
                 limits: TenantLimits, history: HistoryStore,
                 catalogue: list[Instrument]) -> None:
        HistoryRpcs.__init__(self, history=history, quote_book=quotes,
                             instruments={i.symbol: i for i in catalogue})
        self._instruments = instruments
        self._quotes = quotes
        self._hub = hub
        self._known = known_symbols
        self._heartbeat = heartbeat_seconds
        self._limits = limits
        self._subscriptions = SubscriptionControl(hub, quotes)

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
                        context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        # Messages are pre-encoded SubscribeResponse bytes (see hub.py and add_to_server).
        symbols = normalize_symbols(request.symbols, self._known)
        caller = current_identity()
        if caller is not None:
            limits = await self._limits.of(caller.tenant_id)
            check_limit(limits, "max_subscription_symbols", 0, adding=len(symbols))
        subscription = self._hub.subscribe(
            symbols, owner=caller.user_id if caller else "", batched=request.batch_quotes,
            heartbeat_seconds=self._heartbeat)
        try:
            if subscription.watching is not None:  # updates from other replicas reach it
                await subscription.watching
            # Snapshot first, so a client has every price at once rather than at the next tick;
            # with no price yet, a heartbeat tells the client its subscription id at once.
            snapshot = await self._quotes.latest(symbols)
            if snapshot:
                subscription.prime(WireQuote(quote) for quote in snapshot.values())
            else:
                subscription.request_heartbeat()
            async for message in subscription.messages():
                yield message
        finally:
            self._hub.unsubscribe(subscription)

    async def UpdateSubscription(
            self, request: api.UpdateSubscriptionRequest,
            context: grpc.aio.ServicerContext) -> api.UpdateSubscriptionResponse:
        caller = require_identity()
        if not request.subscription_id:
            raise InvalidArgument("name the subscription to update", [
                FieldViolation("subscription_id", "must be set")])
        add = (normalize_symbols(request.add_symbols, self._known, field="add_symbols")
               if request.add_symbols else [])
        remove = (normalize_symbols(request.remove_symbols, self._known, field="remove_symbols")
                  if request.remove_symbols else [])
        if not add and not remove:
            raise InvalidArgument("name symbols to add or remove", [
                FieldViolation("add_symbols", "add_symbols or remove_symbols must name a symbol")])
        limits = await self._limits.of(caller.tenant_id)
        symbols = await self._subscriptions.update(
            request.subscription_id, caller.user_id, add, remove,
            limits.max_subscription_symbols)
        return api.UpdateSubscriptionResponse(
            subscription_id=request.subscription_id, symbols=symbols)


def add_to_server(servicer: MarketDataServicer, server: grpc.aio.Server) -> None:
    """Mount `servicer`; Subscribe's pre-encoded messages go out as they are, unserialised."""
    registrar = _Registrar()
    api_grpc.add_MarketDataServiceServicer_to_server(servicer, registrar)
    handlers = dict(registrar.handlers)
    subscribe = handlers["Subscribe"]
    handlers["Subscribe"] = grpc.unary_stream_rpc_method_handler(
        subscribe.unary_stream, request_deserializer=subscribe.request_deserializer,
        response_serializer=_pre_encoded)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(registrar.service, handlers),))
    server.add_registered_method_handlers(registrar.service, handlers)


class _Registrar:
    """Stands in for the server to take the generated method handlers."""

    service = ""
    handlers: dict[str, grpc.RpcMethodHandler]

    def add_generic_rpc_handlers(self, handlers: object) -> None:
        """Ignore: the handlers also come to `add_registered_method_handlers`."""

    def add_registered_method_handlers(self, service: str,
                                       handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        """Keep the service name and its method handlers."""
        self.service, self.handlers = service, handlers


def _pre_encoded(message: bytes | api.SubscribeResponse) -> bytes:
    return message if isinstance(message, bytes) else message.SerializeToString()
