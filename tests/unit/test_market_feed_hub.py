"""Tests for the simulated venue and the in-process quote fan-out with conflation."""

import asyncio
import time
from decimal import Decimal

import pytest
from tradesage.market.v1 import market_service_pb2 as api

from services.market import hub
from services.market.domain.quotes import Instrument, Quote, SimulatedVenue
from services.market.hub import QUEUE_SLACK, QuoteHub, Subscription, WireQuote

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
    return QuoteHub(None)  # type: ignore[arg-type]  # routing never touches Redis


def _wire(symbol: str, sequence: int) -> WireQuote:
    return WireQuote(_quote(symbol, sequence))


async def _take(subscription: Subscription, count: int,
                timeout: float = 1.0) -> list[api.SubscribeResponse]:
    """Return the next `count` messages of the subscription's stream, decoded."""
    stream = subscription.messages()
    taken = []
    for _ in range(count):
        taken.append(api.SubscribeResponse.FromString(
            await asyncio.wait_for(anext(stream), timeout)))
    await stream.aclose()
    return taken


async def _nothing_within(subscription: Subscription, seconds: float) -> bool:
    stream = subscription.messages()
    try:
        await asyncio.wait_for(anext(stream), seconds)
    except TimeoutError:
        return True
    finally:
        await stream.aclose()
    return False


def _seen(messages: list[api.SubscribeResponse]) -> list[tuple[str, int, bool]]:
    return [(m.quote.symbol, m.quote.sequence, m.conflated) for m in messages]


def test_channel_of_a_symbol():
    assert hub.channel("AAPL") == "quotes.AAPL"
    assert hub.control_channel("abc") == "subscription-control:abc"


def test_wire_quote_is_the_quote_encoded_once_for_both_stream_styles():
    wire = _wire("AAPL", 7)

    single = api.SubscribeResponse.FromString(wire.single)
    batched = api.SubscribeResponse.FromString(wire.batched + wire.batched)

    assert single.quote.symbol == "AAPL" and single.quote.sequence == 7
    assert single.quote.bid == "100.00" and single.quote.time.ToMilliseconds() % 1000 == 7
    assert [q.sequence for q in batched.quotes] == [7, 7]


async def test_every_message_names_the_subscription():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL"])

    quote_hub.dispatch(_wire("AAPL", 1))

    (message,) = await _take(subscription, 1)
    assert message.subscription_id == subscription.id
    assert message.WhichOneof("event") == "quote"


async def test_subscriber_that_keeps_up_gets_every_quote_in_order_unconflated():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL"])

    for sequence in range(1, QUEUE_SLACK):
        quote_hub.dispatch(_wire("AAPL", sequence))

    received = await _take(subscription, QUEUE_SLACK - 1)
    assert _seen(received) == [("AAPL", s, False) for s in range(1, QUEUE_SLACK)]


async def test_subscriber_past_its_queue_bound_keeps_only_the_latest_per_symbol():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL", "MSFT"])

    quote_hub.dispatch(_wire("MSFT", 1))
    for sequence in range(1, 200):
        quote_hub.dispatch(_wire("AAPL", sequence))
    await asyncio.sleep(0)  # the hub settles its subscriptions after a burst of quotes

    assert subscription.pending <= 2 + QUEUE_SLACK
    received = _seen(await _take(subscription, subscription.pending))
    assert ("MSFT", 1, False) in received  # not merged, so not marked
    aapl = [(seq, conflated) for symbol, seq, conflated in received if symbol == "AAPL"]
    assert aapl[-1] == (199, True)
    assert [seq for seq, _ in aapl] == sorted(seq for seq, _ in aapl)


async def test_conflated_flag_resets_after_a_batch():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL"])
    for sequence in range(1, 100):
        quote_hub.dispatch(_wire("AAPL", sequence))
    await asyncio.sleep(0)
    stream = subscription.messages()
    first_batch = [api.SubscribeResponse.FromString(await asyncio.wait_for(anext(stream), 1))
                   for _ in range(subscription.pending)]
    assert all(message.conflated for message in first_batch)

    quote_hub.dispatch(_wire("AAPL", 100))

    nxt = api.SubscribeResponse.FromString(await asyncio.wait_for(anext(stream), 1))
    assert (nxt.quote.sequence, nxt.conflated) == (100, False)
    await stream.aclose()


