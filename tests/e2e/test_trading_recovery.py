"""A crash of the trading service loses no acknowledged order, and its books come back."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import httpx
import pytest

from mesh.supervisor import Mesh
from tests.e2e.conftest import trader
from tests.support.trading import Feed, order_until, place, placed, portfolio, quoted

pytestmark = pytest.mark.timeout(180)


async def _place_many(api: httpx.AsyncClient, book: str, count: int) -> dict[str, int]:
    """Place `count` resting orders concurrently; return client id -> HTTP status."""
    async def one(index: int) -> tuple[str, int]:
        client_id = f"crash-{index}-{uuid.uuid4().hex[:8]}"
        try:
            reply = await place(api, book, "AAPL", "BUY", "1", "LIMIT", limit="90.00",
                                client_order_id=client_id)
            return client_id, reply.status_code
        except httpx.HTTPError:
            return client_id, 0
    return dict(await asyncio.gather(*(one(i) for i in range(count))))


async def test_a_crash_mid_flow_loses_no_acknowledged_order(
        trading_edge: httpx.AsyncClient, trading_mesh: Mesh, feed: Feed) -> None:
    api = await trader(trading_edge, trading_mesh)
    book = await portfolio(api)
    await quoted(api, feed, "AAPL", "99.00", "100.00")

    placing = asyncio.create_task(_place_many(api, book, 60))
    await asyncio.sleep(0.15)
    await trading_mesh.crash_and_restart("trading")
    statuses = await placing

    acknowledged = {cid for cid, status in statuses.items() if status == 200}
    assert acknowledged, "no order was acknowledged before the crash"
    stored = await _client_ids(api, book)
    assert acknowledged <= stored
    # Clients retry what failed with the same client ids: each order exists exactly once.
    for client_id in set(statuses) - acknowledged:
        retry = await place(api, book, "AAPL", "BUY", "1", "LIMIT", limit="90.00",
                            client_order_id=client_id)
        assert retry.status_code == 200, retry.text
    assert await _client_ids(api, book) == set(statuses)
    # The orders keep working after the restart: the market reaching 90 fills them all.
    await feed.quote("AAPL", "89.00", "90.00", size="1000")
    listed = (await api.get("/api/v1/orders", params={"portfolio": book,
                                                      "pageSize": 200})).json()["orders"]
    for order in listed:
        await order_until(api, order["name"], "ORDER_STATUS_FILLED")
    position = (await api.get(f"/api/v1/{book}/positions/AAPL")).json()["position"]
    assert len(listed) == len(statuses)
    assert Decimal(position["quantity"]) == len(listed)
    await api.aclose()


async def test_resting_orders_survive_a_restart_and_still_match(
        trading_edge: httpx.AsyncClient, trading_mesh: Mesh, feed: Feed) -> None:
    api = await trader(trading_edge, trading_mesh)
    book = await portfolio(api)
    await quoted(api, feed, "MSFT", "95.00", "105.00")
    resting = await placed(api, book, "MSFT", "BUY", "7", "LIMIT", limit="100.00")

    await trading_mesh.crash_and_restart("trading")
    await quoted(api, feed, "MSFT", "95.00", "100.00")

    filled = await order_until(api, resting["name"], "ORDER_STATUS_FILLED")
    assert filled["averageFillPrice"] == "100.00"
    await api.aclose()


async def _client_ids(api: httpx.AsyncClient, book: str) -> set[str]:
    reply = await api.get("/api/v1/orders", params={"portfolio": book, "pageSize": 500})
    assert reply.status_code == 200, reply.text
    return {o["clientOrderId"] for o in reply.json()["orders"]}
