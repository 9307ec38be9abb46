"""What traders see of their trading through the REST edge: the live order and portfolio
streams, owner-only visibility, the activity log, analytics, trade history and the ledger."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import httpx
import pytest

from mesh.supervisor import Mesh
from tests.e2e.conftest import trader
from tests.support.trading import Feed, order_until, placed, portfolio, quoted

pytestmark = pytest.mark.timeout(180)


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
async def carol(trading_edge: httpx.AsyncClient, trading_mesh: Mesh
                ) -> AsyncIterator[httpx.AsyncClient]:
    """A trader of another tenant."""
    client = await trader(trading_edge, trading_mesh)
    yield client
    await client.aclose()


# --- helpers ---------------------------------------------------------------------------------

class Sse:
    """A server-sent event stream of the edge, read in the background."""

    def __init__(self, client: httpx.AsyncClient, path: str) -> None:
        self.events: list[dict] = []
        self._task = asyncio.create_task(self._read(client, path))

    async def _read(self, client: httpx.AsyncClient, path: str) -> None:
        async with client.stream("GET", path, headers={"accept": "text/event-stream"},
                                 timeout=httpx.Timeout(10.0, read=60.0)) as reply:
            assert reply.status_code == 200, await reply.aread()
            assert reply.headers["content-type"].startswith("text/event-stream")
            async for line in reply.aiter_lines():
                if line.startswith("data: "):
                    self.events.append(json.loads(line.removeprefix("data: ")))

    async def until(self, condition: Callable[[], object], timeout: float = 10.0) -> None:
        """Wait until `condition()` holds, failing if the stream ends or time runs out."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self._task.done():
                self._task.result()
                raise AssertionError(f"the stream ended: {self.events}")
            assert time.monotonic() < deadline, f"timed out; the stream sent {self.events}"
            await asyncio.sleep(0.02)

    def of(self, key: str) -> list[dict]:
        """Return the payloads of the events carrying `key` (e.g. "orderEvent")."""
        return [event[key] for event in self.events if key in event]

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def streaming(client: httpx.AsyncClient, path: str) -> AsyncIterator[Sse]:
    """Open an SSE stream; yield it once its first event (the stream is live) arrived."""
    stream = Sse(client, path)
    try:
        await stream.until(lambda: stream.events)
        yield stream
    finally:
        await stream.close()


async def deposit(api: httpx.AsyncClient, book: str, amount: str) -> dict:
    """Deposit `amount` USD; return the reply JSON."""
    reply = await api.post(f"/api/v1/{book}:deposit", json={
        "amount": {"currencyCode": "USD", "amount": amount}, "requestId": str(uuid.uuid4())})
    assert reply.status_code == 200, reply.text
    return reply.json()


def cash_of(update: dict) -> str:
    return update["portfolio"]["cashBalance"]["amount"]


