"""Orders through the REST edge: types, times in force, fills, modify/cancel, idempotency."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.support.trading import Feed, order_until, place, placed, portfolio, quoted

pytestmark = pytest.mark.timeout(180)


async def test_market_buy_fills_at_the_ask_and_books_cash_fee_and_position(
        alice: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice, "10000.00")
    await quoted(alice, feed, "AAPL", "99.98", "100.00")

    order = await placed(alice, book, "AAPL", "BUY", "10", "MARKET", tif="DAY")

    assert order["status"] == "ORDER_STATUS_FILLED"
    assert order["averageFillPrice"] == "100.00"
    assert order["fees"] == {"currencyCode": "USD", "amount": "0.50"}  # professional: 5 bps
    got = (await alice.get(f"/api/v1/{book}")).json()["portfolio"]
    assert got["cashBalance"]["amount"] == "8999.50"  # 10000 - 1000 - 0.50
    assert got["reservedCash"]["amount"] == "0.00"
    position = (await alice.get(f"/api/v1/{book}/positions/AAPL")).json()["position"]
    assert position["quantity"] == "10"
    assert position["averageCost"] == "100.050000"
    assert position["costBasis"]["amount"] == "1000.50"


async def _error(reply: httpx.Response, status: int) -> dict:
    assert reply.status_code == status, reply.text
    return reply.json()["error"]


async def test_limit_orders_of_two_traders_match_at_the_resting_price_with_partial_fills(
        alice: httpx.AsyncClient, bob: httpx.AsyncClient, feed: Feed) -> None:
    # A wide market: 200.00 inside the spread fills only against each other.
    await quoted(alice, feed, "MSFT", "195.00", "205.00")
    seller, buyer = await portfolio(alice), await portfolio(bob)
    await _deliver(alice, feed, seller, "MSFT", "100")
    await quoted(alice, feed, "MSFT", "195.00", "205.00")

    resting = await placed(alice, seller, "MSFT", "SELL", "100", limit="200.00")
    assert resting["status"] == "ORDER_STATUS_ACCEPTED"
    taker = await placed(bob, buyer, "MSFT", "BUY", "40", limit="201.00")

    assert taker["status"] == "ORDER_STATUS_FILLED"
    assert taker["averageFillPrice"] == "200.00"  # the resting order's price
    maker = (await alice.get(f"/api/v1/{resting['name']}")).json()["order"]
    assert maker["status"] == "ORDER_STATUS_PARTIALLY_FILLED"
    assert (maker["filledQuantity"], maker["remainingQuantity"]) == ("40", "60")
    events = (await alice.get(f"/api/v1/{resting['name']}/events")).json()["orderEvents"]
    assert [e["type"] for e in events] == [
        "ORDER_EVENT_TYPE_SUBMITTED", "ORDER_EVENT_TYPE_ACCEPTED", "ORDER_EVENT_TYPE_FILLED"]
    assert events[-1]["trade"]["quantity"] == "40"


async def _deliver(api: httpx.AsyncClient, feed: Feed, book: str, symbol: str,
                   quantity: str) -> None:
    """Buy `quantity` of `symbol` into `book` at the current ask."""
    order = await placed(api, book, symbol, "BUY", quantity, "MARKET", tif="IOC")
    assert order["status"] == "ORDER_STATUS_FILLED", order


async def test_market_order_beyond_the_quoted_size_fills_over_several_quotes(
        alice: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice)
    await quoted(alice, feed, "GOOGL", "99.00", "100.00", size="30")

    order = await placed(alice, book, "GOOGL", "BUY", "50", "MARKET", tif="DAY")
    assert order["status"] == "ORDER_STATUS_PARTIALLY_FILLED"
    assert order["filledQuantity"] == "30"

    await feed.quote("GOOGL", "99.10", "100.10", size="30")
    filled = await order_until(alice, order["name"], "ORDER_STATUS_FILLED")
    # 30 @ 100.00 + 20 @ 100.10
    assert Decimal(filled["averageFillPrice"]) == (30 * Decimal("100") + 20 * Decimal(
        "100.10")) / 50


async def test_ioc_cancels_the_remainder_and_fok_fills_all_or_nothing(
        alice: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice)
    await quoted(alice, feed, "AMZN", "99.00", "100.00", size="30")

    ioc = await placed(alice, book, "AMZN", "BUY", "50", "LIMIT", limit="100.00", tif="IOC")
    assert (ioc["status"], ioc["filledQuantity"]) == ("ORDER_STATUS_CANCELED", "30")

    await quoted(alice, feed, "AMZN", "99.00", "100.00", size="30")
    fok = await placed(alice, book, "AMZN", "BUY", "50", "LIMIT", limit="100.00", tif="FOK")
    assert (fok["status"], fok["filledQuantity"]) == ("ORDER_STATUS_CANCELED", "0")
    fok = await placed(alice, book, "AMZN", "BUY", "30", "LIMIT", limit="100.00", tif="FOK")
    assert (fok["status"], fok["filledQuantity"]) == ("ORDER_STATUS_FILLED", "30")


async def test_resting_limit_fills_when_the_market_reaches_it(
        alice: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice)
    await quoted(alice, feed, "TSLA", "99.00", "100.00")
    order = await placed(alice, book, "TSLA", "BUY", "5", "LIMIT", limit="98.00", tif="DAY")
    assert order["status"] == "ORDER_STATUS_ACCEPTED"
    assert order["expireTime"]  # a day order carries its expiry

    await feed.quote("TSLA", "97.00", "98.00")
    filled = await order_until(alice, order["name"], "ORDER_STATUS_FILLED")
    assert filled["averageFillPrice"] == "98.00"


async def test_stop_and_stop_limit_trigger_from_market_prices(
        alice: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice)
    await quoted(alice, feed, "NVDA", "99.00", "100.00")
    stop = await placed(alice, book, "NVDA", "BUY", "5", "STOP", stop="102.00")
    stop_limit = await placed(alice, book, "NVDA", "BUY", "5", "STOP_LIMIT", stop="102.00",
                              limit="102.50")
    assert stop["status"] == stop_limit["status"] == "ORDER_STATUS_ACCEPTED"

    await feed.quote("NVDA", "100.50", "101.00")  # not through the stop yet
    assert (await alice.get(f"/api/v1/{stop['name']}")).json()["order"]["status"] == \
        "ORDER_STATUS_ACCEPTED"
    await feed.quote("NVDA", "101.90", "102.20")
    assert (await order_until(alice, stop["name"], "ORDER_STATUS_FILLED"))[
        "averageFillPrice"] == "102.20"
    assert (await order_until(alice, stop_limit["name"], "ORDER_STATUS_FILLED"))[
        "averageFillPrice"] == "102.20"


async def test_replace_changes_an_open_order_and_cancel_after_fill_is_refused(
        alice: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice)
    await quoted(alice, feed, "SPY", "99.00", "100.00")
    order = await placed(alice, book, "SPY", "BUY", "10", "LIMIT", limit="95.00")

    replaced = await alice.post(f"/api/v1/{order['name']}:replace", json={
        "requestId": "r-1", "quantity": "20", "limitPrice": "96.00"})
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["order"]["quantity"], replaced.json()["order"]["limitPrice"]) == (
        "20", "96.00")
    retry = await alice.post(f"/api/v1/{order['name']}:replace", json={
        "requestId": "r-1", "quantity": "20", "limitPrice": "96.00"})
    assert retry.json() == replaced.json()

    bad = await _error(await alice.post(f"/api/v1/{order['name']}:replace", json={
        "requestId": "r-2", "limitPrice": "96.005"}), 400)
    assert bad["code"] == "INVALID_ARGUMENT"

    # Replace to a marketable price: it fills at once; then cancel is refused clearly.
    filled = await alice.post(f"/api/v1/{order['name']}:replace", json={
        "requestId": "r-3", "limitPrice": "100.00"})
    assert filled.json()["order"]["status"] == "ORDER_STATUS_FILLED"
    refused = await _error(await alice.post(f"/api/v1/{order['name']}:cancel", json={}), 400)
    assert refused["code"] == "ORDER_NOT_OPEN"
    assert refused["details"]["status"] == "filled"
    events = (await alice.get(f"/api/v1/{order['name']}/events")).json()["orderEvents"]
    assert events[-1]["type"] == "ORDER_EVENT_TYPE_CANCEL_REJECTED"


async def test_cancel_releases_reserved_cash_and_cancel_all_sweeps_a_portfolio(
        alice: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice, "10000.00")
    await quoted(alice, feed, "AAPL", "99.00", "100.00")
    first = await placed(alice, book, "AAPL", "BUY", "10", "LIMIT", limit="95.00")
    await placed(alice, book, "AAPL", "BUY", "10", "LIMIT", limit="94.00")
    held = (await alice.get(f"/api/v1/{book}")).json()["portfolio"]["reservedCash"]["amount"]
    assert Decimal(held) > Decimal("1890")  # both orders' notional plus fees

    canceled = await alice.post(f"/api/v1/{first['name']}:cancel", json={})
    assert canceled.json()["order"]["status"] == "ORDER_STATUS_CANCELED"
    everything = await alice.post("/api/v1/orders:cancelAll", json={"portfolio": book})
    assert len(everything.json()["canceledOrders"]) == 1
    after = (await alice.get(f"/api/v1/{book}")).json()["portfolio"]
    assert after["reservedCash"]["amount"] == "0.00"
    assert after["availableCash"]["amount"] == "10000.00"


async def test_client_order_id_makes_placing_idempotent(
        alice: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice)
    await quoted(alice, feed, "AAPL", "99.00", "100.00")
    first = await placed(alice, book, "AAPL", "BUY", "3", "LIMIT", limit="97.00",
                         client_order_id="same-id")
    again = await placed(alice, book, "AAPL", "BUY", "3", "LIMIT", limit="97.00",
                         client_order_id="same-id")
    assert again["name"] == first["name"]
    listed = (await alice.get("/api/v1/orders", params={"clientOrderId": "same-id",
                                                        "portfolio": book})).json()
    assert len(listed["orders"]) == 1
    clash = await _error(await place(alice, book, "AAPL", "BUY", "4", "LIMIT", limit="97.00",
                                     client_order_id="same-id"), 409)
    assert clash["code"] == "DUPLICATE_CLIENT_ORDER_ID"


@pytest.mark.parametrize(("side", "quantity", "order_type", "limit", "reason"), [
    ("BUY", "2000", "LIMIT", "100.00", "INSUFFICIENT_FUNDS"),
    ("SELL", "5", "MARKET", "", "INSUFFICIENT_POSITION"),
    ("BUY", "1", "LIMIT", "150.00", "PRICE_OUTSIDE_COLLAR"),
    ("BUY", "20000", "LIMIT", "100.00", "ORDER_NOTIONAL_LIMIT"),
])
async def test_risk_rejections_carry_the_reason_and_figures(
        alice: httpx.AsyncClient, feed: Feed, side: str, quantity: str, order_type: str,
        limit: str, reason: str) -> None:
    book = await portfolio(alice, "10000.00")
    await quoted(alice, feed, "AAPL", "99.00", "100.00")

    error = await _error(await place(alice, book, "AAPL", side, quantity, order_type,
                                     limit=limit), 400)

    assert error["code"] == reason
    assert error["details"]["orderId"]
    if reason in ("INSUFFICIENT_FUNDS", "INSUFFICIENT_POSITION", "ORDER_NOTIONAL_LIMIT"):
        assert Decimal(error["details"]["required"]) > Decimal(error["details"]["available"])
    rejected = (await alice.get(f"/api/v1/orders/{error['details']['orderId']}")).json()
    assert rejected["order"]["status"] == "ORDER_STATUS_REJECTED"
    assert rejected["order"]["rejectReason"] == reason


async def test_insufficient_funds_names_required_and_available(
        alice: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice, "1000.00")
    await quoted(alice, feed, "AAPL", "99.00", "100.00")
    error = await _error(await place(alice, book, "AAPL", "BUY", "10", "LIMIT",
                                     limit="100.00"), 400)
    # 10 x 100.00 = 1000.00 plus 5 bps (0.50) on a professional plan.
    assert error["details"]["required"] == "1000.50"
    assert error["details"]["available"] == "1000.00"


async def test_pnl_matches_a_hand_computed_example(alice: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice, "100000.00")
    await quoted(alice, feed, "AMZN", "99.00", "100.00")
    await placed(alice, book, "AMZN", "BUY", "100", "MARKET", tif="IOC")   # 10000 + fee 5.00
    await quoted(alice, feed, "AMZN", "110.00", "111.00")
    await placed(alice, book, "AMZN", "SELL", "40", "MARKET", tif="IOC")   # 4400, fee 2.20
    await quoted(alice, feed, "AMZN", "104.00", "106.00", last="105.00")

    position = (await alice.get(f"/api/v1/{book}/positions/AMZN")).json()["position"]
    # average cost (10000 + 5.00) / 100 = 100.05; realized 40 x (110 - 100.05) - 2.20 = 395.80
    assert position["averageCost"] == "100.050000"
    assert position["realizedPnl"]["amount"] == "395.80"
    # unrealized at the last price 105: 60 x 105 - 60 x 100.05 = 297.00
    assert position["unrealizedPnl"]["amount"] == "297.00"
    got = (await alice.get(f"/api/v1/{book}")).json()["portfolio"]
    assert got["cashBalance"]["amount"] == "94392.80"  # 100000 - 10005.00 + 4400 - 2.20
    assert got["realizedPnl"]["amount"] == "395.80"
    assert got["equity"]["amount"] == "100692.80"  # cash + 60 x 105
