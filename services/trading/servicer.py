"""TradingService: thin async adapters over the trading domain and the market peer."""

from __future__ import annotations

from decimal import Decimal

import grpc
from tradesage.market.v1 import market_service_pb2 as market_api
from tradesage.market.v1 import market_service_pb2_grpc as market_grpc
from tradesage.trading.v1 import trading_service_pb2 as api
from tradesage.trading.v1 import trading_service_pb2_grpc as api_grpc

from services.runtime.peers import Peers, call_metadata, peer_error
from services.trading.converters import order_type_from_proto, side_from_proto
from services.trading.domain.preview import estimate, validate_preview
from services.trading.store import FeeStore

# The caller's tenant plan arrives with verified identity (issue 3); until then, basic fees.
DEFAULT_PLAN = "basic"


class TradingServicer(api_grpc.TradingServiceServicer):
    """Serve trading; methods not overridden here answer UNIMPLEMENTED."""

    def __init__(self, fees: FeeStore, peers: Peers) -> None:
        self._fees = fees
        self._market = market_grpc.MarketDataServiceStub(peers.channel("market"))

    async def PreviewOrder(self, request: api.PreviewOrderRequest,
                           context: grpc.aio.ServicerContext) -> api.PreviewOrderResponse:
        order = validate_preview(
            request.symbol, side_from_proto(request.side), request.quantity,
            order_type_from_proto(request.order_type), request.limit_price, request.stop_price)
        try:
            reply = await self._market.GetQuote(
                market_api.GetQuoteRequest(symbol=order.symbol),
                metadata=call_metadata(), timeout=2.0)
        except grpc.aio.AioRpcError as error:
            raise peer_error(error) from None
        quote = reply.quote
        fees = await self._fees.for_plan(DEFAULT_PLAN)
        preview = estimate(order, Decimal(quote.bid), Decimal(quote.ask), fees)
        return api.PreviewOrderResponse(
            estimated_price=str(preview.price), estimated_notional=str(preview.notional),
            estimated_fee=str(preview.fee), quote_time=quote.time,
            currency_code=fees.currency_code)