def assert_not_found(reply: httpx.Response, code: str, details: dict[str, str]) -> None:
    assert reply.status_code == 404, reply.text
    error = reply.json()["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["code"] == code
    assert error["details"] == details
    assert error["message"]


async def listed(api: httpx.AsyncClient, path: str, key: str, **params: object) -> list[dict]:
    """Return every item of a paginated list (walking all pages)."""
    items: list[dict] = []
    token = ""
    while True:
        reply = await api.get(path, params={**params, "pageToken": token})
        assert reply.status_code == 200, reply.text
        items += reply.json().get(key, [])
        token = reply.json().get("nextPageToken", "")
        if not token:
            return items


async def activities_until(api: httpx.AsyncClient, user_id: str,
                           done: Callable[[list[dict]], bool], timeout: float = 10.0
                           ) -> list[dict]:
    """Poll the user's activity log until `done(entries)`; return the entries."""
    deadline = time.monotonic() + timeout
    while True:
        entries = await listed(api, f"/api/v1/users/{user_id}/activities", "activities",
                               pageSize=100)
        if done(entries):
            return entries
        assert time.monotonic() < deadline, f"the activity log stayed {entries}"
        await asyncio.sleep(0.2)


# --- order stream ----------------------------------------------------------------------------

async def test_order_stream_delivers_the_owners_events_and_nobody_elses(
        alice: httpx.AsyncClient, bob: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice, "10000.00")
    await quoted(alice, feed, "MSFT", "399.98", "400.00")
    async with streaming(alice, "/api/v1/orders:stream") as mine, \
            streaming(bob, "/api/v1/orders:stream") as theirs:
        assert "heartbeat" in mine.events[0] and "heartbeat" in theirs.events[0]

        order = await placed(alice, book, "MSFT", "BUY", "5", "LIMIT", limit="399.00")
        assert order["status"] == "ORDER_STATUS_ACCEPTED"
        await feed.quote("MSFT", "398.50", "398.90")  # through the limit: the order fills
        await order_until(alice, order["name"], "ORDER_STATUS_FILLED")
        await mine.until(lambda: any(e["type"] == "ORDER_EVENT_TYPE_FILLED"
                                     for e in mine.of("orderEvent")))
        await asyncio.sleep(1.5)  # time for a stray event to reach bob (heartbeat is 1 s)

    events = [e for e in mine.of("orderEvent") if e["order"]["name"] == order["name"]]
    assert [e["type"] for e in events] == ["ORDER_EVENT_TYPE_SUBMITTED",
                                           "ORDER_EVENT_TYPE_ACCEPTED",
                                           "ORDER_EVENT_TYPE_FILLED"]
    _, accepted, filled = events
    assert accepted["order"]["status"] == "ORDER_STATUS_ACCEPTED"
    assert filled["order"]["status"] == "ORDER_STATUS_FILLED"
    assert filled["order"]["filledQuantity"] == "5"
    assert filled["trade"]["order"] == order["name"]
    assert filled["trade"]["quantity"] == "5"
    assert Decimal(filled["trade"]["price"]) <= Decimal("399.00")
    assert theirs.of("orderEvent") == []
    assert len(theirs.events) >= 2 and all(set(e) == {"heartbeat"} for e in theirs.events)


# --- portfolio stream ------------------------------------------------------------------------

async def test_portfolio_stream_shows_cash_fills_and_live_pnl(
        alice: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice, "0")
    await quoted(alice, feed, "NVDA", "119.98", "120.00", last="120.00")
    async with streaming(alice, f"/api/v1/{book}:stream") as stream:
        assert cash_of(stream.events[0]["update"]) == "0.00"

        await deposit(alice, book, "5000.00")
        await stream.until(lambda: any(cash_of(u) == "5000.00" for u in stream.of("update")))
        funded = next(u for u in stream.of("update") if cash_of(u) == "5000.00")
        assert [(e["type"], e["amount"]["amount"]) for e in funded["ledgerEntries"]] == [
            ("LEDGER_ENTRY_TYPE_DEPOSIT", "5000.00")]
        assert funded["ledgerEntry"] == funded["ledgerEntries"][0]  # kept for older clients

        order = await placed(alice, book, "NVDA", "BUY", "10", "MARKET", tif="DAY")
        assert order["status"] == "ORDER_STATUS_FILLED"
        # 5000 - 10 * 120.00 - 0.60 fee (5 bps of 1200)
        await stream.until(lambda: any(cash_of(u) == "3799.40" for u in stream.of("update")))
        bought = next(u for u in stream.of("update") if cash_of(u) == "3799.40")
        assert [p["symbol"] for p in bought["positions"]] == ["NVDA"]
        # The fill booked the trade and then its fee, with the balance after each.
        assert [(e["type"], e["amount"]["amount"], e["balanceAfter"]["amount"])
                for e in bought["ledgerEntries"]] == [
            ("LEDGER_ENTRY_TYPE_TRADE", "-1200.00", "3800.00"),
            ("LEDGER_ENTRY_TYPE_FEE", "-0.60", "3799.40")]
        assert bought["positions"][0]["quantity"] == "10"
        assert bought["positions"][0]["costBasis"]["amount"] == "1200.60"

        await feed.quote("NVDA", "124.99", "125.01", last="125.00")
        # 10 * 125.00 - 1200.60
        await stream.until(lambda: any(u["portfolio"].get("unrealizedPnl", {}).get("amount")
                                       == "49.40" for u in stream.of("update")), timeout=5.0)
    live = next(u for u in stream.of("update")
                if u["portfolio"].get("unrealizedPnl", {}).get("amount") == "49.40")
    assert live["portfolio"]["equity"]["amount"] == "5049.40"  # 3799.40 + 10 * 125.00
    assert live["portfolio"]["cashBalance"]["amount"] == "3799.40"
    [position] = live["positions"]
    assert (position["symbol"], position["marketPrice"]) == ("NVDA", "125.00")
    assert position["unrealizedPnl"]["amount"] == "49.40"
    assert Decimal(position["quantity"]) * Decimal(position["marketPrice"]) \
        - Decimal(position["costBasis"]["amount"]) == Decimal("49.40")


# --- isolation -------------------------------------------------------------------------------

async def test_other_users_and_tenants_see_nothing_of_a_traders_book(
        alice: httpx.AsyncClient, bob: httpx.AsyncClient, carol: httpx.AsyncClient,
        feed: Feed) -> None:
    book = await portfolio(alice, "10000.00")
    await quoted(alice, feed, "TSLA", "249.98", "250.00")
    filled = await placed(alice, book, "TSLA", "BUY", "2", "MARKET", tif="DAY")
    resting = await placed(alice, book, "TSLA", "BUY", "1", "LIMIT", limit="240.00")
    assert (filled["status"], resting["status"]) == ("ORDER_STATUS_FILLED",
                                                     "ORDER_STATUS_ACCEPTED")
    portfolio_id = book.removeprefix("portfolios/")
    for stranger in (bob, carol):
        await portfolio(stranger, "1000.00")  # strangers with books of their own
        for method, path, body in portfolio_requests(book):
            assert_not_found(await stranger.request(method, path, json=body),
                             "PORTFOLIO_NOT_FOUND", {"portfolioId": portfolio_id})
        for order in (filled, resting):
            for method, path, body in order_requests(order["name"]):
                assert_not_found(await stranger.request(method, path, json=body),
                                 "ORDER_NOT_FOUND", {"orderId": order["id"]})
        orders = await listed(stranger, "/api/v1/orders", "orders")
        trades = await listed(stranger, "/api/v1/trades", "trades")
        assert not {filled["name"], resting["name"]} & {o["name"] for o in orders}
        assert all(t["portfolio"] != book for t in trades)
        assert await listed(stranger, "/api/v1/orders", "orders", portfolio=book) == []
        assert await listed(stranger, "/api/v1/trades", "trades", portfolio=book) == []
        async with stranger.stream("GET", f"/api/v1/{book}:stream",
                                   headers={"accept": "text/event-stream"}) as reply:
            await reply.aread()
            assert_not_found(reply, "PORTFOLIO_NOT_FOUND", {"portfolioId": portfolio_id})

    still = await order_until(alice, resting["name"], "ORDER_STATUS_ACCEPTED")
    assert still["remainingQuantity"] == "1"
    untouched = (await alice.get(f"/api/v1/{book}")).json()["portfolio"]
    assert untouched["cashBalance"]["amount"] == "9499.50"  # 10000 - 2 * 250.00 - 0.50
    mine = await listed(alice, "/api/v1/orders", "orders", portfolio=book)
    assert [o["name"] for o in mine] == [resting["name"], filled["name"]]
    assert [t["order"] for t in await listed(alice, "/api/v1/trades", "trades",
                                             portfolio=book)] == [filled["name"]]


def portfolio_requests(book: str) -> list[tuple[str, str, dict | None]]:
    """Return requests about one portfolio: (method, path, JSON body)."""
    cash = {"amount": {"currencyCode": "USD", "amount": "1.00"},
            "requestId": str(uuid.uuid4())}
    return [
        ("GET", f"/api/v1/{book}", None),
        ("GET", f"/api/v1/{book}/positions", None),
        ("GET", f"/api/v1/{book}/positions/TSLA", None),
        ("GET", f"/api/v1/{book}/ledgerEntries", None),
        ("GET", f"/api/v1/{book}/analytics", None),
        ("POST", f"/api/v1/{book}:deposit", cash),
        ("POST", f"/api/v1/{book}:withdraw", cash),
        ("POST", f"/api/v1/{book}:close", {}),
        ("POST", "/api/v1/orders:cancelAll", {"portfolio": book}),
        ("POST", "/api/v1/orders", {
            "portfolio": book, "clientOrderId": uuid.uuid4().hex, "symbol": "TSLA",
            "side": "ORDER_SIDE_SELL", "orderType": "ORDER_TYPE_MARKET", "quantity": "1"}),
    ]


def order_requests(name: str) -> list[tuple[str, str, dict | None]]:
    """Return requests about one order: (method, path, JSON body)."""
    return [
        ("GET", f"/api/v1/{name}", None),
        ("GET", f"/api/v1/{name}/events", None),
        ("POST", f"/api/v1/{name}:cancel", {}),
        ("POST", f"/api/v1/{name}:replace", {"requestId": str(uuid.uuid4()), "quantity": "2"}),
    ]


# --- activity --------------------------------------------------------------------------------

async def test_deposits_and_orders_appear_in_the_owners_activity(
        alice: httpx.AsyncClient, feed: Feed) -> None:
    user_id = alice.user.user_id  # type: ignore[attr-defined]
    book = await portfolio(alice, "0")
    await deposit(alice, book, "2500.00")
    await quoted(alice, feed, "GOOGL", "169.98", "170.00")
    order = await placed(alice, book, "GOOGL", "BUY", "3", "MARKET", tif="DAY")
    assert order["status"] == "ORDER_STATUS_FILLED"

    def of_this_order(entries: list[dict]) -> list[dict]:
        return [e for e in entries if e["kind"] == "ACTIVITY_KIND_ORDER"
                and e["attributes"].get("orderId") == order["id"]]

    def deposits(entries: list[dict]) -> list[dict]:
        return [e for e in entries if e["kind"] == "ACTIVITY_KIND_CASH"
                and e["attributes"].get("portfolioId") == book.removeprefix("portfolios/")]

    entries = await activities_until(
        alice, user_id, lambda found: bool(deposits(found)) and any(
            e["attributes"].get("fillQuantity") for e in of_this_order(found)))
    cash = deposits(entries)
    assert len(cash) == 1
    assert cash[0]["attributes"]["amount"] == "2500.00"
    assert cash[0]["attributes"]["balanceAfter"] == "2500.00"
    orders = of_this_order(entries)
    assert all(e["attributes"]["symbol"] == "GOOGL" for e in orders)
    assert sorted(e["description"] for e in orders) == ["Order accepted", "Order filled"]
    assert cash[0]["description"] == "Cash deposit"
    fill = next(e for e in orders if e["attributes"].get("fillQuantity"))
    assert fill["attributes"]["fillQuantity"] == "3"
    assert fill["attributes"]["price"] == "170.00"
    assert all(e["name"].startswith(f"users/{user_id}/activities/") for e in cash + orders)


# --- analytics and history -------------------------------------------------------------------

async def test_analytics_trades_and_ledger_agree_with_a_round_trip(
        alice: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(alice, "10000.00")
    await quoted(alice, feed, "AMZN", "99.98", "100.00", last="100.00")
    buy = await placed(alice, book, "AMZN", "BUY", "10", "MARKET", tif="DAY")
    await quoted(alice, feed, "AMZN", "110.00", "110.02", last="110.00")
    sell = await placed(alice, book, "AMZN", "SELL", "4", "MARKET", tif="DAY")
    assert (buy["averageFillPrice"], sell["averageFillPrice"]) == ("100.00", "110.00")

    reply = await alice.get(f"/api/v1/{book}/analytics")
    assert reply.status_code == 200, reply.text
    analytics = reply.json()["analytics"]
    # avg cost (1000 + 0.50) / 10 = 100.05; 4 * (110 - 100.05) - 0.50 (min fee) = 39.30
    figures = {k: v for k, v in analytics.items()
               if k not in ("pnlSeries", "startTime", "endTime")}
    assert figures == {
        "portfolio": book, "currencyCode": "USD", "granularity": "ANALYTICS_GRANULARITY_DAY",
        "tradeCount": "2", "realizedPnl": "39.30", "turnover": "1440.00", "fees": "1.00",
        "winningTradeCount": "1", "losingTradeCount": "0", "winRate": "1.0000",
        "unrealizedPnl": "59.70", "maxDrawdown": "0.0000"}  # 6 * 110.00 - 600.30
    created = (await alice.get(f"/api/v1/{book}")).json()["portfolio"]["createTime"]
    assert analytics["startTime"] == created
    [bucket] = analytics["pnlSeries"]
    assert bucket["time"] == created[:10] + "T00:00:00Z"
    # cash 10000 - 1000.50 + 440 - 0.50 = 9439.00, plus 6 * 110.00
    assert bucket == {"time": bucket["time"], "realizedPnl": "39.30", "cumulativePnl": "39.30",
                      "unrealizedPnl": "59.70", "equity": "10099.00", "turnover": "1440.00",
                      "fees": "1.00"}

    sold, bought = await trades_page_by_page(alice, book)
    assert (sold["order"], sold["side"], sold["quantity"], sold["price"]) == (
        sell["name"], "ORDER_SIDE_SELL", "4", "110.00")
    assert (sold["fee"]["amount"], sold["realizedPnl"]["amount"]) == ("0.50", "39.30")
    assert (bought["order"], bought["side"], bought["quantity"], bought["price"]) == (
        buy["name"], "ORDER_SIDE_BUY", "10", "100.00")
    assert (bought["notional"]["amount"], bought["fee"]["amount"]) == ("1000.00", "0.50")
    await assert_ledger(alice, book, sold["name"], bought["name"])


async def trades_page_by_page(api: httpx.AsyncClient, book: str) -> list[dict]:
    """Return the portfolio's trades read one per page, checking the page tokens."""
    trades: list[dict] = []
    token = ""
    for page in range(2):
        reply = await api.get("/api/v1/trades",
                              params={"portfolio": book, "pageSize": 1, "pageToken": token})
        assert reply.status_code == 200, reply.text
        trades += reply.json()["trades"]
        token = reply.json().get("nextPageToken", "")
        assert bool(token) == (page == 0), reply.json()
    assert len(trades) == 2
    return trades


async def assert_ledger(api: httpx.AsyncClient, book: str, sold: str, bought: str) -> None:
    """Check the ledger of the round trip, newest first, and that each balance adds up."""
    entries = await listed(api, f"/api/v1/{book}/ledgerEntries", "ledgerEntries")
    assert [(e["type"].removeprefix("LEDGER_ENTRY_TYPE_"), e["amount"]["amount"],
             e["balanceAfter"]["amount"], e["reference"]) for e in entries] == [
        ("FEE", "-0.50", "9439.00", sold), ("TRADE", "440.00", "9439.50", sold),
        ("FEE", "-0.50", "8999.50", bought), ("TRADE", "-1000.00", "9000.00", bought),
        ("DEPOSIT", "10000.00", "10000.00", "")]
    balance = Decimal(0)
    for entry in reversed(entries):
        balance += Decimal(entry["amount"]["amount"])
        assert Decimal(entry["balanceAfter"]["amount"]) == balance
    portfolio_now = (await api.get(f"/api/v1/{book}")).json()["portfolio"]
    assert portfolio_now["cashBalance"]["amount"] == str(balance)
