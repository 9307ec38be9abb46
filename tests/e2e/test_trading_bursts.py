"""Bursts of orders into one venue: the engine places waiting orders together, in batches.

Each test fires its orders at once, so most of them wait while the venue works and are then
placed in one batch (one transaction); the batch must decide each of them exactly as if they
had come one by one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from mesh.supervisor import Mesh
from tests.e2e.conftest import trader
from tests.support.trading import Feed, order_until, place, placed, portfolio, quoted

pytestmark = pytest.mark.timeout(180)

SYMBOL = "SPY"


@pytest.fixture
async def carol(trading_edge: httpx.AsyncClient, trading_mesh: Mesh
                ) -> AsyncIterator[httpx.AsyncClient]:
    client = await trader(trading_edge, trading_mesh)  # a tenant per test: a venue of its own
    yield client
    await client.aclose()


async def burst(*requests: asyncio.Future[httpx.Response] | object) -> list[httpx.Response]:
    """Send the placements at once; return the replies in the same order."""
    return list(await asyncio.gather(*requests))  # type: ignore[arg-type]


async def test_a_burst_reserves_cash_order_after_order_until_it_runs_out(
        carol: httpx.AsyncClient, feed: Feed) -> None:
    # Each order (10 at 100.00, 5 bps on a professional plan) holds back 1000.50: five fit.
    book = await portfolio(carol, "5002.50")
    await quoted(carol, feed, SYMBOL, "99.00", "101.00")

    replies = await burst(*(place(carol, book, SYMBOL, "BUY", "10", "LIMIT", limit="100.00")
                            for _ in range(12)))

    accepted = [r.json()["order"] for r in replies if r.status_code == 200]
    refused = [r.json()["error"] for r in replies if r.status_code != 200]
    assert len(accepted) == 5
    assert [e["code"] for e in refused] == ["INSUFFICIENT_FUNDS"] * 7
    assert {e["details"]["available"] for e in refused} == {"0.00"}
    got = (await carol.get(f"/api/v1/{book}")).json()["portfolio"]
    assert got["reservedCash"]["amount"] == "5002.50"
    # Orders of one batch are written together, with one update time: batches did form.
    assert len({order["updateTime"] for order in accepted}) < len(accepted)


async def test_a_burst_of_retries_with_one_client_order_id_places_one_order(
        carol: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(carol, "10000.00")
    await quoted(carol, feed, SYMBOL, "99.00", "101.00")

    # The first orders keep the venue busy, so the retries wait together for the next batch.
    others = [place(carol, book, SYMBOL, "BUY", "1", "LIMIT", limit="100.00") for _ in range(3)]
    replies = (await burst(*others, *(place(
        carol, book, SYMBOL, "BUY", "1", "LIMIT", limit="100.00", client_order_id="burst-retry")
        for _ in range(8))))[3:]

    assert [r.status_code for r in replies] == [200] * 8
    assert len({r.json()["order"]["name"] for r in replies}) == 1
    listed = (await carol.get("/api/v1/orders", params={
        "portfolio": book, "clientOrderId": "burst-retry"})).json()["orders"]
    assert len(listed) == 1


async def test_a_burst_of_buys_sweeps_resting_sells_of_portfolios_outside_it(
        carol: httpx.AsyncClient, feed: Feed) -> None:
    # Two sellers rest one share each, at 100.00 and 100.01. Both buyers' dry runs see only
    # the best one; the second buy must still reach the next seller, locked in a later batch.
    await quoted(carol, feed, SYMBOL, "99.00", "101.00")
    prices, holders = ("100.00", "100.01"), []
    for price in prices:  # every seller buys its share before any sell rests
        holders.append(seller := await portfolio(carol, "1000.00", name=f"Seller {price}"))
        await placed(carol, seller, SYMBOL, "BUY", "1", "MARKET", tif="IOC")  # at the ask
    sellers = [(seller, await placed(carol, seller, SYMBOL, "SELL", "1", "LIMIT", limit=price))
               for seller, price in zip(holders, prices, strict=True)]
    buyer = await portfolio(carol, "10000.00", name="Buyer")

    replies = await burst(*(place(carol, buyer, SYMBOL, "BUY", "1", "LIMIT", limit="100.05")
                            for _ in range(2)))

    assert [r.status_code for r in replies] == [200, 200]
    fills = sorted([(await order_until(carol, r.json()["order"]["name"], "ORDER_STATUS_FILLED"))
                    ["averageFillPrice"] for r in replies])
    assert fills == ["100.00", "100.01"]
    for (seller, sell), price in zip(sellers, prices, strict=True):
        done = await order_until(carol, sell["name"], "ORDER_STATUS_FILLED")
        assert done["averageFillPrice"] == price
        position = (await carol.get(f"/api/v1/{seller}/positions/{SYMBOL}")).json()
        assert Decimal(position["position"]["quantity"]) == 0
    position = (await carol.get(f"/api/v1/{buyer}/positions/{SYMBOL}")).json()["position"]
    assert position["quantity"] == "2"
    cash = (await carol.get(f"/api/v1/{buyer}")).json()["portfolio"]["cashBalance"]["amount"]
    fees = sum(Decimal(r.json()["order"]["fees"]["amount"]) for r in replies)
    assert Decimal(cash) == Decimal("10000.00") - Decimal("200.01") - fees


async def test_twin_replace_and_cancel_requests_act_once_and_get_one_answer(
        carol: httpx.AsyncClient, feed: Feed) -> None:
    book = await portfolio(carol, "10000.00")
    await quoted(carol, feed, SYMBOL, "99.00", "101.00")
    order = await placed(carol, book, SYMBOL, "BUY", "1", "LIMIT", limit="95.00")
    url = f"/api/v1/{order['name']}"

    replaced = await burst(*(carol.post(f"{url}:replace", json={
        "requestId": "twin-replace", "quantity": "3"}) for _ in range(4)))
    canceled = await burst(*(carol.post(f"{url}:cancel", json={"requestId": "twin-cancel"})
                             for _ in range(4)))

    assert [r.status_code for r in replaced + canceled] == [200] * 8, [r.text for r in canceled]
    assert len({r.text for r in replaced}) == 1 and len({r.text for r in canceled}) == 1
    assert canceled[0].json()["order"]["status"] == "ORDER_STATUS_CANCELED"
    events = (await carol.get(f"{url}/events")).json()["orderEvents"]
    kinds = [e["type"].removeprefix("ORDER_EVENT_TYPE_") for e in events]
    assert kinds.count("REPLACED") == 1 and kinds.count("CANCELED") == 1
    assert "CANCEL_REJECTED" not in kinds and "REPLACE_REJECTED" not in kinds
