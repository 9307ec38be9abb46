"""The pure trading domain: order state machine, book, paper venue, positions, risk, tickets
and instrument hours. Every figure below is computed by hand."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.runtime.errors import FailedPrecondition, InvalidArgument, Unavailable
from services.trading.domain.book import OrderBook, better, crosses
from services.trading.domain.instruments import Instrument
from services.trading.domain.orders import (
    EventType,
    IllegalTransition,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from services.trading.domain.positions import Position, money
from services.trading.domain.risk import (
    Exposure,
    FeeSchedule,
    RiskPolicy,
    check_collar,
    check_order,
    protection_price,
    reference_price,
    release_after_fill,
    reservation,
    short_quantity,
)
from services.trading.domain.tickets import OrderTicket, check_grid, validate_ticket
from services.trading.domain.venue import (
    FILL_OR_KILL_UNFILLABLE,
    IMMEDIATE_OR_CANCEL_REMAINDER,
    SELF_TRADE_PREVENTED,
    Fill,
    MarketQuote,
    PaperVenue,
)

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET, STOP, STOP_LIMIT = (OrderType.LIMIT, OrderType.MARKET, OrderType.STOP,
                                   OrderType.STOP_LIMIT)
GTC, DAY, IOC, FOK = TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK
NOON = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
_ids = itertools.count(1)


def d(value: str | int) -> Decimal:
    return Decimal(value)


def order(side: Side, quantity: str | int, limit: str | None = None, *,
          kind: OrderType = LIMIT, tif: TimeInForce = GTC, stop: str | None = None,
          portfolio: str = "p1", protection: str | None = None) -> Order:
    n = next(_ids)
    return Order(id=f"o{n}", portfolio_id=portfolio, user_id="u1", client_order_id=f"c{n}",
                 symbol="ACME", side=side, order_type=kind, time_in_force=tif,
                 quantity=d(quantity), limit_price=None if limit is None else d(limit),
                 stop_price=None if stop is None else d(stop),
                 protection_price=None if protection is None else d(protection))


def accepted(side: Side, quantity: str | int, limit: str | None = "10") -> Order:
    placed = order(side, quantity, limit)
    placed.accept()
    return placed


def quote(bid: str, ask: str, *, size: str = "10", last: str | None = None,
          sequence: int = 1) -> MarketQuote:
    mid = (d(bid) + d(ask)) / 2
    return MarketQuote("ACME", d(bid), d(ask), d(size), d(size),
                       mid if last is None else d(last), sequence, 0)


def venue(market: MarketQuote | None = None) -> PaperVenue:
    paper = PaperVenue("ACME", clock=lambda: NOON)
    if market is not None:
        paper.set_quote(market)
    return paper


def traded(fills: list[Fill]) -> list[tuple[str, Decimal, Decimal]]:
    """Return (order id, quantity, price) of each fill, in order."""
    return [(fill.order.id, fill.quantity, fill.price) for fill in fills]


def last_reason(placed: Order) -> str | None:
    return placed.pending_events[-1].reason


# Order state machine ----------------------------------------------------------------------


@pytest.mark.parametrize("target", [OrderStatus.ACCEPTED, OrderStatus.REJECTED])
def test_a_new_order_is_accepted_or_rejected(target: OrderStatus) -> None:
    placed = order(BUY, 1, "10")
    placed.move_to(target)
    assert placed.status is target


@pytest.mark.parametrize(("start", "target"), [
    (OrderStatus.NEW, OrderStatus.FILLED),
    (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED),
    (OrderStatus.NEW, OrderStatus.CANCELED),
    (OrderStatus.NEW, OrderStatus.EXPIRED),
    (OrderStatus.ACCEPTED, OrderStatus.ACCEPTED),
    (OrderStatus.ACCEPTED, OrderStatus.REJECTED),
    (OrderStatus.ACCEPTED, OrderStatus.NEW),
    (OrderStatus.PARTIALLY_FILLED, OrderStatus.ACCEPTED),
    (OrderStatus.PARTIALLY_FILLED, OrderStatus.REJECTED),
])
def test_illegal_transitions_raise_and_leave_the_status(start: OrderStatus,
                                                       target: OrderStatus) -> None:
    placed = order(BUY, 1, "10")
    placed.status = start
    with pytest.raises(IllegalTransition):
        placed.move_to(target)
    assert placed.status is start


@pytest.mark.parametrize("closed", [OrderStatus.FILLED, OrderStatus.CANCELED,
                                    OrderStatus.REJECTED, OrderStatus.EXPIRED])
def test_closed_orders_never_change(closed: OrderStatus) -> None:
    placed = order(BUY, 5, "10")
    placed.status = closed
    for target in OrderStatus:
        with pytest.raises(IllegalTransition):
            placed.move_to(target)
    with pytest.raises(IllegalTransition):
        placed.fill(d(1), d(10))
    assert placed.status is closed and placed.remaining == 0 and not placed.status.is_open


def test_fills_move_the_status_and_average_the_price() -> None:
    placed = accepted(BUY, 10)
    placed.fill(d(4), d(10))
    assert (placed.status, placed.remaining) == (OrderStatus.PARTIALLY_FILLED, 6)
    placed.fill(d(6), d(11))
    assert (placed.status, placed.remaining) == (OrderStatus.FILLED, 0)
    assert placed.filled_notional == 106 and placed.average_fill_price == d("10.6")
    events = [(e.type, e.status, e.filled_quantity) for e in placed.pending_events]
    assert events == [(EventType.ACCEPTED, OrderStatus.ACCEPTED, 0),
                      (EventType.FILLED, OrderStatus.PARTIALLY_FILLED, 4),
                      (EventType.FILLED, OrderStatus.FILLED, 10)]


@pytest.mark.parametrize("quantity", ["0", "-1", "6"])
def test_a_fill_of_nothing_or_more_than_remains_raises(quantity: str) -> None:
    placed = accepted(BUY, 10)
    placed.fill(d(5), d(10))
    with pytest.raises(IllegalTransition):
        placed.fill(d(quantity), d(10))
    assert placed.filled_quantity == 5


def test_cancel_keeps_the_filled_part_and_reject_keeps_its_reason() -> None:
    placed = accepted(SELL, 10)
    placed.fill(d(3), d(10))
    placed.cancel("USER")
    assert (placed.status, placed.filled_quantity, placed.remaining) == (
        OrderStatus.CANCELED, 3, 0)
    refused = order(BUY, 1, "10")
    refused.reject("INSUFFICIENT_FUNDS")
    assert refused.reject_reason == "INSUFFICIENT_FUNDS"
    assert last_reason(refused) == "INSUFFICIENT_FUNDS" and refused.average_fill_price is None


# Order book -------------------------------------------------------------------------------


def test_the_book_ranks_better_prices_first_then_older_orders() -> None:
    book = OrderBook()
    bids = [order(BUY, 1, p) for p in ("100", "101", "101", "99")]
    asks = [order(SELL, 1, p) for p in ("103", "102", "102", "104")]
    for placed in bids + asks:
        book.add(placed)
    assert list(book.resting(BUY)) == [bids[1], bids[2], bids[0], bids[3]]
    assert list(book.resting(SELL)) == [asks[1], asks[2], asks[0], asks[3]]
    assert book.first(BUY) is bids[1] and book.first(SELL) is asks[1]
    assert (book.best_price(BUY), book.best_price(SELL)) == (101, 102)
    assert len(book) == 8


def test_remove_takes_one_order_out_and_drops_empty_levels() -> None:
    book = OrderBook()
    first, second, lower = order(BUY, 1, "101"), order(BUY, 1, "101"), order(BUY, 1, "100")
    for placed in (first, second, lower):
        book.add(placed)
    book.remove(first)
    assert first.id not in book and book.first(BUY) is second
    book.remove(second)
    assert book.best_price(BUY) == 100
    book.remove(second)  # not resting any more: a no-op
    book.remove(lower)
    assert len(book) == 0 and book.best_price(BUY) is None and book.first(BUY) is None


@pytest.mark.parametrize(("side", "limit", "price", "expected"), [
    (BUY, "10", "9.99", True), (BUY, "10", "10", True), (BUY, "10", "10.01", False),
    (SELL, "10", "10.01", True), (SELL, "10", "10", True), (SELL, "10", "9.99", False),
    (BUY, None, "1000", True), (SELL, None, "0.01", True),
])
def test_crosses(side: Side, limit: str | None, price: str, expected: bool) -> None:
    assert crosses(side, None if limit is None else d(limit), d(price)) is expected


def test_better_is_strict_and_side_aware() -> None:
    assert better(BUY, d(9), d(10)) and not better(BUY, d(10), d(10))
    assert better(SELL, d(11), d(10)) and not better(SELL, d(9), d(10))


# Paper venue: limit orders meeting each other ---------------------------------------------


def test_crossing_limit_orders_trade_at_the_resting_price() -> None:
    paper = venue()
    resting = order(SELL, 5, "100", portfolio="seller")
    assert paper.submit(resting) == [] and resting.status is OrderStatus.ACCEPTED
    taker = order(BUY, 5, "102")
    fills = paper.submit(taker)
    assert traded(fills) == [(taker.id, 5, 100), (resting.id, 5, 100)]
    assert fills[0].contra is resting and fills[1].contra is taker
    assert fills[0].match_id == fills[1].match_id
    assert taker.status is resting.status is OrderStatus.FILLED
    assert len(paper.book) == 0 and resting.venue_order_id == f"paper-{resting.id}"


def test_a_partial_fill_leaves_the_remainder_resting() -> None:
    paper = venue()
    resting = order(SELL, 10, "100", portfolio="seller")
    paper.submit(resting)
    paper.submit(order(BUY, 4, "100"))
    assert (resting.status, resting.remaining) == (OrderStatus.PARTIALLY_FILLED, 6)
    assert resting.id in paper.book
    taker = order(BUY, 10, "101")
    fills = paper.submit(taker)
    assert fills[0].quantity == 6 and fills[0].remaining_after == 4
    assert resting.status is OrderStatus.FILLED and resting.id not in paper.book
    assert taker.remaining == 4 and paper.book.first(BUY) is taker
    assert paper.book.best_price(BUY) == 101


def test_a_taker_sweeps_levels_in_price_order_up_to_its_limit() -> None:
    paper = venue()
    cheap, dear, too_dear = (order(SELL, 3, p, portfolio="s") for p in ("100", "101", "102"))
    for placed in (dear, too_dear, cheap):
        paper.submit(placed)
    taker = order(BUY, 8, "101")
    fills = paper.submit(taker)
    assert [(f.quantity, f.price) for f in fills if f.order is taker] == [(3, 100), (3, 101)]
    assert too_dear.remaining == 3 and taker.remaining == 2 and taker.id in paper.book


# Paper venue: the simulated market ---------------------------------------------------------


def test_a_market_buy_fills_at_the_ask_up_to_the_quoted_size() -> None:
    paper = venue(quote("99", "101", size="3"))
    taker = order(BUY, 5, kind=MARKET, tif=DAY)
    fills = paper.submit(taker)
    assert traded(fills) == [(taker.id, 3, 101)] and fills[0].contra is None
    assert taker.status is OrderStatus.PARTIALLY_FILLED and taker in paper.open_orders()
    assert paper.on_quote(quote("99", "101", size="3")) == []  # same sequence: no new size
    fills = paper.on_quote(quote("99", "102", size="3", sequence=2))
    assert traded(fills) == [(taker.id, 2, 102)]
    assert taker.status is OrderStatus.FILLED and paper.open_orders() == []


def test_a_market_sell_fills_at_the_bid() -> None:
    paper = venue(quote("99", "101", size="10"))
    taker = order(SELL, 4, kind=MARKET, tif=DAY)
    assert traded(paper.submit(taker)) == [(taker.id, 4, 99)]
    other = order(SELL, 7, kind=MARKET, tif=DAY)
    assert traded(paper.submit(other)) == [(other.id, 6, 99)]  # 4 of the 10 were taken
    assert other.remaining == 1


def test_a_market_order_without_a_quote_waits_for_one() -> None:
    paper = venue()
    taker = order(BUY, 2, kind=MARKET, tif=DAY)
    assert paper.submit(taker) == [] and taker.status is OrderStatus.ACCEPTED
    assert traded(paper.on_quote(quote("49", "50"))) == [(taker.id, 2, 50)]


def test_resting_limits_fill_against_a_quote_that_reaches_them() -> None:
    paper = venue()
    bid = order(BUY, 5, "100")
    paper.submit(bid)
    assert paper.on_quote(quote("99.9", "100.01", size="2", sequence=1)) == []
    fills = paper.on_quote(quote("99", "99.5", size="2", sequence=2))
    assert traded(fills) == [(bid.id, 2, d("99.5"))] and bid.remaining == 3


def test_the_market_fills_when_it_beats_the_book() -> None:
    paper = venue(quote("100", "100.40"))
    resting = order(SELL, 5, "100.50", portfolio="s")
    paper.submit(resting)
    taker = order(BUY, 5, "101")
    fills = paper.submit(taker)
    assert traded(fills) == [(taker.id, 5, d("100.40"))] and fills[0].contra is None
    assert resting.remaining == 5


@pytest.mark.parametrize("ask", ["100.60", "100.50"])
def test_the_book_fills_when_it_beats_or_ties_the_market(ask: str) -> None:
    paper = venue(quote("100", ask))
    resting = order(SELL, 5, "100.50", portfolio="s")
    paper.submit(resting)
    taker = order(BUY, 5, "101")
    fills = paper.submit(taker)
    assert fills[0].contra is resting and fills[0].price == d("100.50")
    assert resting.status is OrderStatus.FILLED


def test_a_taker_uses_the_book_then_the_market_best_price_first() -> None:
    paper = venue(quote("99", "100.5", size="10"))
    paper.submit(order(SELL, 2, "100", portfolio="s"))
    taker = order(BUY, 5, "101")
    fills = [f for f in paper.submit(taker) if f.order is taker]
    assert [(f.quantity, f.price, f.contra is None) for f in fills] == [
        (2, 100, False), (3, d("100.5"), True)]


# Paper venue: time in force ----------------------------------------------------------------


def test_an_ioc_remainder_is_canceled() -> None:
    paper = venue()
    resting = order(SELL, 3, "100", portfolio="s")
    paper.submit(resting)
    taker = order(BUY, 5, "100", tif=IOC)
    fills = paper.submit(taker)
    assert fills[0].quantity == 3 and taker.filled_quantity == 3
    assert taker.status is OrderStatus.CANCELED
    assert last_reason(taker) == IMMEDIATE_OR_CANCEL_REMAINDER and len(paper.book) == 0


def test_an_unfillable_fok_is_canceled_without_fills() -> None:
    paper = venue(quote("99", "100.5", size="1"))
    resting = order(SELL, 3, "100", portfolio="s")
    paper.submit(resting)
    taker = order(BUY, 5, "100.5", tif=FOK)
    assert paper.submit(taker) == []
    assert taker.status is OrderStatus.CANCELED and taker.filled_quantity == 0
    assert last_reason(taker) == FILL_OR_KILL_UNFILLABLE
    assert resting.remaining == 3 and paper.on_quote(quote("99", "100.5", size="1")) == []


def test_a_fillable_fok_fills_completely_from_book_and_market() -> None:
    paper = venue(quote("99", "100.5", size="2"))
    paper.submit(order(SELL, 3, "100", portfolio="s"))
    taker = order(BUY, 5, "100.5", tif=FOK)
    fills = [f for f in paper.submit(taker) if f.order is taker]
    assert [(f.quantity, f.price) for f in fills] == [(3, 100), (2, d("100.5"))]
    assert taker.status is OrderStatus.FILLED


def test_a_fok_is_never_partly_filled_by_self_trade_prevention() -> None:
    # 5 from a stranger at 99, then the taker's own order at 100 stops the walk: the market's
    # 5 at 101 lie behind it, so only 5 of 10 can fill and the FOK is killed untouched.
    paper = venue(quote("98", "101", size="5"))
    paper.submit(order(SELL, 5, "99", portfolio="other"))
    paper.submit(order(SELL, 5, "100", portfolio="p1"))
    taker = order(BUY, 10, "101", tif=FOK)
    assert paper.submit(taker) == []
    assert taker.status is OrderStatus.CANCELED and last_reason(taker) == FILL_OR_KILL_UNFILLABLE


def test_a_fok_counts_the_market_ahead_of_its_own_resting_order() -> None:
    # The market's 5 at 99.5 come before the own order at 100: 5 + 5 fill the FOK.
    paper = venue(quote("98", "99.5", size="5"))
    paper.submit(order(SELL, 5, "99", portfolio="other"))
    paper.submit(order(SELL, 5, "100", portfolio="p1"))
    taker = order(BUY, 10, "101", tif=FOK)
    fills = paper.submit(taker)
    assert taker.status is OrderStatus.FILLED
    assert [(f.quantity, f.price) for f in fills if f.order is taker] == [(5, 99), (5, d("99.5"))]


# Paper venue: stops -----------------------------------------------------------------------


def test_a_buy_stop_waits_until_the_ask_reaches_it() -> None:
    paper = venue(quote("103", "104", last="104"))
    stop = order(BUY, 2, kind=STOP, stop="105")
    assert paper.submit(stop) == [] and not stop.triggered
    assert paper.on_quote(quote("104", "104.99", last="104.5", sequence=2)) == []
    fills = paper.on_quote(quote("104.5", "105", last="104.5", sequence=3))
    assert traded(fills) == [(stop.id, 2, 105)] and stop.triggered
    assert paper.triggered == [stop] and stop.priority_time == NOON


def test_a_buy_stop_triggers_on_the_last_trade_too() -> None:
    paper = venue()
    stop = order(BUY, 2, kind=STOP, stop="105")
    paper.submit(stop)
    fills = paper.on_quote(quote("104", "104.5", last="105"))
    assert traded(fills) == [(stop.id, 2, d("104.5"))]


@pytest.mark.parametrize(("bid", "last", "fills"), [
    ("96", "96", False), ("95.01", "95.5", False), ("95", "96", True), ("96", "95", True)])
def test_a_sell_stop_triggers_when_bid_or_last_falls_to_it(bid: str, last: str,
                                                           fills: bool) -> None:
    paper = venue()
    stop = order(SELL, 2, kind=STOP, stop="95")
    paper.submit(stop)
    result = paper.on_quote(quote(bid, "97", last=last))
    assert stop.triggered is fills and bool(result) is fills
    assert (stop.status is OrderStatus.FILLED) is fills


def test_a_quote_without_a_last_trade_does_not_trigger_a_sell_stop() -> None:
    paper = venue()
    stop = order(SELL, 2, kind=STOP, stop="95")
    paper.submit(stop)
    paper.on_quote(quote("100", "101", last="0"))
    assert not stop.triggered


def test_a_stop_triggering_on_submit_works_at_once() -> None:
    paper = venue(quote("94", "95", last="94.5"))
    stop = order(SELL, 2, kind=STOP, stop="95")
    assert traded(paper.submit(stop)) == [(stop.id, 2, 94)] and stop.triggered


def test_a_triggered_stop_limit_rests_at_its_limit() -> None:
    paper = venue()
    stop = order(BUY, 3, "105.5", kind=STOP_LIMIT, stop="105")
    paper.submit(stop)
    assert paper.on_quote(quote("105", "106", last="105.8")) == []
    assert stop.triggered and stop.id in paper.book and paper.book.best_price(BUY) == d("105.5")
    fills = paper.on_quote(quote("105", "105.5", sequence=2))
    assert traded(fills) == [(stop.id, 3, d("105.5"))]


def test_a_stop_protection_price_caps_its_fills() -> None:
    paper = venue()
    stop = order(SELL, 3, kind=STOP, stop="95", protection="94")
    paper.submit(stop)
    assert paper.on_quote(quote("93", "93.5", last="93")) == []
    assert stop.triggered and stop.status is OrderStatus.ACCEPTED
    assert traded(paper.on_quote(quote("94", "94.5", sequence=2))) == [(stop.id, 3, 94)]


# Paper venue: replace, self-trade prevention, cancel and expiry ----------------------------


def _two_sellers_at_100(paper: PaperVenue) -> tuple[Order, Order]:
    first, second = order(SELL, 5, "100", portfolio="a"), order(SELL, 5, "100", portfolio="b")
    paper.submit(first)
    paper.submit(second)
    return first, second


def test_a_smaller_quantity_keeps_the_place_in_the_queue() -> None:
    paper = venue()
    first, _ = _two_sellers_at_100(paper)
    assert paper.replace(first, d(3), d(100), None, GTC) == []
    assert paper.book.first(SELL) is first and first.quantity == 3
    assert paper.replace(first, d(3), d(100), None, DAY) == []  # same terms, new TIF
    assert paper.book.first(SELL) is first and first.time_in_force is DAY
    fills = paper.submit(order(BUY, 3, "100", portfolio="c"))
    assert fills[1].order is first and first.status is OrderStatus.FILLED


@pytest.mark.parametrize(("quantity", "price"), [("6", "100"), ("5", "100.5")])
def test_a_larger_quantity_or_new_price_loses_priority(quantity: str, price: str) -> None:
    paper = venue()
    first, second = _two_sellers_at_100(paper)
    paper.replace(first, d(quantity), d(price), None, GTC)
    if price != "100":
        paper.replace(first, d(quantity), d(100), None, GTC)
    assert list(paper.book.resting(SELL)) == [second, first]
    assert first.priority_time == NOON and first.quantity == d(quantity)


def test_a_replace_that_crosses_fills_at_once() -> None:
    paper = venue()
    ask = order(SELL, 5, "101", portfolio="s")
    bid = order(BUY, 5, "99")
    paper.submit(ask)
    paper.submit(bid)
    fills = paper.replace(bid, d(5), d(101), None, GTC)
    assert traded(fills) == [(bid.id, 5, 101), (ask.id, 5, 101)]
    assert len(paper.book) == 0


def test_a_replace_cannot_go_down_to_the_filled_quantity() -> None:
    paper = venue()
    resting = order(SELL, 10, "100", portfolio="a")
    paper.submit(resting)
    paper.submit(order(BUY, 4, "100", portfolio="b"))
    with pytest.raises(ValueError, match="does not exceed the filled"):
        paper.replace(resting, d(4), d(100), None, GTC)
    assert resting.quantity == 10 and resting.id in paper.book
    paper.replace(resting, d(5), d(100), None, GTC)
    assert resting.remaining == 1 and resting.id in paper.book


@pytest.mark.parametrize("limit", [None, "98"])
def test_a_stop_triggered_by_a_quote_names_the_resting_orders_it_will_trade_with(
        limit: str | None) -> None:
    # A resting buy of another portfolio at 99 ranks with the market's bid: a stop-market
    # (or stop-limit at 98) sell triggered at 99 fills against it, so the dry run must say so.
    paper = venue(quote("100", "101", last="100.5"))
    paper.submit(order(BUY, 5, "99", portfolio="b"))
    paper.submit(order(BUY, 5, "98.5", portfolio="c"))
    stop = order(SELL, 2, limit, kind=STOP_LIMIT if limit else STOP, stop="99.5",
                 portfolio="a")
    paper.submit(stop)
    falling = quote("99", "99.5", last="99", sequence=2)
    touched = paper.portfolios_touched_by_quote(falling)
    fills = paper.on_quote(falling)
    assert {f.order.portfolio_id for f in fills} <= touched
    assert {"a", "b", "c"} <= touched  # c too: other stops could take b's liquidity first


def test_working_lists_a_portfolios_open_orders_on_the_venue() -> None:
    paper = venue(quote("98", "102"))
    resting = order(BUY, 5, "99", portfolio="a")
    stop = order(SELL, 2, kind=STOP, stop="90", portfolio="a")
    other = order(SELL, 3, "101", portfolio="b")
    for placed in (resting, stop, other):
        paper.submit(placed)
    assert {o.id for o in paper.working("a")} == {resting.id, stop.id}
    paper.submit(order(SELL, 5, "99", portfolio="c"))  # fills the resting buy
    paper.cancel(stop, "CANCELED_BY_USER")
    assert paper.working("a") == [] and paper.working("b") == [other]
    restored = order(BUY, 1, "97", portfolio="a")
    restored.accept()
    paper.restore(restored)
    assert paper.working("a") == [restored]


def test_self_trade_prevention_cancels_the_taker_remainder() -> None:
    paper = venue()
    stranger = order(SELL, 2, "99", portfolio="other")
    own = order(SELL, 5, "100", portfolio="p1")
    paper.submit(stranger)
    paper.submit(own)
    taker = order(BUY, 5, "100", portfolio="p1")
    fills = paper.submit(taker)
    assert traded(fills) == [(taker.id, 2, 99), (stranger.id, 2, 99)]
    assert taker.status is OrderStatus.CANCELED and last_reason(taker) == SELF_TRADE_PREVENTED
    assert own.remaining == 5 and taker.id not in paper.book and own.id in paper.book


def test_cancel_takes_a_resting_order_off_the_book() -> None:
    paper = venue()
    resting = order(BUY, 5, "100")
    paper.submit(resting)
    paper.cancel(resting, "USER_REQUESTED")
    assert resting.status is OrderStatus.CANCELED and paper.open_orders() == []
    assert paper.submit(order(SELL, 5, "100", portfolio="s")) == []
    with pytest.raises(IllegalTransition):
        paper.cancel(resting, "AGAIN")


def test_expire_takes_stops_and_pending_orders_off_the_venue() -> None:
    paper = venue()
    stop = order(BUY, 1, kind=STOP, stop="105", tif=DAY)
    waiting = order(BUY, 1, kind=MARKET, tif=DAY)
    paper.submit(stop)
    paper.submit(waiting)
    assert set(paper.open_orders()) == {stop, waiting}
    paper.expire(stop)
    paper.expire(waiting)
    assert paper.open_orders() == [] and paper.on_quote(quote("105", "106", last="106")) == []
    assert stop.status is waiting.status is OrderStatus.EXPIRED
    assert last_reason(stop) == "TIME_IN_FORCE_ENDED"


def test_restore_puts_orders_back_where_they_work() -> None:
    paper = venue()
    resting, stop, pending = (order(BUY, 1, "100"), order(BUY, 1, kind=STOP, stop="105"),
                              order(BUY, 1, kind=MARKET))
    for placed in (resting, stop, pending):
        placed.accept()
        paper.restore(placed)
    assert resting.id in paper.book and set(paper.open_orders()) == {resting, stop, pending}
    fills = paper.on_quote(quote("99", "99.5", size="2"))  # waiting orders go first
    assert traded(fills) == [(pending.id, 1, d("99.5")), (resting.id, 1, d("99.5"))]
    assert not stop.triggered


def test_wants_only_quotes_that_can_trigger_or_fill() -> None:
    paper = venue()
    paper.submit(order(BUY, 1, "100"))
    paper.submit(order(SELL, 1, kind=STOP, stop="90"))
    assert not paper.wants(quote("99", "100.01", last="99.5"))
    assert paper.wants(quote("99", "100", last="99.5"))        # the ask reaches the bid
    assert paper.wants(quote("89", "100.5", last="95"))        # the bid triggers the stop


# Positions ------------------------------------------------------------------------------


def test_a_long_position_averages_fees_in_and_realizes_net_of_fees() -> None:
    position = Position("ACME")
    assert position.apply_fill(BUY, d(10), d(100), d(1), NOON) == 0
    assert position.average_cost == d("100.10") and position.cost_basis == 1001
    realized = position.apply_fill(SELL, d(4), d(110), d(1), NOON)
    assert realized == d("38.60") and position.realized_pnl == d("38.60")
    assert position.quantity == 6 and position.average_cost == d("100.10")
    assert position.unrealized_pnl(d(105)) == d("29.40")
    assert position.market_value(d(105)) == 630 and position.open_time == NOON


def test_a_short_bought_through_zero_splits_the_fee() -> None:
    position = Position("ACME")
    position.apply_fill(SELL, d(5), d(50), d(1), NOON)
    assert (position.quantity, position.cost_basis, position.average_cost) == (
        -5, -249, d("49.8"))
    assert position.unrealized_pnl(d(45)) == 24  # -225 + 249
    later = NOON + timedelta(hours=1)
    # Closing 5 of 8 carries 2 x 5/8 = 1.25 of the fee: 5 x (49.80 - 40) - 1.25.
    assert position.apply_fill(BUY, d(8), d(40), d(2), later) == d("47.75")
    assert (position.quantity, position.cost_basis) == (3, d("120.75"))
    assert position.average_cost == d("40.25") and position.open_time == later


def test_closing_to_flat_resets_the_cost() -> None:
    position = Position("ACME")
    position.apply_fill(BUY, d(2), d(10), d(0), NOON)
    assert position.apply_fill(SELL, d(2), d(9), d("0.50"), NOON) == d("-2.50")
    assert (position.quantity, position.cost_basis, position.open_time) == (0, 0, None)
    assert position.average_cost == 0 and position.realized_pnl == d("-2.50")


@pytest.mark.parametrize(("amount", "rounded"), [
    ("0.125", "0.12"), ("0.135", "0.14"), ("-0.125", "-0.12"), ("1.2349", "1.23")])
def test_money_rounds_half_to_even(amount: str, rounded: str) -> None:
    assert str(money(d(amount))) == rounded


# Risk -----------------------------------------------------------------------------------

FEES = FeeSchedule(rate_bps=d(10), minimum_fee=d(1))
POLICY = RiskPolicy(max_order_notional=d(0), max_position_notional=d(0), collar_bps=d(500),
                    allow_short=False)


def exposure(cash: str = "1000000", position: str = "0", open_buys: str = "0",
             open_sells: str = "0") -> Exposure:
    return Exposure(d(cash), d(position), d(open_buys), d(open_sells))


def refusal(placed: Order, policy: RiskPolicy = POLICY, held: Exposure | None = None,
            reference: str = "100") -> FailedPrecondition:
    with pytest.raises(FailedPrecondition) as caught:
        check_order(placed, d(reference), policy, held or exposure(), FEES)
    return caught.value


@pytest.mark.parametrize(("notional", "before", "charged", "fee"), [
    ("1000", "0", "0", "1"),         # 1.00 commission, 1 minimum
    ("500", "0", "0", "1"),          # 0.50 topped up to the minimum
    ("500", "500", "1", "0"),        # 1.00 on the running total: paid by the minimum
    ("1000", "1000", "1", "1.00"),   # 2.00 on the running total, 1 paid
    ("5050", "0", "0", "5.05"),
    ("5005", "0", "0", "5.01"),      # 5.005 rounds half up
    ("100", "100", "5", "0"),        # never negative
])
def test_the_fee_is_the_commission_on_the_running_total_topped_up_to_the_minimum(
        notional: str, before: str, charged: str, fee: str) -> None:
    assert FEES.fee(d(notional), d(charged), d(before)) == d(fee)


def test_splitting_an_order_into_fills_never_costs_more_fees() -> None:
    first = FEES.fee(d(2505))                           # 2.505 -> 2.51
    second = FEES.fee(d(2500), first, d(2505))          # 5.005 -> 5.01 in all
    assert (first, second) == (d("2.51"), d("2.50")) and first + second == FEES.fee(d(5005))


def test_protection_prices_extend_the_collar_and_round_away_to_the_tick() -> None:
    tick, market = d("0.01"), quote("100.03", "100.03")
    buy, sell = order(BUY, 1, kind=MARKET), order(SELL, 1, kind=MARKET)
    assert protection_price(buy, market, POLICY, tick) == d("105.04")  # 105.0315 up
    assert protection_price(sell, market, POLICY, tick) == d("95.02")  # 95.0285 down
    stop = order(BUY, 1, kind=STOP, stop="50")
    assert protection_price(stop, market, POLICY, tick) == d("52.50")
    assert protection_price(order(BUY, 1, "100"), market, POLICY, tick) is None
    wide = RiskPolicy(d(0), d(0), d(10_000), False)
    assert protection_price(sell, quote("0.01", "0.02"), wide, tick) == tick  # never below


def test_a_limit_outside_the_collar_is_refused_with_its_band() -> None:
    error = refusal(order(BUY, 1, "105.01"))
    assert error.reason == "PRICE_OUTSIDE_COLLAR"
    assert error.metadata == {"price": "105.01", "reference": "100", "minPrice": "95.00",
                              "maxPrice": "105.00"}
    check_collar(order(SELL, 1, "95"), d(100), POLICY)  # on the edge: allowed
    check_collar(order(SELL, 1, "1"), d(100), RiskPolicy(d(0), d(0), d(0), False))


def test_an_order_above_the_notional_limit_is_refused() -> None:
    policy = RiskPolicy(d(5000), d(0), d(500), False)
    error = refusal(order(BUY, 51, "100"), policy)
    assert error.reason == "ORDER_NOTIONAL_LIMIT"
    assert error.metadata == {"required": "5100.00", "available": "5000"}
    check_order(order(BUY, 50, "100"), d(100), policy, exposure(), FEES)


def test_selling_more_than_is_held_and_free_is_refused_without_shorting() -> None:
    error = refusal(order(SELL, 10, "100"), held=exposure(position="5", open_sells="2"))
    assert error.reason == "INSUFFICIENT_POSITION"
    assert error.metadata == {"required": "10", "available": "3", "symbol": "ACME"}
    assert check_order(order(SELL, 3, "100"), d(100), POLICY,
                       exposure(position="5", open_sells="2"), FEES) == 0


def test_a_position_above_its_limit_is_refused() -> None:
    policy = RiskPolicy(d(0), d(1500), d(500), True)
    error = refusal(order(BUY, 10, "100"), policy, exposure(position="10"))
    assert error.reason == "POSITION_LIMIT"
    assert error.metadata == {"required": "1000.00", "available": "500.00", "limit": "1500",
                              "symbol": "ACME"}
    # Working buys count against the room too: 10 held + 3 working leave 200 of 1500.
    error = refusal(order(BUY, 10, "100"), policy, exposure(position="10", open_buys="3"))
    assert (error.metadata["required"], error.metadata["available"]) == ("1000.00", "200.00")
    # Reducing a position is always allowed, even above the limit.
    check_order(order(SELL, 5, "100"), d(100), policy, exposure(position="20"), FEES)


def test_an_order_without_the_cash_is_refused_with_what_it_needs() -> None:
    error = refusal(order(BUY, 10, "100"), held=exposure(cash="1000.99"))
    assert error.reason == "INSUFFICIENT_FUNDS"
    assert error.metadata == {"required": "1001.00", "available": "1000.99", "currency": "USD"}
    assert check_order(order(BUY, 10, "100"), d(100), POLICY, exposure(cash="1001"),
                       FEES) == d("1001.00")


def test_a_short_sale_reserves_collateral_for_the_short_part() -> None:
    policy = RiskPolicy(d(0), d(0), d(500), True)
    sale = order(SELL, 10, "100")
    assert short_quantity(sale, exposure(position="4")) == 6
    # 6 x 100 = 600, + the fee: 0.60 commission topped up to the 1.00 minimum.
    assert check_order(sale, d(100), policy, exposure(position="4"), FEES) == d("601.00")
    assert short_quantity(order(BUY, 10, "100"), exposure(position="-4")) == 0


def test_a_market_order_is_checked_at_its_protection_price_or_the_reference() -> None:
    capped = order(BUY, 10, kind=MARKET, protection="105")
    assert check_order(capped, d(100), POLICY, exposure(), FEES) == d("1051.05")  # 1050 + 1.05
    policy = RiskPolicy(d(999), d(0), d(500), False)
    error = refusal(order(BUY, 10, kind=MARKET), policy)
    assert error.metadata["required"] == "1000.00"


def test_the_checks_run_in_a_fixed_order() -> None:
    policy = RiskPolicy(d(10), d(10), d(500), False)
    assert refusal(order(SELL, 10, "200"), policy).reason == "PRICE_OUTSIDE_COLLAR"
    assert refusal(order(SELL, 10, "100"), policy).reason == "ORDER_NOTIONAL_LIMIT"


def test_reservation_and_release_math() -> None:
    buy = order(BUY, 10, "100")
    assert reservation(buy, FEES) == d("1001.00")  # 1000 + the 1.00 commission
    assert reservation(order(BUY, 3, "10.01"), FEES) == d("31.03")  # 30.03 + the minimum
    assert reservation(order(BUY, 7, "1000.01"), FEES) == d("7007.07")  # 7000.07 + 7.00
    assert reservation(order(SELL, 10, "100"), FEES) == 0  # a covered sale holds nothing
    assert reservation(order(BUY, 1, kind=MARKET), FEES) == 0  # no price to hold against
    assert release_after_fill(d("1001.00"), d(10), d(6)) == d("600.60")
    assert release_after_fill(d(100), d(3), d(1)) == d("33.34")  # 33.333... up
    assert release_after_fill(d(100), d(3), d(0)) == 0


def test_the_reference_price_is_the_last_trade_else_the_mid() -> None:
    assert reference_price(quote("99", "101", last="100.5"), "ACME") == d("100.5")
    assert reference_price(quote("99", "101", last="0"), "ACME") == 100
    with pytest.raises(Unavailable) as caught:
        reference_price(None, "ACME")
    assert caught.value.reason == "NO_MARKET_PRICE"


# Tickets --------------------------------------------------------------------------------


def ticket(kind: OrderType | None, limit: str = "", stop: str = "", *, quantity: str = "1",
           client_order_id: str = "c-1", symbol: str = " acme ",
           side: Side | None = BUY) -> OrderTicket:
    return validate_ticket(client_order_id, symbol, side, kind, None, quantity, limit, stop)


def violations(kind: OrderType | None, limit: str = "", stop: str = "",
               **fields: str) -> dict[str, str]:
    """Return field -> reason of the violations the ticket fails with."""
    with pytest.raises(InvalidArgument) as caught:
        ticket(kind, limit, stop, **fields)
    return {v.field: v.reason for v in caught.value.violations}


def test_a_valid_ticket_is_normalised() -> None:
    made = ticket(STOP_LIMIT, "10.5", "10")
    assert (made.symbol, made.time_in_force, made.quantity) == ("ACME", DAY, 1)
    assert (made.limit_price, made.stop_price) == (d("10.5"), d(10))
    assert ticket(MARKET).limit_price is None


@pytest.mark.parametrize(("kind", "limit", "stop", "missing"), [
    (LIMIT, "", "", {"limit_price"}),
    (STOP, "", "", {"stop_price"}),
    (STOP_LIMIT, "", "", {"limit_price", "stop_price"}),
    (STOP_LIMIT, "10", "0", {"stop_price"}),
    (LIMIT, "ten", "", {"limit_price"}),
])
def test_missing_or_bad_prices_are_named(kind: OrderType, limit: str, stop: str,
                                         missing: set[str]) -> None:
    assert set(violations(kind, limit, stop)) == missing


@pytest.mark.parametrize(("kind", "limit", "stop", "field"), [
    (MARKET, "10", "", "limit_price"),
    (MARKET, "", "10", "stop_price"),
    (LIMIT, "10", "9", "stop_price"),
    (STOP, "10", "9", "limit_price"),
])
def test_a_price_the_type_does_not_take_is_refused(kind: OrderType, limit: str, stop: str,
                                                   field: str) -> None:
    assert violations(kind, limit, stop) == {field: "INVALID_PRICE_FOR_ORDER_TYPE"}


def test_every_bad_field_is_reported_at_once() -> None:
    bad = violations(None, client_order_id="é" * 3, symbol=" ", quantity="-1")
    assert set(bad) == {"client_order_id", "symbol", "order_type", "quantity"}
    with pytest.raises(InvalidArgument) as caught:
        validate_ticket("c", "ACME", None, LIMIT, IOC, "1", "1", "")
    assert [v.field for v in caught.value.violations] == ["side"]


def _grid_error(made: OrderTicket, instrument: Instrument) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        check_grid(made, instrument)
    return caught.value


def test_prices_and_quantities_must_sit_on_the_grid() -> None:
    shares = Instrument("ACME", d("0.01"), d(1), "USD")
    lot = _grid_error(ticket(LIMIT, "10", quantity="1.5"), shares)
    assert lot.reason == "INVALID_QUANTITY_INCREMENT" and lot.metadata["lotSize"] == "1"
    assert [(v.field, v.reason) for v in lot.violations] == [
        ("quantity", "INVALID_QUANTITY_INCREMENT")]
    tick = _grid_error(ticket(LIMIT, "10.005"), shares)
    assert tick.reason == "INVALID_PRICE_INCREMENT" and tick.metadata["field"] == "limit_price"
    stop = _grid_error(ticket(STOP, "", "9.999"), shares)
    assert [v.field for v in stop.violations] == ["stop_price"]
    check_grid(ticket(STOP_LIMIT, "10.01", "10", quantity="3"), shares)
    check_grid(ticket(LIMIT, "20000.5", quantity="0.001"),
               Instrument("BTC-USD", d("0.5"), d("0.001"), "USD"))


# Instruments ----------------------------------------------------------------------------

EQUITY = Instrument("ACME", d("0.01"), d(1), "USD", always_open=False,
                    time_zone="America/New_York", close_time="16:00",
                    iso_weekdays=(1, 2, 3, 4, 5))


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def test_an_always_open_day_order_expires_at_the_next_utc_midnight() -> None:
    crypto = Instrument("BTC-USD", d("0.01"), d("0.001"), "USD")
    assert crypto.day_order_expiry(NOON) == datetime(2024, 3, 16, tzinfo=UTC)
    late_in_chicago = datetime(2024, 3, 15, 21, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert crypto.day_order_expiry(late_in_chicago) == datetime(2024, 3, 17, tzinfo=UTC)


@pytest.mark.parametrize(("placed", "expires"), [
    (ny(2024, 3, 15, 10), ny(2024, 3, 15, 16)),          # Friday in session
    (ny(2024, 3, 15, 16), ny(2024, 3, 18, 16)),          # at the close: the next session
    (ny(2024, 3, 15, 17), ny(2024, 3, 18, 16)),          # Friday after the close: Monday
    (ny(2024, 3, 16, 12), ny(2024, 3, 18, 16)),          # Saturday
    (ny(2024, 3, 18, 3), ny(2024, 3, 18, 16)),           # Monday before the open
    (ny(2024, 3, 8, 17), ny(2024, 3, 11, 16)),           # over the switch to daylight time
])
def test_an_equity_day_order_expires_at_the_next_session_close(placed: datetime,
                                                              expires: datetime) -> None:
    expiry = EQUITY.day_order_expiry(placed)
    assert expiry == expires and expiry.tzinfo is UTC


def test_the_session_close_follows_daylight_time_in_utc() -> None:
    assert EQUITY.day_order_expiry(ny(2024, 3, 8, 17)).hour == 20
    assert EQUITY.day_order_expiry(ny(2024, 3, 1, 10)).hour == 21
