"""Tests for the simulated venue and the in-process quote fan-out with conflation."""

import asyncio
import time
from decimal import Decimal

import pytest

from services.market import hub
from services.market.domain.quotes import Instrument, Quote, SimulatedVenue
from services.market.hub import QuoteHub, Subscription

AAPL = Instrument("AAPL", "Apple Inc.", "equity", "XNAS", "USD",
                  tick_size=Decimal("0.01"), lot_size=Decimal("1"),
                  reference_price=Decimal("190.00"))
ESZ5 = Instrument("ESZ5", "E-mini S&P 500", "future", "XCME", "USD",
                  tick_size=Decimal("0.25"), lot_size=Decimal("1"),
                  reference_price=Decimal("6000.00"))
PENNY = Instrument("PNY", "Penny stock", "equity", "XNAS", "USD",
                   tick_size=Decimal("0.05"), lot_size=Decimal("10"),
                   reference_price=Decimal("0.60"))
INSTRUMENTS = [AAPL, ESZ5, PENNY]


def _run(venue: SimulatedVenue, ticks: int) -> list[Quote]:
    return [quote for step in range(ticks) for quote in venue.tick(1_000 + step)]


def _quote(symbol: str, sequence: int, bid: str = "100.00") -> Quote:
    return Quote(symbol=symbol, bid=bid, ask="100.02", bid_size="100", ask_size="200",
                 last="100.01", time_ms=1_700_000_000_000 + sequence, sequence=sequence)


# SimulatedVenue


def test_same_seed_gives_the_same_quotes():
    assert _run(SimulatedVenue(INSTRUMENTS, seed=42), 50) == _run(
        SimulatedVenue(INSTRUMENTS, seed=42), 50)


def test_different_seeds_give_different_quotes():
    first = _run(SimulatedVenue(INSTRUMENTS, seed=1), 20)
    second = _run(SimulatedVenue(INSTRUMENTS, seed=2), 20)

    assert [(q.bid, q.ask) for q in first] != [(q.bid, q.ask) for q in second]


def test_every_tick_quotes_every_symbol_at_the_given_time():
    quotes = SimulatedVenue(INSTRUMENTS).tick(1_234)

    assert [q.symbol for q in quotes] == ["AAPL", "ESZ5", "PNY"]
    assert {q.time_ms for q in quotes} == {1_234}


def test_bid_is_below_ask_by_a_few_ticks():
    ticks = {i.symbol: i.tick_size for i in INSTRUMENTS}

    for quote in _run(SimulatedVenue(INSTRUMENTS, seed=3, volatility=0.01), 300):
        bid, ask = Decimal(quote.bid), Decimal(quote.ask)
        assert Decimal(0) < bid < ask, quote
        assert 1 <= (ask - bid) / ticks[quote.symbol] <= 6, quote


def test_prices_lie_on_the_tick_grid():
    ticks = {i.symbol: i.tick_size for i in INSTRUMENTS}

    for quote in _run(SimulatedVenue(INSTRUMENTS, seed=5, volatility=0.01), 300):
        for price in (quote.bid, quote.ask, quote.last):
            assert Decimal(price) % ticks[quote.symbol] == 0, quote


def test_sizes_are_whole_round_lots():
    lots = {i.symbol: i.lot_size for i in INSTRUMENTS}

    for quote in _run(SimulatedVenue(INSTRUMENTS), 50):
        for size in (quote.bid_size, quote.ask_size):
            assert Decimal(size) > 0 and Decimal(size) % (lots[quote.symbol] * 100) == 0


def test_sequence_increments_per_symbol():
    quotes = _run(SimulatedVenue(INSTRUMENTS), 4)

    for instrument in INSTRUMENTS:
        assert [q.sequence for q in quotes if q.symbol == instrument.symbol] == [1, 2, 3, 4]


def test_prices_stay_positive_under_heavy_volatility():
    for quote in _run(SimulatedVenue([PENNY], seed=11, volatility=0.5), 300):
        assert Decimal(quote.bid) > 0


@pytest.mark.parametrize("quote", [
    _quote("AAPL", 7),
    *SimulatedVenue(INSTRUMENTS).tick(99),
])
def test_quote_json_round_trip(quote):
    assert Quote.from_json(quote.to_json()) == quote


