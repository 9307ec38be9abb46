"""Helpers for trading tests: a controllable quote feed and REST shortcuts."""

from __future__ import annotations

import asyncio
import time
import uuid
from decimal import Decimal

import httpx
from redis.asyncio import Redis

from services.market.domain.quotes import Quote
from services.market.store import QuoteBook


class Feed:
    """Plays the exchange: publishes quotes through the market service's own quote book."""

    def __init__(self, redis_url: str) -> None:
        self._redis = Redis.from_url(redis_url, decode_responses=True)
        self._book = QuoteBook(self._redis)
        self._sequence: dict[str, int] = {}

    async def quote(self, symbol: str, bid: str, ask: str, size: str = "1000",
                    last: str | None = None, bid_size: str | None = None) -> None:
        """Publish a new quote (a new sequence, so fresh simulated liquidity)."""
        self._sequence[symbol] = self._sequence.get(symbol, 1000) + 1
        mid = (Decimal(bid) + Decimal(ask)) / 2
        await self._book.publish([Quote(
            symbol=symbol, bid=bid, ask=ask, bid_size=bid_size or size, ask_size=size,
            last=last or str(mid.quantize(Decimal("0.01"))), time_ms=int(time.time() * 1000),
            sequence=self._sequence[symbol])])

    async def close(self) -> None:
        """Close the Redis connection."""
        await self._redis.aclose()


async def quoted(api: httpx.AsyncClient, feed: Feed, symbol: str, bid: str, ask: str,
                 size: str = "1000", last: str | None = None) -> None:
    """Publish a quote and wait until the trading service prices with it."""
    await feed.quote(symbol, bid, ask, size, last)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        reply = await api.post("/api/v1/orders:preview", json={
            "symbol": symbol, "side": "ORDER_SIDE_BUY", "quantity": "1",
            "orderType": "ORDER_TYPE_MARKET"})
        if reply.status_code == 200 and Decimal(reply.json()["estimatedPrice"]) == Decimal(ask):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"trading never saw the {symbol} quote {bid}/{ask}")


async def portfolio(api: httpx.AsyncClient, cash: str = "100000.00",
                    name: str = "Main") -> str:
    """Create a portfolio funded with `cash`; return its resource name."""
    reply = await api.post("/api/v1/portfolios", json={
        "displayName": name, "baseCurrencyCode": "USD"})
    assert reply.status_code == 200, reply.text
    name = reply.json()["portfolio"]["name"]
    if Decimal(cash):
        deposit = await api.post(f"/api/v1/{name}:deposit", json={
            "amount": {"currencyCode": "USD", "amount": cash},
            "requestId": str(uuid.uuid4())})
        assert deposit.status_code == 200, deposit.text
    return name


async def place(api: httpx.AsyncClient, portfolio_name: str, symbol: str, side: str,
                quantity: str, order_type: str = "LIMIT", limit: str = "", stop: str = "",
                tif: str = "GTC", client_order_id: str | None = None) -> httpx.Response:
    """Place an order through the edge; return the raw reply."""
    body = {"portfolio": portfolio_name, "clientOrderId": client_order_id or uuid.uuid4().hex,
            "symbol": symbol, "side": f"ORDER_SIDE_{side}", "orderType": f"ORDER_TYPE_{order_type}",
            "timeInForce": f"TIME_IN_FORCE_{tif}", "quantity": quantity}
    if limit:
        body["limitPrice"] = limit
    if stop:
        body["stopPrice"] = stop
    return await api.post("/api/v1/orders", json=body)


async def placed(api: httpx.AsyncClient, *args: str, **kwargs: str) -> dict:
    """Place an order that must be accepted; return the order JSON."""
    reply = await place(api, *args, **kwargs)
    assert reply.status_code == 200, reply.text
    return reply.json()["order"]


async def order_until(api: httpx.AsyncClient, name: str, status: str,
                      timeout: float = 5.0) -> dict:
    """Poll an order until it reaches `status` (e.g. "ORDER_STATUS_FILLED")."""
    deadline = time.monotonic() + timeout
    order: dict = {}
    while time.monotonic() < deadline:
        reply = await api.get(f"/api/v1/{name}")
        assert reply.status_code == 200, reply.text
        order = reply.json()["order"]
        if order["status"] == status:
            return order
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} stayed {order.get('status')}, expected {status}")
