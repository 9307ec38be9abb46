"""The order engine: one venue per tenant and symbol, every command durable before it returns.

A command (place, replace, cancel, a quote that fills or triggers, an expiry) runs under the
lock of its (tenant, symbol) venue and inside one tenant transaction: the portfolios it may
touch are locked in id order first (a dry run of the match names them), then the venue
matches in memory, the settlement books the fills, and everything commits together. Only
then do the streams and the outbox relay hear of it. If anything fails before the commit,
the venue is rebuilt from the database, which stays the only source of truth.

One engine owns a tenant's books: this service holds a PostgreSQL advisory lock while it
runs, so a second replica waits as a hot standby (see server.py).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

import asyncpg

from services.runtime.errors import (
    Aborted,
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from services.runtime.identity import Identity
from services.runtime.plans import Limits, TenantLimits, check_limit
from services.runtime.tenancy import tenant_transaction
from services.trading.batching import Batcher, Pending
from services.trading.domain.instruments import Instrument
from services.trading.domain.orders import (
    ZERO,
    EventType,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from services.trading.domain.risk import (
    Exposure,
    FeeSchedule,
    RiskPolicy,
    check_collar,
    check_order,
    protection_price,
    reference_price,
    reservation,
    short_quantity,
)
from services.trading.domain.tickets import OrderTicket, check_grid
from services.trading.domain.venue import Fill, MarketQuote, PaperVenue
from services.trading.market_feed import MarketFeed
from services.trading.records import order_from_row, reject_details
from services.trading.settlement import Outcome, Settlement
from services.trading.store import PortfolioRecord, ReferenceStore, TenantTrading

log = logging.getLogger("tradesage.trading.engine")

CANCELED_BY_USER = "CANCELED_BY_USER"
EXPIRY_SWEEP_SECONDS = 1.0
# How long a command waits for the engine to finish starting before UNAVAILABLE.
ACTIVATION_WAIT_SECONDS = 5.0

# Orders of one venue placed in one transaction at most (bounds a batch's lock time).
MAX_PLACEMENT_BATCH = 64

Committed = Callable[[str, Outcome], Awaitable[None]]


class Remember(Protocol):
    """Stores a command's reply under its request id, in the command's own transaction."""

    async def __call__(self, db: TenantTrading, order: Order) -> None:
        """Store the reply to the command that just changed `order`."""

    async def answered(self, db: TenantTrading) -> bool:
        """Return whether a twin of this request was answered already."""
# A placed order, with the rejection risk gave it (the order is stored either way).
Placed = tuple[Order, DomainError | None]


def portfolio_not_found(portfolio_id: str) -> NotFound:
    """Return the error for a portfolio that does not exist or is not the caller's."""
    return NotFound(f"portfolio {portfolio_id} was not found", reason="PORTFOLIO_NOT_FOUND",
                    metadata={"portfolioId": portfolio_id})


def order_not_found(order_id: str) -> NotFound:
    """Return the error for an order that does not exist or is not the caller's."""
    return NotFound(f"order {order_id} was not found", reason="ORDER_NOT_FOUND",
                    metadata={"orderId": order_id})


def order_not_open(order: Order) -> FailedPrecondition:
    """Return the error for changing an order that is closed."""
    return FailedPrecondition(
        f"order {order.id} is {order.status.value}, so it can no longer change",
        reason="ORDER_NOT_OPEN", metadata={"orderId": order.id, "status": order.status.value})


def twin_answered() -> Aborted:
    """Return the error for a request whose twin was answered first (its reply is stored)."""
    return Aborted("this request was already answered; retry to get the answer",
                   reason="REQUEST_ALREADY_ANSWERED")


def owned_active(portfolio: PortfolioRecord | None, caller: Identity,
                 portfolio_id: str) -> PortfolioRecord:
    """Return the caller's active portfolio, or the error a stranger or a closed one gets."""
    if portfolio is None or portfolio.user_id != caller.user_id:
        raise portfolio_not_found(portfolio_id)
    if portfolio.state != "active":
        raise FailedPrecondition(f"portfolio {portfolio_id} is closed",
                                 reason="PORTFOLIO_CLOSED", metadata={"portfolioId": portfolio_id})
    return portfolio


