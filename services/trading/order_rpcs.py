"""Order, trade and order-stream RPCs of TradingService (owner-only)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import grpc
from google.protobuf.message import Message
from tradesage.trading.v1 import trading_resources_pb2 as pb
from tradesage.trading.v1 import trading_service_pb2 as api
from tradesage.type.v1 import stream_pb2

from services.runtime.errors import DomainError, FieldViolation, InvalidArgument
from services.runtime.identity import require_identity
from services.runtime.names import uuid_resource_id
from services.runtime.pagination import decode_token, encode_token, page_size
from services.runtime.tenancy import tenant_transaction
from services.runtime.timestamps import to_timestamp
from services.trading.converters import (
    event_to_proto,
    order_to_proto,
    order_type_from_proto,
    side_from_proto,
    status_from_proto,
    time_in_force_from_proto,
    trade_to_proto,
)
from services.trading.domain.money import parse_positive
from services.trading.domain.orders import OPEN_STATUSES, Order
from services.trading.domain.risk import reference_price
from services.trading.domain.tickets import validate_ticket
from services.trading.engine import Engine, order_not_found
from services.trading.idempotency import OrderReply, Response, answered, once
from services.trading.market_feed import MarketFeed
from services.trading.portfolio_rpcs import parse_portfolio, time_or_none
from services.trading.store import TenantTrading
from services.trading.updates import Updates, orders_channel

# Fills of one order looked up at once for its event list.
MAX_FILLS_PER_ORDER = 10_000


def parse_order(name: str, field: str = "name") -> str:
    """Return the order id of "orders/{id}" (NOT_FOUND for ids that cannot exist)."""
    return uuid_resource_id(name, "orders", order_not_found, field)


def _optional_price(field: str, value: str, violations: list[FieldViolation]) -> Decimal | None:
    return parse_positive(field, value, violations) if value.strip() else None


class OrderRpcs:
    """Mixed into TradingServicer: orders, trades, previews and the order stream."""

    def __init__(self, *, pool: asyncpg.Pool, engine: Engine, market: MarketFeed,
                 updates: Updates, heartbeat_seconds: float) -> None:
        self._order_pool, self._engine, self._market = pool, engine, market
        self._order_updates = updates
        self._order_heartbeat = heartbeat_seconds

    async def PlaceOrder(self, request: api.PlaceOrderRequest,
                         context: grpc.aio.ServicerContext) -> api.PlaceOrderResponse:
        caller = require_identity()
        portfolio_id = parse_portfolio(request.portfolio, "portfolio")
        ticket = validate_ticket(
            request.client_order_id, request.symbol, side_from_proto(request.side),
            order_type_from_proto(request.order_type),
            time_in_force_from_proto(request.time_in_force), request.quantity,
            request.limit_price, request.stop_price)
        order, rejection = await self._engine.place(caller, portfolio_id, ticket)
        if rejection is not None:
            raise _with_order(rejection, order.id)
        return api.PlaceOrderResponse(order=order_to_proto(order))

    async def PreviewOrder(self, request: api.PreviewOrderRequest,
                           context: grpc.aio.ServicerContext) -> api.PreviewOrderResponse:
        caller = require_identity()
        ticket = validate_ticket(
            "preview", request.symbol, side_from_proto(request.side),
            order_type_from_proto(request.order_type),
            time_in_force_from_proto(request.time_in_force), request.quantity,
            request.limit_price, request.stop_price)
        instrument = await self._market.instrument(ticket.symbol)
        quote = await self._market.quote(ticket.symbol)
        reference_price(quote, ticket.symbol)  # NO_MARKET_PRICE without a quote
        assert quote is not None
        fees = await self._engine.fees_for(caller.tenant_id)
        price = ticket.limit_price or ticket.stop_price or quote.price_for(ticket.side)
        notional = (price * ticket.quantity).quantize(Decimal("0.01"))
        reply = api.PreviewOrderResponse(
            estimated_price=str(price), estimated_notional=str(notional),
            estimated_fee=str(fees.fee(notional)),
            quote_time=to_timestamp(datetime.fromtimestamp(quote.time_ms / 1000, UTC)),
            currency_code=instrument.currency_code)
        if request.portfolio:
            portfolio_id = parse_portfolio(request.portfolio, "portfolio")
            _, reason, after = await self._engine.preview(caller, portfolio_id, ticket)
            reply.rejection_reason = reason
            reply.available_cash_after = str(after) if after is not None else ""
        return reply

    async def GetOrder(self, request: api.GetOrderRequest,
                       context: grpc.aio.ServicerContext) -> api.GetOrderResponse:
        caller = require_identity()
        order_id = parse_order(request.name)
        live = self._engine.open_order(caller.tenant_id, order_id)
        if live is None:
            async with tenant_transaction(self._order_pool, caller.tenant_id) as connection:
                live = await TenantTrading(connection).order(order_id)
        if live is None or live.user_id != caller.user_id:
            raise order_not_found(order_id)
        return api.GetOrderResponse(order=order_to_proto(live))

    async def ListOrders(self, request: api.ListOrdersRequest,
                         context: grpc.aio.ServicerContext) -> api.ListOrdersResponse:
        caller = require_identity()
        size = page_size(request.page_size)
        cursor = decode_token(request.page_token)
        statuses = [s for s in (status_from_proto(v) for v in request.statuses) if s]
        if request.open_only:
            statuses = [s for s in (statuses or list(OPEN_STATUSES)) if s.is_open]
            if not statuses:  # open_only and only closed statuses asked: nothing matches
                return api.ListOrdersResponse()
        side = side_from_proto(request.side)
        filters = {
            "portfolio": parse_portfolio(request.portfolio, "portfolio")
            if request.portfolio else None,
            "symbol": request.symbol.upper() or None,
            "statuses": [s.value for s in statuses],
            "side": side.value if side else None,
            "client_order_id": request.client_order_id or None,
            "start": time_or_none(request, "start_time"), "end": time_or_none(request, "end_time")}
        async with tenant_transaction(self._order_pool, caller.tenant_id) as connection:
            orders = await TenantTrading(connection).list_orders(
                caller.user_id, size + 1,
                (datetime.fromisoformat(cursor["t"]), cursor["id"]) if cursor else None, filters)
        reply = api.ListOrdersResponse(orders=[order_to_proto(o) for o in orders[:size]])
        if len(orders) > size:
            last = orders[size - 1]
            assert last.create_time is not None
            reply.next_page_token = encode_token({"t": last.create_time.isoformat(),
                                                  "id": last.id})
        return reply

    async def ReplaceOrder(self, request: api.ReplaceOrderRequest,
                           context: grpc.aio.ServicerContext) -> api.ReplaceOrderResponse:
        caller = require_identity()
        order_id = parse_order(request.name)
        violations: list[FieldViolation] = []
        if not request.request_id:
            violations.append(FieldViolation("request_id", "must be set, so a retry replaces once"))
        quantity = _optional_price("quantity", request.quantity, violations)
        limit = _optional_price("limit_price", request.limit_price, violations)
        stop = _optional_price("stop_price", request.stop_price, violations)
        tif = time_in_force_from_proto(request.time_in_force)
        if violations:
            raise InvalidArgument("the replacement has invalid fields", violations)
        if quantity is None and limit is None and stop is None and tif is None:
            raise InvalidArgument("nothing to replace", [
                FieldViolation("quantity", "set at least one of quantity, limit_price, "
                               "stop_price, time_in_force")])
        return await self._once(
            caller.tenant_id, request,
            OrderReply("ReplaceOrder", request, api.ReplaceOrderResponse, order_to_proto),
            lambda remember: self._engine.replace(caller, order_id, quantity, limit, stop, tif,
                                                  remember))

    async def CancelOrder(self, request: api.CancelOrderRequest,
                          context: grpc.aio.ServicerContext) -> api.CancelOrderResponse:
        caller = require_identity()
        order_id = parse_order(request.name)
        return await self._once(
            caller.tenant_id, request,
            OrderReply("CancelOrder", request, api.CancelOrderResponse, order_to_proto),
            lambda remember: self._engine.cancel(caller, order_id, remember))

    async def CancelAllOrders(self, request: api.CancelAllOrdersRequest,
                              context: grpc.aio.ServicerContext) -> api.CancelAllOrdersResponse:
        caller = require_identity()
        portfolio_id = parse_portfolio(request.portfolio, "portfolio")
        answered = await self._answered(caller.tenant_id, "CancelAllOrders", request,
                                        api.CancelAllOrdersResponse)
        if answered is not None:
            return answered
        canceled = await self._engine.cancel_all(caller, portfolio_id, request.symbol.upper(),
                                                 side_from_proto(request.side))
        reply = api.CancelAllOrdersResponse(canceled_orders=[order_to_proto(o) for o in canceled])
        await self._remember(caller.tenant_id, "CancelAllOrders", request, reply)
        return reply

    async def ListOrderEvents(self, request: api.ListOrderEventsRequest,
                              context: grpc.aio.ServicerContext) -> api.ListOrderEventsResponse:
        caller = require_identity()
        order_id = parse_order(request.parent, "parent")
        size = page_size(request.page_size, default=100)
        cursor = decode_token(request.page_token)
        async with tenant_transaction(self._order_pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)
            order = await db.order(order_id)
            if order is None or order.user_id != caller.user_id:
                raise order_not_found(order_id)
            rows = await db.list_events(order_id, size + 1,
                                        int(cursor["seq"]) if cursor else None)
            fills = await db.trades(caller.user_id, MAX_FILLS_PER_ORDER, None,
                                    {"order": order_id})
            trades = {t.id: t for t in fills}
        reply = api.ListOrderEventsResponse(order_events=[
            event_to_proto(str(r["id"]), r["event_type"], r["reason"], r["order_snapshot"],
                           r["event_time"], r["record_time"],
                           trades.get(str(r["trade_id"])) if r["trade_id"] else None)
            for r in rows[:size]])
        if len(rows) > size:
            reply.next_page_token = encode_token({"seq": str(rows[size - 1]["sequence"])})
        return reply

    async def ListTrades(self, request: api.ListTradesRequest,
                         context: grpc.aio.ServicerContext) -> api.ListTradesResponse:
        caller = require_identity()
        size = page_size(request.page_size)
        cursor = decode_token(request.page_token)
        filters = {
            "portfolio": parse_portfolio(request.portfolio, "portfolio")
            if request.portfolio else None,
            "symbol": request.symbol.upper() or None,
            "order": parse_order(request.order, "order") if request.order else None,
            "start": time_or_none(request, "start_time"), "end": time_or_none(request, "end_time")}
        async with tenant_transaction(self._order_pool, caller.tenant_id) as connection:
            trades = await TenantTrading(connection).trades(
                caller.user_id, size + 1,
                (datetime.fromisoformat(cursor["t"]), cursor["id"]) if cursor else None, filters)
        reply = api.ListTradesResponse(trades=[trade_to_proto(t) for t in trades[:size]])
        if len(trades) > size:
            last = trades[size - 1]
            reply.next_page_token = encode_token({"t": last.trade_time.isoformat(),
                                                  "id": last.id})
        return reply

    async def StreamOrderUpdates(self, request: api.StreamOrderUpdatesRequest,
                                 context: grpc.aio.ServicerContext
                                 ) -> AsyncIterator[api.StreamOrderUpdatesResponse]:
        caller = require_identity()
        portfolio = (f"portfolios/{parse_portfolio(request.portfolio, 'portfolio')}"
                     if request.portfolio else "")
        channel = orders_channel(caller.tenant_id, caller.user_id)
        async with self._order_updates.subscribe(channel) as events:
            # The first message confirms the stream is live (events from now on are sent).
            yield api.StreamOrderUpdatesResponse(heartbeat=stream_pb2.Heartbeat(
                time=to_timestamp(datetime.now(UTC))))
            while True:
                try:
                    raw = await asyncio.wait_for(events.get(), self._order_heartbeat)
                except TimeoutError:
                    yield api.StreamOrderUpdatesResponse(heartbeat=stream_pb2.Heartbeat(
                        time=to_timestamp(datetime.now(UTC))))
                    continue
                event = pb.OrderEvent.FromString(raw)
                if not portfolio or event.order.portfolio == portfolio:
                    yield api.StreamOrderUpdatesResponse(order_event=event)

    async def _answered(self, tenant: str, method: str, request: object,
                        response_type: type) -> object | None:
        if not getattr(request, "request_id", ""):
            return None
        async with tenant_transaction(self._order_pool, tenant) as connection:
            return await answered(TenantTrading(connection), method, request,  # type: ignore[arg-type]
                                  response_type)

    async def _once(self, tenant: str, request: Message, memo: OrderReply[Response],
                    command: Callable[[OrderReply[Response]], Awaitable[Order]]) -> Response:
        """Run an order command once per request id; a retry gets the stored reply."""
        method, response_type = memo.method, memo.response_type
        earlier = await self._answered(tenant, method, request, response_type)
        if earlier is not None:
            return earlier  # type: ignore[return-value]
        try:
            await command(memo)
        except (DomainError, asyncpg.UniqueViolationError) as error:
            if (isinstance(error, asyncpg.UniqueViolationError)
                    and error.table_name != "idempotency_keys"):
                raise
            # A concurrent twin may have committed first (this one then found the order closed,
            # or rolled back on the twin's stored answer): answer as the twin was answered.
            earlier = await self._answered(tenant, method, request, response_type)
            if earlier is None:
                raise
            return earlier  # type: ignore[return-value]
        assert memo.reply is not None
        return memo.reply

    async def _remember(self, tenant: str, method: str, request: object, reply: object) -> None:
        if not getattr(request, "request_id", ""):
            return
        async with tenant_transaction(self._order_pool, tenant) as connection:
            db = TenantTrading(connection)

            async def answer() -> object:
                return reply

            # A concurrent twin that stored its answer first wins.
            with contextlib.suppress(asyncpg.UniqueViolationError):
                await once(db, method, request, type(reply), answer)  # type: ignore[arg-type]


def _with_order(error: DomainError, order_id: str) -> DomainError:
    """Add the rejected order's id to a rejection's details."""
    error.metadata.setdefault("orderId", order_id)
    return error