async def test_batched_subscription_gets_waiting_quotes_in_one_message():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL", "MSFT"], batched=True)

    quote_hub.dispatch(_wire("AAPL", 1))
    quote_hub.dispatch(_wire("MSFT", 1))
    quote_hub.dispatch(_wire("AAPL", 2))

    (message,) = await _take(subscription, 1)
    assert [(q.symbol, q.sequence) for q in message.quotes] == [
        ("AAPL", 1), ("MSFT", 1), ("AAPL", 2)]
    assert not message.HasField("quote") and not message.conflated
    assert message.subscription_id == subscription.id


async def test_quotes_of_other_symbols_are_not_delivered():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL"])

    quote_hub.dispatch(_wire("MSFT", 1))

    assert await _nothing_within(subscription, 0.05)


async def test_every_subscriber_of_a_symbol_gets_the_quote():
    quote_hub = _hub()
    first, second = quote_hub.subscribe(["AAPL"]), quote_hub.subscribe(["TSLA", "AAPL"])
    other = quote_hub.subscribe(["MSFT"])

    quote_hub.dispatch(_wire("AAPL", 1))

    assert _seen(await _take(first, 1)) == [("AAPL", 1, False)]
    assert _seen(await _take(second, 1)) == [("AAPL", 1, False)]
    assert await _nothing_within(other, 0.02)


async def test_unsubscribe_stops_delivery_and_ends_the_stream():
    quote_hub = _hub()
    leaving = quote_hub.subscribe(["AAPL", "MSFT"])
    staying = quote_hub.subscribe(["AAPL"])
    assert quote_hub.subscriber_count == 2

    quote_hub.unsubscribe(leaving)
    quote_hub.dispatch(_wire("AAPL", 1))

    assert quote_hub.subscriber_count == 1
    assert quote_hub.local(leaving.id) is None
    assert [m async for m in leaving.messages()] == []
    assert _seen(await _take(staying, 1)) == [("AAPL", 1, False)]


async def test_change_adds_and_removes_symbols():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL", "MSFT"])
    quote_hub.dispatch(_wire("MSFT", 1))  # queued, then removed with its symbol

    quote_hub.change(subscription, added=["TSLA"], removed=["MSFT"])
    quote_hub.dispatch(_wire("MSFT", 2))
    quote_hub.dispatch(_wire("TSLA", 1))
    quote_hub.dispatch(_wire("AAPL", 1))

    assert subscription.symbols == {"AAPL", "TSLA"}
    assert _seen(await _take(subscription, 2)) == [("TSLA", 1, False), ("AAPL", 1, False)]
    assert await _nothing_within(subscription, 0.02)


async def test_snapshot_comes_first_and_drops_quotes_it_supersedes():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL", "MSFT"])
    quote_hub.dispatch(_wire("AAPL", 4))
    quote_hub.dispatch(_wire("AAPL", 5))
    quote_hub.dispatch(_wire("MSFT", 9))

    subscription.prime([_wire("AAPL", 5), _wire("MSFT", 8)])
    quote_hub.dispatch(_wire("AAPL", 5))  # the snapshot's quote arriving late: a duplicate
    quote_hub.dispatch(_wire("AAPL", 6))

    assert _seen(await _take(subscription, 4)) == [
        ("AAPL", 5, False), ("MSFT", 8, False), ("MSFT", 9, False), ("AAPL", 6, False)]


async def test_idle_stream_sends_a_heartbeat_when_due():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL"], heartbeat_seconds=0.05)
    stream = subscription.messages()
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.01)

    subscription.heartbeat_due(time.monotonic())  # not yet: sent nothing for < 0.05 s
    await asyncio.sleep(0.01)
    assert not waiting.done()
    subscription.heartbeat_due(time.monotonic() + 1)

    message = api.SubscribeResponse.FromString(await asyncio.wait_for(waiting, 1))
    assert message.WhichOneof("event") == "heartbeat"
    assert message.subscription_id == subscription.id
    await stream.aclose()


async def test_requested_heartbeat_is_the_first_message_when_there_is_no_snapshot():
    subscription = Subscription(["AAPL"])

    subscription.request_heartbeat()

    (message,) = await _take(subscription, 1)
    assert message.WhichOneof("event") == "heartbeat"


async def test_waiting_stream_wakes_when_a_quote_arrives():
    quote_hub = _hub()
    subscription = quote_hub.subscribe(["AAPL"])
    stream = subscription.messages()
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.01)

    started = time.monotonic()
    quote_hub.dispatch(_wire("AAPL", 1))
    message = api.SubscribeResponse.FromString(await asyncio.wait_for(waiting, 2.0))

    assert message.quote.sequence == 1
    assert time.monotonic() - started < 1.0
    await stream.aclose()