class Engine:
    """Places, replaces, cancels and expires orders; fills them from the venues."""

    def __init__(self, pool: asyncpg.Pool, references: ReferenceStore, plans: TenantLimits,
                 market: MarketFeed, committed: Committed) -> None:
        self._pool, self._references, self._plans = pool, references, plans
        self._market = market
        self._committed = committed
        self._venues: dict[str, dict[str, PaperVenue]] = {}
        self._by_symbol: dict[str, dict[str, PaperVenue]] = defaultdict(dict)  # symbol -> tenant
        self._orders: dict[str, dict[str, Order]] = {}  # tenant -> open order id -> order
        self._locks: dict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._loading: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._quote_work: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._active = asyncio.Event()
        self._placements: Batcher[tuple[str, str], _Placement, Placed] = Batcher(
            self._place_batch, MAX_PLACEMENT_BATCH)
        market.on_quote(self._on_quote)

    def activate(self) -> None:
        """Start taking commands: this replica holds the engine lock and has its books."""
        self._active.set()

    async def _tenant(self, tenant: str) -> None:
        """Load a tenant's books, once; commands wait briefly for a starting engine."""
        if not self._active.is_set():
            try:
                await asyncio.wait_for(self._active.wait(), ACTIVATION_WAIT_SECONDS)
            except TimeoutError:
                raise Unavailable("the order engine is on standby; retry shortly",
                                  reason="ENGINE_UNAVAILABLE") from None
        await self._load_tenant(tenant)

    # Commands

    async def place(self, caller: Identity, portfolio_id: str, ticket: OrderTicket) -> Placed:
        """Place an order; return it, with the rejection if risk refused it (stored too).

        Orders reaching a busy venue are placed together in its next batch (batching.py).
        """
        tenant = caller.tenant_id
        instrument = await self._market.instrument(ticket.symbol)
        check_grid(ticket, instrument)
        limits, fees, policy = await self._plan_terms(tenant)
        await self._tenant(tenant)
        await self._market.quote(ticket.symbol)  # asks the market service if none was heard
        return await self._placements.submit((tenant, ticket.symbol), _Placement(
            caller, portfolio_id, ticket, instrument, limits, fees, policy))

    async def _place_batch(self, key: tuple[str, str],
                           batch: list[Pending[_Placement, Placed]]
                           ) -> list[Pending[_Placement, Placed]]:
        """Place a venue's waiting orders in one transaction; return those left for the next.

        An order is left for the next batch if it repeats a client order id of this batch
        (the next one replays the first) or would now match a portfolio this batch has not
        locked (earlier orders of the batch changed the book).
        """
        tenant, symbol = key
        async with self._locks[key]:
            venue = self._venue(tenant, symbol)
            if (quote := self._market.latest(symbol)) is not None:
                venue.set_quote(quote)
            now = datetime.now(UTC)  # the batch's orders are placed, and written, together
            orders = [self._new_order(p.payload.caller, p.payload.portfolio_id, p.payload.ticket,
                                      p.payload.instrument, now) for p in batch]
            # The tenant's plan as the batch's first request found it, for every order of it.
            fees, policy = batch[0].payload.fees, batch[0].payload.policy
            touched = {i for order in orders for i in venue.portfolios_touched(order)}
            placed: list[tuple[Pending[_Placement, Placed], Placed]] = []
            deferred: list[Pending[_Placement, Placed]] = []
            async with self._command(tenant, venue) as run:
                async with tenant_transaction(self._pool, tenant) as connection:
                    db = TenantTrading(connection)
                    settlement = await Settlement.lock(
                        db, sorted(touched), fees, symbol, now,
                        [(p.payload.portfolio_id, p.payload.ticket.client_order_id)
                         for p in batch])
                    claimed: set[tuple[str, str]] = set()
                    for index, (pending, order) in enumerate(zip(batch, orders, strict=True)):
                        request = pending.payload
                        client = (request.portfolio_id, request.ticket.client_order_id)
                        if index and (client in claimed or not _all_locked(venue, order,
                                                                           settlement)):
                            deferred.append(pending)
                            continue
                        claimed.add(client)
                        try:
                            placed.append((pending, await self._place_one(
                                db, venue, settlement, request, order, policy, run)))
                        except DomainError as error:  # nothing of it was changed yet
                            pending.fail(error)
                    outcome = await settlement.write()
                self._forget_closed(tenant, orders)
            await self._committed(tenant, outcome)
        for pending, result in placed:
            pending.answer(result)
        return deferred

    async def _place_one(self, db: TenantTrading, venue: PaperVenue, settlement: Settlement,
                         request: _Placement, order: Order, policy: RiskPolicy,
                         run: _Command) -> Placed:
        """Place one order of a batch (under the venue's lock, in the batch's transaction)."""
        portfolio_id, caller = request.portfolio_id, request.caller
        prior = settlement.prior_orders.get((portfolio_id, request.ticket.client_order_id))
        if prior is not None:
            return _replay(await db.order_row(prior), caller, request.ticket)
        portfolio = owned_active(settlement.portfolios.get(portfolio_id), caller, portfolio_id)
        _check_currency(request.instrument, portfolio)
        order.currency_code = portfolio.base_currency_code
        await self._check_plan(db, caller.tenant_id, request.limits, settlement.new_orders)
        settlement.new_order(order)
        rejection = self._pre_trade(venue, order, portfolio, settlement, policy,
                                    request.instrument)
        if rejection is None:
            run.mutated = True
            self._track(caller.tenant_id, order)
            _settle(settlement, venue.submit(order))
        settlement.collect_events()
        return order, rejection

    async def preview(self, caller: Identity, portfolio_id: str, ticket: OrderTicket
                      ) -> tuple[Decimal, str, Decimal | None]:
        """Return (reservation, rejection reason, available cash after) without placing."""
        tenant = caller.tenant_id
        instrument = await self._market.instrument(ticket.symbol)
        check_grid(ticket, instrument)
        _, fees, policy = await self._plan_terms(tenant)
        await self._tenant(tenant)
        quote = await self._market.quote(ticket.symbol)
        order = self._new_order(caller, portfolio_id, ticket, instrument, datetime.now(UTC))
        venue = self._venue(tenant, ticket.symbol)
        async with tenant_transaction(self._pool, tenant) as connection:
            db = TenantTrading(connection)
            portfolio = owned_active(await db.portfolio(portfolio_id), caller, portfolio_id)
            try:
                reference = reference_price(quote, ticket.symbol)
                assert quote is not None
                order.protection_price = protection_price(order, quote, policy,
                                                          instrument.tick_size)
                position = (await db.positions(portfolio.id, [ticket.symbol])).get(ticket.symbol)
                exposure = _exposure(venue, portfolio.id, portfolio.cash_balance,
                                     position.quantity if position else ZERO,
                                     portfolio.reserved_cash)
                required = check_order(order, reference, policy, exposure, fees)
            except DomainError as error:
                return ZERO, error.reason, None
            return required, "", portfolio.available_cash - required

    async def cancel(self, caller: Identity, order_id: str,
                     remember: Remember | None = None) -> Order:
        """Cancel one of the caller's open orders; a closed one gets ORDER_NOT_OPEN.

        `remember` stores the reply in the same transaction (see idempotency.OrderReply).
        """
        tenant = caller.tenant_id
        await self._tenant(tenant)
        order = await self._find(caller, order_id)
        async with self._locks[tenant, order.symbol]:
            live = self._orders[tenant].get(order_id)
            if live is None:
                await self._refuse(caller, order_id, EventType.CANCEL_REJECTED, remember)
            assert live is not None
            await self._close(tenant, live, lambda venue: venue.cancel(live, CANCELED_BY_USER),
                              remember)
            return live

    async def cancel_all(self, caller: Identity, portfolio_id: str, symbol: str,
                         side: Side | None) -> list[Order]:
        """Cancel every open order of one of the caller's portfolios (optionally filtered)."""
        tenant = caller.tenant_id
        await self._tenant(tenant)
        async with tenant_transaction(self._pool, tenant) as connection:
            portfolio = await TenantTrading(connection).portfolio(portfolio_id)
            if portfolio is None or portfolio.user_id != caller.user_id:
                raise portfolio_not_found(portfolio_id)
        wanted = [o for o in self._orders.get(tenant, {}).values()
                  if o.portfolio_id == portfolio_id and (not symbol or o.symbol == symbol)
                  and (side is None or o.side is side)]
        canceled = []
        for order in sorted(wanted, key=lambda o: (o.symbol, o.id)):
            try:
                canceled.append(await self.cancel(caller, order.id))
            except FailedPrecondition:
                continue  # it filled or closed meanwhile; nothing left to cancel
        return canceled

    async def replace(self, caller: Identity, order_id: str, quantity: Decimal | None,
                      limit_price: Decimal | None, stop_price: Decimal | None,
                      time_in_force: TimeInForce | None, remember: Remember | None = None
                      ) -> Order:
        """Change an open order's quantity, prices or time in force.

        `remember` stores the reply in the same transaction (see idempotency.OrderReply).
        """
        tenant = caller.tenant_id
        await self._tenant(tenant)
        order = await self._find(caller, order_id)
        instrument = await self._market.instrument(order.symbol)
        _, fees, policy = await self._plan_terms(tenant)
        async with self._locks[tenant, order.symbol]:
            live = self._orders[tenant].get(order_id)
            if live is None:
                await self._refuse(caller, order_id, EventType.REPLACE_REJECTED, remember)
            assert live is not None
            terms = _new_terms(live, quantity, limit_price, stop_price, time_in_force,
                               instrument)
            venue = self._venue(tenant, live.symbol)
            if (quote := self._market.latest(live.symbol)) is not None:
                venue.set_quote(quote)
            async with self._command(tenant, venue) as run:
                async with tenant_transaction(self._pool, tenant) as connection:
                    db = TenantTrading(connection)
                    if remember is not None and await remember.answered(db):
                        raise twin_answered()  # before acting: the twin's change stands
                    trial = _with_terms(live, *terms)
                    settlement = await Settlement.lock(
                        db, list(venue.portfolios_touched(trial)), fees, live.symbol,
                        datetime.now(UTC))
                    try:
                        held = _replacement_hold(venue, live, trial, settlement, policy, fees)
                    except DomainError as error:
                        live.record(EventType.REPLACE_REJECTED, error.reason)
                        settlement.touch(live)
                        outcome = await settlement.write()
                        refused: DomainError | None = error
                    else:
                        refused = None
                        run.mutated = True
                        settlement.hold(live, held)
                        fills = venue.replace(live, *terms)
                        live.record(EventType.REPLACED)
                        _settle(settlement, fills)
                        outcome = await settlement.write()
                        if remember is not None:
                            await remember(db, live)
                self._forget_closed(tenant, [live])
            await self._committed(tenant, outcome)
            if refused is not None:
                raise refused
            return live

    async def fees_for(self, tenant: str) -> FeeSchedule:
        """Return the commission schedule of the tenant's plan."""
        return (await self._plan_terms(tenant))[1]

    async def _plan_terms(self, tenant: str) -> tuple[Limits, FeeSchedule, RiskPolicy]:
        """Return the tenant's plan limits, commission schedule and risk policy (cached)."""
        plan, limits = await self._plans.plan_and_limits(tenant)
        return limits, await self._references.fees(plan), await self._references.policy(plan)

    # Market-driven work

    def _on_quote(self, quote: MarketQuote) -> None:
        """Schedule the venues this quote can fill or trigger (cheap; runs per tick)."""
        for tenant, venue in self._by_symbol.get(quote.symbol, {}).items():
            key = (tenant, quote.symbol)
            if key not in self._quote_work and venue.wants(quote):
                self._quote_work.add(key)
                self._spawn(self._run_quote(tenant, quote.symbol))

    async def _run_quote(self, tenant: str, symbol: str) -> None:
        try:
            async with self._locks[tenant, symbol]:
                self._quote_work.discard((tenant, symbol))
                venue = self._venue(tenant, symbol)
                quote = self._market.latest(symbol)
                if quote is None or not venue.wants(quote):
                    if quote is not None:
                        venue.set_quote(quote)
                    return
                fees = await self.fees_for(tenant)
                async with self._command(tenant, venue) as run:
                    async with tenant_transaction(self._pool, tenant) as connection:
                        db = TenantTrading(connection)
                        settlement = await Settlement.lock(
                            db, list(venue.portfolios_touched_by_quote(quote)), fees, symbol,
                            datetime.now(UTC))
                        run.mutated = True
                        fills = venue.on_quote(quote)
                        for order in venue.triggered:
                            settlement.touch(order)
                        venue.triggered.clear()
                        _settle(settlement, fills)
                        outcome = await settlement.write()
                    self._forget_closed(tenant, [f.order for f in fills])
                await self._committed(tenant, outcome)
        except Exception:
            log.exception("quote-driven execution failed", extra={"symbol": symbol})

    async def catch_up(self) -> None:
        """Act once on the current quotes of every loaded book.

        Quotes published while this engine was down or loading reached no venue, so resting
        orders the market has already reached would otherwise wait for the next tick.
        """
        symbols = sorted({symbol for venues in self._venues.values() for symbol in venues})
        for symbol in symbols:
            try:
                quote = await self._market.quote(symbol)
            except DomainError as error:
                log.warning("no quote to catch up on", extra={"symbol": symbol,
                                                              "error": str(error)})
                continue
            if quote is not None:
                self._on_quote(quote)

    async def expire_due(self) -> None:
        """Expire open orders whose time in force has ended, forever (a background job)."""
        while True:
            await asyncio.sleep(EXPIRY_SWEEP_SECONDS)
            now = datetime.now(UTC)
            for tenant, orders in list(self._orders.items()):
                due = [o for o in orders.values() if o.expire_time and o.expire_time <= now]
                for order in due:
                    try:
                        await self._expire(tenant, order)
                    except Exception:
                        log.exception("expiry failed", extra={"orderId": order.id})

    async def _expire(self, tenant: str, order: Order) -> None:
        async with self._locks[tenant, order.symbol]:
            if order.status.is_open:
                await self._close(tenant, order, lambda venue: venue.expire(order))

    async def _close(self, tenant: str, order: Order, close: Callable[[PaperVenue], None],
                     remember: Remember | None = None) -> None:
        """Take an open order off its venue (cancel, expire) as one command; lock held."""
        venue = self._venue(tenant, order.symbol)
        fees = await self.fees_for(tenant)
        async with self._command(tenant, venue) as run:
            async with tenant_transaction(self._pool, tenant) as connection:
                db = TenantTrading(connection)
                settlement = await Settlement.lock(db, [order.portfolio_id], fees, order.symbol,
                                                   datetime.now(UTC))
                run.mutated = True
                close(venue)
                settlement.touch(order)
                settlement.release_closed()
                outcome = await settlement.write()
                if remember is not None:
                    await remember(db, order)
            self._forget_closed(tenant, [order])
        await self._committed(tenant, outcome)

    # Loading

    async def load_all(self) -> None:
        """Load the books of every active tenant (at start, so resting orders keep working)."""
        while True:
            tenants = await self._pool.fetch(
                "SELECT id FROM platform.tenants WHERE state = 'active' ORDER BY id")
            failed = 0
            for row in tenants:
                try:
                    await self._load_tenant(str(row["id"]))
                except (asyncpg.PostgresError, OSError) as error:
                    failed += 1
                    log.warning("tenant books not loaded yet", extra={
                        "tenantId": str(row["id"]), "error": str(error)})
            if not failed:
                return
            await asyncio.sleep(2.0)

    def open_order(self, tenant: str, order_id: str) -> Order | None:
        """Return an open order of a tenant as the engine holds it (None if closed or unknown)."""
        return self._orders.get(tenant, {}).get(order_id)

    async def _load_tenant(self, tenant: str) -> None:
        """Load a tenant's open orders into its venues, once."""
        if tenant in self._venues:
            return
        async with self._loading[tenant]:
            if tenant in self._venues:
                return
            async with tenant_transaction(self._pool, tenant) as connection:
                orders = await TenantTrading(connection).open_orders()
            self._venues[tenant] = {}
            for order in orders:
                self._venue(tenant, order.symbol).restore(order)
            self._orders[tenant] = {o.id: o for o in orders}

    async def _reload_symbol(self, tenant: str, symbol: str) -> None:
        """Rebuild one venue from the database after a failed command (lock held)."""
        async with tenant_transaction(self._pool, tenant) as connection:
            orders = await TenantTrading(connection).open_orders(symbol)
        venue = PaperVenue(symbol)
        for order in orders:
            venue.restore(order)
        self._venues[tenant][symbol] = self._by_symbol[symbol][tenant] = venue
        tracked = self._orders[tenant]
        for order_id in [i for i, o in tracked.items() if o.symbol == symbol]:
            del tracked[order_id]
        tracked.update({o.id: o for o in orders})

    # Helpers

    def _venue(self, tenant: str, symbol: str) -> PaperVenue:
        venue = self._venues[tenant].get(symbol)
        if venue is None:
            venue = self._venues[tenant][symbol] = self._by_symbol[symbol][tenant] = PaperVenue(
                symbol)
        return venue

    def _track(self, tenant: str, order: Order) -> None:
        self._orders[tenant][order.id] = order

    def _forget_closed(self, tenant: str, orders: list[Order]) -> None:
        tracked = self._orders.get(tenant, {})
        for order in orders:
            if not order.status.is_open:
                tracked.pop(order.id, None)

    def _command(self, tenant: str, venue: PaperVenue) -> _Command:
        return _Command(self, tenant, venue.symbol)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _new_order(self, caller: Identity, portfolio_id: str, ticket: OrderTicket,
                   instrument: Instrument, now: datetime) -> Order:
        order = Order(
            id=str(uuid.uuid4()), portfolio_id=portfolio_id, user_id=caller.user_id,
            client_order_id=ticket.client_order_id, symbol=ticket.symbol, side=ticket.side,
            order_type=ticket.order_type, time_in_force=ticket.time_in_force,
            quantity=ticket.quantity, currency_code=instrument.currency_code,
            limit_price=ticket.limit_price, stop_price=ticket.stop_price, create_time=now,
            update_time=now, priority_time=now,
            expire_time=instrument.day_order_expiry(now)
            if ticket.time_in_force is TimeInForce.DAY else None)
        order.record(EventType.SUBMITTED)
        return order

    async def _check_plan(self, db: TenantTrading, tenant: str, limits: Limits,
                          unwritten: int) -> None:
        """Check the plan's order limits; `unwritten` orders of this batch are not stored yet."""
        check_limit(limits, "max_open_orders", len(self._orders[tenant]))
        if limits.max_orders_per_day:  # counted only where the plan has a daily limit
            start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            check_limit(limits, "max_orders_per_day",
                        await db.count_orders_since(start) + unwritten)

    def _pre_trade(self, venue: PaperVenue, order: Order, portfolio: PortfolioRecord,
                   settlement: Settlement, policy: RiskPolicy,
                   instrument: Instrument) -> DomainError | None:
        """Run the risk checks; a refused order is rejected (and stored) rather than raised."""
        try:
            if instrument.halted:
                raise FailedPrecondition(f"trading in {order.symbol} is halted",
                                         reason="INSTRUMENT_HALTED",
                                         metadata={"symbol": order.symbol})
            reference = reference_price(venue.quote, order.symbol)
            assert venue.quote is not None
            order.protection_price = protection_price(order, venue.quote, policy,
                                                      instrument.tick_size)
            exposure = _exposure(venue, portfolio.id, settlement.cash(portfolio.id),
                                 settlement.held_quantity(portfolio.id),
                                 settlement.reserved(portfolio.id))
            settlement.hold(order, check_order(order, reference, policy, exposure,
                                              settlement.fees))
        except DomainError as error:
            order.reject(error.reason)
            order.reject_details = dict(error.metadata)
            return error
        return None

    async def _find(self, caller: Identity, order_id: str) -> Order:
        """Return the caller's order: the live one if open, else as stored."""
        live = self._orders.get(caller.tenant_id, {}).get(order_id)
        if live is not None:
            if live.user_id != caller.user_id:
                raise order_not_found(order_id)
            return live
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            stored = await TenantTrading(connection).order(order_id)
        if stored is None or stored.user_id != caller.user_id:
            raise order_not_found(order_id)
        return stored

    async def _refuse(self, caller: Identity, order_id: str, event: EventType,
                      remember: Remember | None) -> None:
        """Record a refused cancel or replace of a closed order, then raise ORDER_NOT_OPEN.

        A twin of an answered request (it closed the order) is refused without a record: the
        caller answers it with the twin's reply.
        """
        async with tenant_transaction(self._pool, caller.tenant_id) as connection:
            db = TenantTrading(connection)
            stored = await db.order(order_id, lock=True)
            if stored is None or stored.user_id != caller.user_id:
                raise order_not_found(order_id)
            if remember is not None and await remember.answered(db):
                raise twin_answered()
            stored.record(event, "ORDER_NOT_OPEN")
            settlement = Settlement(db, {}, FeeSchedule(ZERO, ZERO), stored.symbol,
                                    datetime.now(UTC))
            settlement.touch(stored)
            await settlement.write()
        raise order_not_open(stored)


