"""Portfolio, cash, position and analytics RPCs of TradingService (owner-only)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import grpc
from tradesage.trading.v1 import trading_resources_pb2 as pb
from tradesage.trading.v1 import trading_service_pb2 as api
from tradesage.type.v1 import stream_pb2

from services.runtime.errors import FailedPrecondition, FieldViolation, InvalidArgument
from services.runtime.identity import Identity, require_identity
from services.runtime.names import uuid_resource_id
from services.runtime.pagination import decode_token, encode_token, page_size
from services.runtime.plans import TenantLimits, check_limit
from services.runtime.tenancy import tenant_transaction
from services.runtime.timestamps import to_timestamp
from services.trading.analytics import compute_analytics
from services.trading.converters import ledger_to_proto, ledger_type_from_proto
from services.trading.domain.money import parse_positive
from services.trading.domain.positions import Position
from services.trading.engine import owned_active, portfolio_not_found
from services.trading.idempotency import once
from services.trading.outbox import OutboxRelay
from services.trading.store import PortfolioRecord, TenantTrading
from services.trading.updates import Updates, portfolio_channel, with_ledger
from services.trading.valuation import Valuer

CURRENCY = re.compile(r"^[A-Z]{3}$")
# How often a portfolio stream revalues its positions at the latest prices.
REVALUE_SECONDS = 1.0


def parse_portfolio(name: str, field: str = "name") -> str:
    """Return the portfolio id of "portfolios/{id}" (NOT_FOUND for ids that cannot exist)."""
    return uuid_resource_id(name, "portfolios", portfolio_not_found, field)


def time_or_none(message: object, field: str) -> datetime | None:
    """Return a Timestamp field of `message` as a datetime, or None if unset."""
    if not message.HasField(field):  # type: ignore[attr-defined]
        return None
    return getattr(message, field).ToDatetime(tzinfo=UTC)  # type: ignore[no-any-return]


class PortfolioRpcs:
    """Mixed into TradingServicer: portfolios, cash, positions, analytics, portfolio stream."""

    def __init__(self, *, pool: asyncpg.Pool, limits: TenantLimits, valuer: Valuer,
                 updates: Updates, relay: OutboxRelay, heartbeat_seconds: float) -> None:
        self._pool, self._limits, self._valuer, self._relay = pool, limits, valuer, relay
        self._updates, self._heartbeat_seconds = updates, heartbeat_seconds

    async def CreatePortfolio(self, request: api.CreatePortfolioRequest,
                              context: grpc.aio.ServicerContext) -> api.CreatePortfolioResponse:
        caller = require_identity()
        name = request.portfolio.display_name.strip()
        currency = request.portfolio.base_currency_code or "USD"
        violations = []
        if not 1 <= len(name) <= 100:
            violations.append(FieldViolation("portfolio.display_name",
                                             "must be 1 to 100 characters"))
        if not CURRENCY.match(currency):
            violations.append(FieldViolation("portfolio.base_currency_code",
                                             "must be an ISO 4217 code such as USD"))
        if violations:
            raise InvalidArgument("the portfolio has invalid fields", violations)
        limits = await self._limits.of(caller.tenant_id)
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)

            async def create() -> api.CreatePortfolioResponse:
                check_limit(limits, "max_portfolios", await db.count_portfolios())
                record = await db.create_portfolio(caller.user_id, name, currency)
                return api.CreatePortfolioResponse(
                    portfolio=await self._valuer.portfolio(record, []))

            return await once(db, "CreatePortfolio", request, api.CreatePortfolioResponse, create)

    async def GetPortfolio(self, request: api.GetPortfolioRequest,
                           context: grpc.aio.ServicerContext) -> api.GetPortfolioResponse:
        caller = require_identity()
        portfolio_id = parse_portfolio(request.name)
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)
            record = _owned(await db.portfolio(portfolio_id), caller, portfolio_id)
            positions = (await db.positions(portfolio_id)).values()
        return api.GetPortfolioResponse(portfolio=await self._valuer.portfolio(record, positions))

    async def ListPortfolios(self, request: api.ListPortfoliosRequest,
                             context: grpc.aio.ServicerContext) -> api.ListPortfoliosResponse:
        caller = require_identity()
        size = page_size(request.page_size, maximum=100)
        cursor = decode_token(request.page_token)
        after = (datetime.fromisoformat(cursor["t"]), cursor["id"]) if cursor else None
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)
            records = await db.list_portfolios(caller.user_id, size + 1, after,
                                               request.show_closed)
            page = records[:size]
            holdings = {r.id: (await db.positions(r.id)).values() for r in page}
        reply = api.ListPortfoliosResponse(portfolios=[
            await self._valuer.portfolio(r, holdings[r.id]) for r in page])
        if len(records) > size:
            reply.next_page_token = encode_token(
                {"t": page[-1].create_time.isoformat(), "id": page[-1].id})
        return reply

    async def UpdatePortfolio(self, request: api.UpdatePortfolioRequest,
                              context: grpc.aio.ServicerContext) -> api.UpdatePortfolioResponse:
        caller = require_identity()
        portfolio_id = parse_portfolio(request.portfolio.name, "portfolio.name")
        paths = list(request.update_mask.paths)
        unknown = [p for p in paths if p != "display_name"]
        if not paths or unknown:
            raise InvalidArgument("only display_name can be updated", [
                FieldViolation("update_mask", "must be exactly [\"display_name\"]",
                               reason="FIELD_NOT_UPDATABLE")], reason="FIELD_NOT_UPDATABLE")
        name = request.portfolio.display_name.strip()
        if not 1 <= len(name) <= 100:
            raise InvalidArgument("the portfolio has invalid fields", [
                FieldViolation("portfolio.display_name", "must be 1 to 100 characters")])
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)
            owned_active(await db.portfolio(portfolio_id, lock=True), caller, portfolio_id)

            async def rename() -> api.UpdatePortfolioResponse:
                record = await db.rename_portfolio(portfolio_id, name)
                positions = (await db.positions(portfolio_id)).values()
                return api.UpdatePortfolioResponse(
                    portfolio=await self._valuer.portfolio(record, positions))

            return await once(db, "UpdatePortfolio", request, api.UpdatePortfolioResponse, rename)

    async def ClosePortfolio(self, request: api.ClosePortfolioRequest,
                             context: grpc.aio.ServicerContext) -> api.ClosePortfolioResponse:
        caller = require_identity()
        portfolio_id = parse_portfolio(request.name)
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)
            record = _owned(await db.portfolio(portfolio_id, lock=True), caller, portfolio_id)

            async def close() -> api.ClosePortfolioResponse:
                if record.state == "closed":
                    return api.ClosePortfolioResponse(
                        portfolio=await self._valuer.portfolio(record, []))
                if record.cash_balance or await db.has_holdings(portfolio_id):
                    raise FailedPrecondition(
                        f"portfolio {portfolio_id} still has cash, positions or open orders",
                        reason="PORTFOLIO_NOT_EMPTY", metadata={
                            "portfolioId": portfolio_id, "cashBalance": str(record.cash_balance)})
                closed = await db.close_portfolio(portfolio_id)
                return api.ClosePortfolioResponse(
                    portfolio=await self._valuer.portfolio(closed, []))

            return await once(db, "ClosePortfolio", request, api.ClosePortfolioResponse, close)

    async def DepositCash(self, request: api.DepositCashRequest,
                          context: grpc.aio.ServicerContext) -> api.DepositCashResponse:
        entry, portfolio = await self._move_cash(request, "deposit", api.DepositCashResponse)
        return api.DepositCashResponse(ledger_entry=entry, portfolio=portfolio)

    async def WithdrawCash(self, request: api.WithdrawCashRequest,
                           context: grpc.aio.ServicerContext) -> api.WithdrawCashResponse:
        entry, portfolio = await self._move_cash(request, "withdrawal", api.WithdrawCashResponse)
        return api.WithdrawCashResponse(ledger_entry=entry, portfolio=portfolio)

    async def _move_cash(self, request: api.DepositCashRequest | api.WithdrawCashRequest,
                         kind: str, response_type: type
                         ) -> tuple[pb.LedgerEntry, pb.Portfolio]:
        caller = require_identity()
        portfolio_id = parse_portfolio(request.portfolio, "portfolio")
        violations: list[FieldViolation] = []
        value = parse_positive("amount.amount", request.amount.amount, violations)
        if not request.request_id:
            violations.append(FieldViolation("request_id", "must be set, so a retry books once"))
        if len(request.description) > 500:
            violations.append(FieldViolation("description", "must be at most 500 characters"))
        if value is not None and value != value.quantize(Decimal("0.01")):
            violations.append(FieldViolation("amount.amount", "must have at most 2 decimals",
                                             reason="INVALID_AMOUNT"))
        if violations:
            raise InvalidArgument("the cash movement has invalid fields", violations,
                                  reason="INVALID_AMOUNT" if value is None else "INVALID_ARGUMENT")
        assert value is not None
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)
            record = owned_active(await db.portfolio(portfolio_id, lock=True), caller, portfolio_id)

            async def book() -> object:
                currency = request.amount.currency_code or record.base_currency_code
                if currency != record.base_currency_code:
                    raise InvalidArgument(
                        f"the portfolio holds {record.base_currency_code}, not {currency}",
                        [FieldViolation("amount.currency_code",
                                        f"must be {record.base_currency_code}")],
                        reason="CURRENCY_MISMATCH",
                        metadata={"expected": record.base_currency_code, "actual": currency})
                signed = value if kind == "deposit" else -value
                if kind == "withdrawal" and value > record.available_cash:
                    raise FailedPrecondition(
                        f"withdrawing {value} needs that much available cash; "
                        f"{record.available_cash} is available", reason="INSUFFICIENT_FUNDS",
                        metadata={"required": str(value), "available": str(record.available_cash),
                                  "currency": currency})
                entry = await db.book_entry(portfolio_id, kind, signed,
                                            record.cash_balance + signed, currency,
                                            request.description)
                await db.save_portfolio_totals(portfolio_id, signed, record.reserved_cash,
                                               Decimal(0))
                await db.add_outbox([("portfolio", portfolio_id, f"trading.cash_{kind}", {
                    "userId": caller.user_id, "time": datetime.now(UTC).isoformat(),
                    "details": {"portfolioId": portfolio_id, "amount": str(signed),
                                "currency": currency, "balanceAfter": str(entry.balance_after)}})])
                updated = await db.portfolio(portfolio_id)
                assert updated is not None
                positions = (await db.positions(portfolio_id)).values()
                return response_type(ledger_entry=ledger_to_proto(entry),
                                     portfolio=await self._valuer.portfolio(updated, positions))

            reply = await once(db, type(request).__name__, request, response_type, book)
        await self._after_cash(caller, portfolio_id, reply.ledger_entry)
        return reply.ledger_entry, reply.portfolio

    async def _after_cash(self, caller: Identity, portfolio_id: str,
                          entry: pb.LedgerEntry) -> None:
        notice = with_ledger(pb.PortfolioUpdate(update_time=to_timestamp(datetime.now(UTC))),
                             [entry])
        await self._updates.publish([(portfolio_channel(caller.tenant_id, portfolio_id),
                                      notice.SerializeToString())])
        self._relay.wake(caller.tenant_id)

    async def ListLedgerEntries(self, request: api.ListLedgerEntriesRequest,
                                context: grpc.aio.ServicerContext
                                ) -> api.ListLedgerEntriesResponse:
        caller = require_identity()
        portfolio_id = parse_portfolio(request.parent, "parent")
        size = page_size(request.page_size)
        cursor = decode_token(request.page_token)
        types = [t for t in (ledger_type_from_proto(v) for v in request.types) if t]
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)
            _owned(await db.portfolio(portfolio_id), caller, portfolio_id)
            rows = await db.list_entries(
                portfolio_id, size + 1, int(cursor["seq"]) if cursor else None, types,
                time_or_none(request, "start_time"), time_or_none(request, "end_time"))
        reply = api.ListLedgerEntriesResponse(
            ledger_entries=[ledger_to_proto(entry) for _, entry in rows[:size]])
        if len(rows) > size:
            reply.next_page_token = encode_token({"seq": str(rows[size - 1][0])})
        return reply

    async def ListPositions(self, request: api.ListPositionsRequest,
                            context: grpc.aio.ServicerContext) -> api.ListPositionsResponse:
        caller = require_identity()
        portfolio_id = parse_portfolio(request.parent, "parent")
        size = page_size(request.page_size, default=100)
        cursor = decode_token(request.page_token)
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)
            record = _owned(await db.portfolio(portfolio_id), caller, portfolio_id)
            positions = [p for p in (await db.positions(portfolio_id)).values()
                         if (p.quantity or request.show_flat)
                         and (not cursor or p.symbol > cursor["symbol"])]
        page = positions[:size]
        reply = api.ListPositionsResponse(positions=[
            await self._valuer.position(portfolio_id, p, record.base_currency_code) for p in page])
        if len(positions) > size:
            reply.next_page_token = encode_token({"symbol": page[-1].symbol})
        return reply

    async def GetPosition(self, request: api.GetPositionRequest,
                          context: grpc.aio.ServicerContext) -> api.GetPositionResponse:
        caller = require_identity()
        head, _, symbol = request.name.rpartition("/positions/")
        if not symbol or "/" in symbol:
            raise InvalidArgument("name must look like portfolios/{id}/positions/{symbol}", [
                FieldViolation("name", "must look like portfolios/{id}/positions/{symbol}")])
        portfolio_id = parse_portfolio(head)
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)
            record = _owned(await db.portfolio(portfolio_id), caller, portfolio_id)
            found = (await db.positions(portfolio_id, [symbol.upper()])).get(symbol.upper())
        position = found or Position(symbol.upper())
        return api.GetPositionResponse(position=await self._valuer.position(
            portfolio_id, position, record.base_currency_code))

    async def GetPortfolioAnalytics(self, request: api.GetPortfolioAnalyticsRequest,
                                    context: grpc.aio.ServicerContext
                                    ) -> api.GetPortfolioAnalyticsResponse:
        caller = require_identity()
        portfolio_id = parse_portfolio(request.portfolio, "portfolio")
        start, end = time_or_none(request, "start_time"), time_or_none(request, "end_time")
        if start and end and start >= end:
            raise InvalidArgument("start_time must be before end_time", [
                FieldViolation("start_time", "must be before end_time")])
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)
            record = _owned(await db.portfolio(portfolio_id), caller, portfolio_id)
            analytics = await compute_analytics(db, record, start, end, request.granularity,
                                                self._valuer)
        return api.GetPortfolioAnalyticsResponse(analytics=analytics)

    async def StreamPortfolioUpdates(self, request: api.StreamPortfolioUpdatesRequest,
                                     context: grpc.aio.ServicerContext
                                     ) -> AsyncIterator[api.StreamPortfolioUpdatesResponse]:
        caller = require_identity()
        portfolio_id = parse_portfolio(request.portfolio, "portfolio")
        async with self._updates.subscribe(portfolio_channel(caller.tenant_id, portfolio_id)) \
                as notices:
            record, positions = await self._snapshot(caller, portfolio_id)
            yield await self._update(record, positions, None)
            last_value = None
            idle = 0.0
            while True:
                try:
                    raw = await asyncio.wait_for(notices.get(), REVALUE_SECONDS)
                except TimeoutError:
                    idle += REVALUE_SECONDS
                    update = await self._update(record, positions, None)
                    value = (update.update.portfolio.equity.amount,
                             update.update.portfolio.unrealized_pnl.amount)
                    if value != last_value:  # prices moved: the live P&L changed
                        last_value, idle = value, 0.0
                        yield update
                    elif idle >= self._heartbeat_seconds:
                        idle = 0.0
                        yield api.StreamPortfolioUpdatesResponse(heartbeat=stream_pb2.Heartbeat(
                            time=to_timestamp(datetime.now(UTC))))
                    continue
                notice = pb.PortfolioUpdate.FromString(raw)
                record, positions = await self._snapshot(caller, portfolio_id)
                update = await self._update(record, positions, notice)
                last_value, idle = (update.update.portfolio.equity.amount,
                                    update.update.portfolio.unrealized_pnl.amount), 0.0
                yield update

    async def _snapshot(self, caller: Identity, portfolio_id: str
                        ) -> tuple[PortfolioRecord, dict[str, Position]]:
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)
            record = _owned(await db.portfolio(portfolio_id), caller, portfolio_id)
            return record, await db.positions(portfolio_id)

    async def _update(self, record: PortfolioRecord, positions: dict[str, Position],
                      notice: pb.PortfolioUpdate | None) -> api.StreamPortfolioUpdatesResponse:
        touched = {p.symbol for p in notice.positions} if notice else set(positions)
        update = pb.PortfolioUpdate(
            portfolio=await self._valuer.portfolio(record, positions.values()),
            positions=[await self._valuer.position(record.id, p, record.base_currency_code)
                       for s, p in sorted(positions.items()) if s in touched],
            update_time=to_timestamp(datetime.now(UTC)))
        if notice is not None:
            with_ledger(update, list(notice.ledger_entries))
        return api.StreamPortfolioUpdatesResponse(update=update)


def _owned(record: PortfolioRecord | None, caller: Identity, portfolio_id: str) -> PortfolioRecord:
    if record is None or record.user_id != caller.user_id:
        raise portfolio_not_found(portfolio_id)
    return record