def test_quote_json_keeps_prices_as_strings():
    assert '"bid":"100.00"' in _quote("AAPL", 1).to_json()


# QuoteHub and Subscription


def _hub() -> QuoteHub:
    return QuoteHub(None)  # type: ignore[arg-type]  # dispatch never touches Redis


def test_channel_of_a_symbol():
    assert hub.channel("AAPL") == "quotes.AAPL"


async def test_idle_subscriber_gets_only_the_latest_quote_marked_conflated():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL"])

    for sequence in (1, 2, 3):
        quote_hub.dispatch(_quote("AAPL", sequence))

    assert await subscription.next_batch(1.0) == ([_quote("AAPL", 3)], True)


async def test_subscriber_reading_between_quotes_gets_all_unconflated():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL"])
    received = []

    for sequence in (1, 2, 3):
        quote_hub.dispatch(_quote("AAPL", sequence))
        batch, conflated = await subscription.next_batch(1.0)
        assert conflated is False
        received += batch

    assert received == [_quote("AAPL", s) for s in (1, 2, 3)]


async def test_conflation_is_per_symbol():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL", "MSFT"])

    quote_hub.dispatch(_quote("AAPL", 1))
    quote_hub.dispatch(_quote("MSFT", 1))

    batch, conflated = await subscription.next_batch(1.0)
    assert sorted(batch, key=lambda q: q.symbol) == [_quote("AAPL", 1), _quote("MSFT", 1)]
    assert conflated is False


async def test_conflated_flag_resets_after_a_batch():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL"])
    quote_hub.dispatch(_quote("AAPL", 1))
    quote_hub.dispatch(_quote("AAPL", 2))
    await subscription.next_batch(1.0)

    quote_hub.dispatch(_quote("AAPL", 3))

    assert await subscription.next_batch(1.0) == ([_quote("AAPL", 3)], False)


async def test_quotes_of_other_symbols_are_not_delivered():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL"])

    quote_hub.dispatch(_quote("MSFT", 1))

    assert await subscription.next_batch(0.02) == ([], False)


async def test_every_subscriber_of_a_symbol_gets_the_quote():
    quote_hub = _hub()
    first, second = quote_hub.subscribe(["AAPL"]), quote_hub.subscribe(["TSLA", "AAPL"])
    other = quote_hub.subscribe(["MSFT"])

    quote_hub.dispatch(_quote("AAPL", 1))

    assert await first.next_batch(1.0) == ([_quote("AAPL", 1)], False)
    assert await second.next_batch(1.0) == ([_quote("AAPL", 1)], False)
    assert await other.next_batch(0.01) == ([], False)


async def test_unsubscribe_stops_delivery():
    quote_hub = _hub()
    leaving = quote_hub.subscribe(["AAPL", "MSFT"])
    staying = quote_hub.subscribe(["AAPL"])
    assert quote_hub.subscriber_count == 2

    quote_hub.unsubscribe(leaving)
    quote_hub.dispatch(_quote("AAPL", 1))
    quote_hub.dispatch(_quote("MSFT", 1))

    assert quote_hub.subscriber_count == 1
    assert await leaving.next_batch(0.01) == ([], False)
    assert await staying.next_batch(1.0) == ([_quote("AAPL", 1)], False)


def test_subscriber_count_counts_each_subscription_once():
    quote_hub = _hub()
    quote_hub.subscribe(["AAPL", "MSFT", "TSLA"])
    quote_hub.subscribe(["AAPL"])

    assert quote_hub.subscriber_count == 2


async def test_next_batch_returns_empty_after_its_timeout():
    subscription = Subscription(["AAPL"])

    started = time.monotonic()
    result = await subscription.next_batch(0.05)

    assert result == ([], False)
    assert time.monotonic() - started >= 0.04


async def test_waiting_next_batch_wakes_when_a_quote_arrives():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL"])
    waiting = asyncio.create_task(subscription.next_batch(30.0))
    await asyncio.sleep(0.01)

    started = time.monotonic()
    quote_hub.dispatch(_quote("AAPL", 1))
    result = await asyncio.wait_for(waiting, 2.0)

    assert result == ([_quote("AAPL", 1)], False)
    assert time.monotonic() - started < 1.0