def _exposure(venue: PaperVenue, portfolio_id: str, cash: Decimal, position: Decimal,
              reserved: Decimal) -> Exposure:
    """Return what a portfolio holds and has working in the venue's symbol."""
    working = venue.working(portfolio_id)
    return Exposure(
        available_cash=cash - reserved, position=position,
        open_buys=sum((o.remaining for o in working if o.side is Side.BUY), ZERO),
        open_sells=sum((o.remaining for o in working if o.side is Side.SELL), ZERO))


def _replacement_hold(venue: PaperVenue, live: Order, trial: Order, settlement: Settlement,
                      policy: RiskPolicy, fees: FeeSchedule) -> Decimal:
    """Check the new terms as a fresh order would be; return the cash they hold back."""
    reference = reference_price(venue.quote, live.symbol)
    check_collar(trial, reference, policy)
    portfolio_id = live.portfolio_id
    exposure = _exposure(venue, portfolio_id, settlement.cash(portfolio_id),
                         settlement.held_quantity(portfolio_id), settlement.reserved(portfolio_id))
    others = Exposure(
        available_cash=exposure.available_cash + live.reserved_cash,
        position=exposure.position,
        open_buys=exposure.open_buys - (live.remaining if live.side is Side.BUY else ZERO),
        open_sells=exposure.open_sells - (live.remaining if live.side is Side.SELL else ZERO))
    required = reservation(trial, fees, short_quantity(trial, others))
    if required > others.available_cash:
        raise FailedPrecondition(
            f"the new terms need {required} of buying power; "
            f"{others.available_cash} is available", reason="INSUFFICIENT_FUNDS",
            metadata={"required": str(required), "available": str(others.available_cash),
                      "currency": fees.currency_code})
    return required


