"""Live quote streams through the edge: changing a stream's symbols without reconnecting,
batched streams, and the errors of UpdateSubscription in the one REST error shape."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime

import grpc
import httpx
import pytest
from tradesage.market.v1 import market_service_pb2 as market_api
from tradesage.market.v1 import market_service_pb2_grpc as market_grpc

from mesh.supervisor import Mesh
from tests.e2e.test_streaming import bearer
from tests.e2e.test_tenants import operator
from tests.support.accounts import User, signed_in_user


class SseStream:
    """GET /api/v1/market/stream read in the background: each event with its arrival time."""

    def __init__(self, client: httpx.AsyncClient, **params: object) -> None:
        self.events: list[tuple[float, dict]] = []
        self._task = asyncio.create_task(self._read(client, params))

    async def _read(self, client: httpx.AsyncClient, params: dict) -> None:
        async with client.stream("GET", "/api/v1/market/stream", params=params,
                                 timeout=httpx.Timeout(10.0, read=30.0)) as reply:
            assert reply.status_code == 200, await reply.aread()
            assert reply.headers["content-type"].startswith("text/event-stream")
            async for line in reply.aiter_lines():
                if line.startswith("data: "):
                    self.events.append((time.time(), json.loads(line.removeprefix("data: "))))

    async def until(self, condition: object, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            if self._task.done():
                self._task.result()
                raise AssertionError("the stream ended")
            assert time.monotonic() < deadline, "timed out waiting on the stream"
            await asyncio.sleep(0.02)

    async def subscription_id(self) -> str:
        await self.until(lambda: bool(self.events))
        return self.events[0][1]["subscriptionId"]

    def quotes(self, since: float = 0.0) -> list[dict]:
        found = []
        for at, event in self.events:
            if at >= since:
                found += [event["quote"]] if "quote" in event else event.get("quotes", [])
        return found

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def sse(client: httpx.AsyncClient, **params: object) -> AsyncIterator[SseStream]:
    stream = SseStream(client, **params)
    try:
        yield stream
    finally:
        await stream.close()


def symbols_of(quotes: list[dict]) -> set[str]:
    return {q["symbol"] for q in quotes}


def assert_in_order_per_symbol(quotes: list[dict]) -> None:
    by_symbol: dict[str, list[int]] = defaultdict(list)
    for quote in quotes:
        by_symbol[quote["symbol"]].append(int(quote["sequence"]))
    for sequences in by_symbol.values():
        assert sequences == sorted(set(sequences)), sequences


async def test_sse_stream_takes_added_symbols_and_drops_removed_ones(
        api: httpx.AsyncClient) -> None:
    async with sse(api, symbols=["AAPL"]) as stream:
        subscription_id = await stream.subscription_id()
        await stream.until(lambda: len(stream.quotes()) >= 3)
        assert symbols_of(stream.quotes()) == {"AAPL"}

        added = await api.patch(f"/api/v1/market/subscriptions/{subscription_id}",
                                json={"addSymbols": ["msft", "NVDA"]})
        assert added.status_code == 200, added.text
        assert added.json() == {"subscriptionId": subscription_id,
                                "symbols": ["AAPL", "MSFT", "NVDA"]}
        await stream.until(lambda: {"MSFT", "NVDA"} <= symbols_of(stream.quotes()))

        removed = await api.patch(f"/api/v1/market/subscriptions/{subscription_id}",
                                  json={"removeSymbols": ["AAPL"]})
        assert removed.json()["symbols"] == ["MSFT", "NVDA"]
        after = time.time()
        await asyncio.sleep(1.0)
        late = [q for q in stream.quotes(since=after) if q["symbol"] == "AAPL"]
        # At most quotes already on their way; none that ticked after the update.
        assert all(_epoch(q["time"]) <= after for q in late), late
        assert {"MSFT", "NVDA"} <= symbols_of(stream.quotes(since=after))
        assert all(event["subscriptionId"] == subscription_id for _, event in stream.events)
        assert_in_order_per_symbol(stream.quotes())


def _epoch(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


async def test_batched_sse_stream_carries_quote_lists_in_order(api: httpx.AsyncClient) -> None:
    async with sse(api, symbols=["AAPL", "MSFT", "TSLA"], batchQuotes="true") as stream:
        await stream.until(lambda: len(stream.quotes()) >= 30)
    batches = [event for _, event in stream.events if "quotes" in event]
    assert batches and not any("quote" in event for _, event in stream.events)
    assert max(len(event["quotes"]) for event in batches) >= 2
    assert symbols_of(stream.quotes()) == {"AAPL", "MSFT", "TSLA"}
    assert_in_order_per_symbol(stream.quotes())


async def test_grpc_client_updates_its_stream_through_the_edge(mesh: Mesh, user: User) -> None:
    address = mesh.edge_url.removeprefix("http://")
    async with grpc.aio.insecure_channel(address) as channel:
        stub = market_grpc.MarketDataServiceStub(channel)
        stream = stub.Subscribe(market_api.SubscribeRequest(symbols=["SPY"]), timeout=30,
                                metadata=bearer(user))
        first = await stream.read()
        reply = await stub.UpdateSubscription(market_api.UpdateSubscriptionRequest(
            subscription_id=first.subscription_id, add_symbols=["BTC-USD"],
            remove_symbols=["SPY"]), metadata=bearer(user), timeout=10)
        assert list(reply.symbols) == ["BTC-USD"]
        seen = []
        while len(seen) < 5:
            message = await stream.read()
            if message.HasField("quote"):
                seen.append(message.quote.symbol)
        stream.cancel()
    # A SPY quote may have been on its way; after it, only the new symbol.
    assert seen[-3:] == ["BTC-USD"] * 3


async def test_update_of_unknown_subscription_is_not_found(api: httpx.AsyncClient) -> None:
    reply = await api.patch("/api/v1/market/subscriptions/0123456789abcdef",
                            json={"addSymbols": ["AAPL"]})
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "SUBSCRIPTION_NOT_FOUND"
    assert reply.json()["error"]["details"] == {"subscriptionId": "0123456789abcdef"}


async def test_another_users_subscription_is_not_found(
        api: httpx.AsyncClient, edge: httpx.AsyncClient, mesh: Mesh) -> None:
    stranger = await signed_in_user(edge, mesh.database_url)
    async with sse(api, symbols=["AAPL"]) as stream:
        subscription_id = await stream.subscription_id()
        reply = await edge.patch(f"/api/v1/market/subscriptions/{subscription_id}",
                                 headers=stranger.headers, json={"addSymbols": ["MSFT"]})
        assert reply.status_code == 404
        assert reply.json()["error"] == {
            "code": "SUBSCRIPTION_NOT_FOUND", "message": f"no live subscription {subscription_id}",
            "details": {"subscriptionId": subscription_id}}


async def test_update_names_unknown_symbols_and_needs_some(api: httpx.AsyncClient) -> None:
    async with sse(api, symbols=["AAPL"]) as stream:
        path = f"/api/v1/market/subscriptions/{await stream.subscription_id()}"
        unknown = await api.patch(path, json={"addSymbols": ["MSFT", "NOPE"]})
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "SYMBOL_NOT_FOUND"
        assert unknown.json()["error"]["details"] == {"symbols": "NOPE"}
        empty = await api.patch(path, json={})
        assert empty.status_code == 400
        assert empty.json()["error"]["details"]["fieldViolations"][0]["field"] == "add_symbols"


async def test_update_needs_a_signed_in_caller(edge: httpx.AsyncClient) -> None:
    reply = await edge.patch("/api/v1/market/subscriptions/0123456789abcdef",
                             json={"addSymbols": ["AAPL"]})
    assert reply.status_code == 401


async def test_plan_symbol_limit_holds_after_adds(edge: httpx.AsyncClient, mesh: Mesh) -> None:
    admin = await operator(edge, mesh)
    user = await signed_in_user(edge, mesh.database_url)
    limited = await edge.put(f"/api/v1/tenants/{user.tenant_id}", headers=admin.headers,
                             params={"updateMask": "limits.max_subscription_symbols"},
                             json={"name": f"tenants/{user.tenant_id}",
                                   "limits": {"maxSubscriptionSymbols": 2}})
    assert limited.status_code == 200, limited.text
    async with httpx.AsyncClient(base_url=mesh.edge_url, headers=user.headers,
                                 timeout=10) as client, sse(client, symbols=["AAPL"]) as stream:
        path = f"/api/v1/market/subscriptions/{await stream.subscription_id()}"
        assert (await client.patch(path, json={"addSymbols": ["MSFT"]})).status_code == 200
        over = await client.patch(path, json={"addSymbols": ["TSLA"]})
        assert over.status_code == 429
        assert over.json()["error"]["code"] == "PLAN_LIMIT_EXCEEDED"
        assert over.json()["error"]["details"] == {
            "limit": "max_subscription_symbols", "limitValue": "2", "inUse": "2"}
        swapped = await client.patch(path, json={"addSymbols": ["TSLA"],
                                                 "removeSymbols": ["MSFT"]})
        assert swapped.status_code == 200, swapped.text
        assert swapped.json()["symbols"] == ["AAPL", "TSLA"]


@pytest.mark.parametrize("symbols", [["AAPL", "MSFT"]])
async def test_grpc_stream_through_the_edge_is_in_order_per_symbol(
        mesh: Mesh, user: User, symbols: list[str]) -> None:
    address = mesh.edge_url.removeprefix("http://")
    quotes = []
    async with grpc.aio.insecure_channel(address) as channel:
        stream = market_grpc.MarketDataServiceStub(channel).Subscribe(
            market_api.SubscribeRequest(symbols=symbols), timeout=30, metadata=bearer(user))
        async for message in stream:
            if message.HasField("quote"):
                quotes.append(message.quote)
            if len(quotes) >= 40:
                stream.cancel()
                break
    for symbol in symbols:
        sequences = [q.sequence for q in quotes if q.symbol == symbol]
        # The simulated feed ticks every 50 ms and this client keeps up: nothing skipped.
        assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