def _all_locked(venue: PaperVenue, order: Order, settlement: Settlement) -> bool:
    """Return whether every portfolio `order` would now match is locked (its own aside)."""
    return all(i in settlement.portfolios or i == order.portfolio_id
               for i in venue.portfolios_touched(order))


def _settle(settlement: Settlement, fills: list[Fill]) -> None:
    """Book the venue's fills; the venue already applied them, so work back to each start."""
    before: dict[str, Decimal] = {}
    for fill in fills:
        before.setdefault(fill.order.id, fill.order.filled_notional)
        before[fill.order.id] -= fill.quantity * fill.price
    for fill in fills:
        settlement.touch(fill.order)
        settlement.settle(fill, before[fill.order.id])
        before[fill.order.id] += fill.quantity * fill.price
    settlement.release_closed()


@dataclass(frozen=True)
class _Placement:
    """An order to place, with what was looked up for it before its venue's turn."""

    caller: Identity
    portfolio_id: str
    ticket: OrderTicket
    instrument: Instrument
    limits: Limits
    fees: FeeSchedule
    policy: RiskPolicy


class _Command:
    """Runs a command body; rebuilds the venue from the database if it fails after mutating."""

    def __init__(self, engine: Engine, tenant: str, symbol: str) -> None:
        self._engine, self._tenant, self._symbol = engine, tenant, symbol
        self.mutated = False

    async def __aenter__(self) -> _Command:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: object) -> None:
        if error is not None and self.mutated:
            log.warning("command failed after matching; rebuilding the venue",
                        extra={"symbol": self._symbol, "error": repr(error)})
            await self._engine._reload_symbol(self._tenant, self._symbol)


def _check_currency(instrument: Instrument, portfolio: PortfolioRecord) -> None:
    if instrument.currency_code != portfolio.base_currency_code:
        raise InvalidArgument(
            f"{instrument.symbol} trades in {instrument.currency_code}; the portfolio holds "
            f"{portfolio.base_currency_code}", reason="CURRENCY_MISMATCH",
            metadata={"expected": portfolio.base_currency_code,
                      "actual": instrument.currency_code})


def _replay(row: asyncpg.Record, caller: Identity, ticket: OrderTicket
            ) -> Placed:
    """Answer a retried placement with the first result, or refuse a reused client id."""
    order = order_from_row(row)
    first = (order.user_id, order.symbol, order.side, order.order_type, order.time_in_force,
             order.quantity, order.limit_price, order.stop_price)
    retry = (caller.user_id, ticket.symbol, ticket.side, ticket.order_type,
             ticket.time_in_force, ticket.quantity, ticket.limit_price, ticket.stop_price)
    if first != retry:
        raise AlreadyExists(
            f"client_order_id {ticket.client_order_id} was already used for another order",
            reason="DUPLICATE_CLIENT_ORDER_ID",
            metadata={"clientOrderId": ticket.client_order_id, "orderId": order.id})
    if order.status is OrderStatus.REJECTED:
        return order, FailedPrecondition(
            f"order {order.id} was rejected: {order.reject_reason}",
            reason=order.reject_reason or "REJECTED", metadata=reject_details(row))
    return order, None


def _new_terms(order: Order, quantity: Decimal | None, limit_price: Decimal | None,
               stop_price: Decimal | None, time_in_force: TimeInForce | None,
               instrument: Instrument
               ) -> tuple[Decimal, Decimal | None, Decimal | None, TimeInForce]:
    """Merge a replace request into the order's terms and validate them."""
    violations: list[FieldViolation] = []
    new_quantity = quantity if quantity is not None else order.quantity
    if new_quantity <= order.filled_quantity:
        violations.append(FieldViolation(
            "quantity", f"must exceed the filled quantity {order.filled_quantity}"))
    if new_quantity % instrument.lot_size:
        violations.append(FieldViolation("quantity", f"must be a multiple of {instrument.lot_size}",
                                         reason="INVALID_QUANTITY_INCREMENT"))
    priced = order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    stopped = order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
    if limit_price is not None and not priced:
        violations.append(FieldViolation("limit_price", "this order type has no limit price",
                                         reason="INVALID_PRICE_FOR_ORDER_TYPE"))
    if stop_price is not None and not stopped:
        violations.append(FieldViolation("stop_price", "this order type has no stop price",
                                         reason="INVALID_PRICE_FOR_ORDER_TYPE"))
    if stop_price is not None and order.triggered:
        violations.append(FieldViolation("stop_price", "the stop has already triggered"))
    for field, price in (("limit_price", limit_price), ("stop_price", stop_price)):
        if price is not None and price % instrument.tick_size:
            violations.append(FieldViolation(field, f"must be a multiple of {instrument.tick_size}",
                                             reason="INVALID_PRICE_INCREMENT"))
    new_tif = time_in_force or order.time_in_force
    if new_tif in (TimeInForce.IOC, TimeInForce.FOK):
        violations.append(FieldViolation("time_in_force", "a working order cannot become IOC/FOK"))
    if violations:
        raise InvalidArgument("the new terms are invalid", violations)
    return (new_quantity, limit_price if limit_price is not None else order.limit_price,
            stop_price if stop_price is not None else order.stop_price, new_tif)


def _with_terms(order: Order, quantity: Decimal, limit_price: Decimal | None,
                stop_price: Decimal | None, time_in_force: TimeInForce) -> Order:
    """Return a copy of `order` with new terms, for checks before the real change."""
    return Order(
        id=order.id, portfolio_id=order.portfolio_id, user_id=order.user_id,
        client_order_id=order.client_order_id, symbol=order.symbol, side=order.side,
        order_type=order.order_type, time_in_force=time_in_force, quantity=quantity,
        currency_code=order.currency_code, limit_price=limit_price, stop_price=stop_price,
        protection_price=order.protection_price, status=order.status,
        filled_quantity=order.filled_quantity, filled_notional=order.filled_notional,
        fees=order.fees, triggered=order.triggered)
