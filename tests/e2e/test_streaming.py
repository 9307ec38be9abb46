"""Prices stream continuously: as SSE to HTTP clients, natively to gRPC and gRPC-Web clients."""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections import defaultdict

import grpc
import httpx
from tradesage.market.v1 import market_service_pb2 as market_api
from tradesage.market.v1 import market_service_pb2_grpc as market_grpc

from mesh.supervisor import Mesh
from tests.support.accounts import User


async def read_sse_quotes(edge: httpx.AsyncClient, symbols: str, count: int) -> list[dict]:
    quotes: list[dict] = []
    async with edge.stream("GET", "/api/v1/market/stream", params={"symbols": symbols}) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        async for line in reply.aiter_lines():
            if line.startswith("data: "):
                event = json.loads(line.removeprefix("data: "))
                if "quote" in event:
                    quotes.append(event["quote"])
                if len(quotes) >= count:
                    break
    return quotes


async def test_sse_stream_delivers_ticks_continuously_in_order(
        api: httpx.AsyncClient) -> None:
    started = time.monotonic()
    quotes = await asyncio.wait_for(read_sse_quotes(api, "AAPL,MSFT", 40), timeout=20)
    assert {q["symbol"] for q in quotes} == {"AAPL", "MSFT"}
    by_symbol: dict[str, list[int]] = defaultdict(list)
    for quote in quotes:
        by_symbol[quote["symbol"]].append(int(quote["sequence"]))
    for sequences in by_symbol.values():
        assert sequences == sorted(sequences)
        assert len(set(sequences)) == len(sequences)
    # 40 quotes of 2 symbols ticking every 50 ms: about a second, not a burst then silence.
    assert time.monotonic() - started < 10


async def test_sse_stream_starts_with_a_snapshot(api: httpx.AsyncClient) -> None:
    quotes = await asyncio.wait_for(read_sse_quotes(api, "SPY", 1), timeout=10)
    assert quotes[0]["symbol"] == "SPY"


async def test_grpc_client_gets_the_same_stream_natively(mesh: Mesh, user: User) -> None:
    address = mesh.edge_url.removeprefix("http://")
    async with grpc.aio.insecure_channel(address) as channel:
        stream = market_grpc.MarketDataServiceStub(channel).Subscribe(
            market_api.SubscribeRequest(symbols=["NVDA", "TSLA"]), timeout=20,
            metadata=bearer(user))
        received = []
        async for message in stream:
            if message.HasField("quote"):
                received.append(message.quote)
            if len(received) >= 10:
                stream.cancel()
                break
    assert {q.symbol for q in received} == {"NVDA", "TSLA"}
    assert all(q.bid and q.ask for q in received)


async def test_grpc_stream_error_carries_rich_status(mesh: Mesh, user: User) -> None:
    address = mesh.edge_url.removeprefix("http://")
    async with grpc.aio.insecure_channel(address) as channel:
        stream = market_grpc.MarketDataServiceStub(channel).Subscribe(
            market_api.SubscribeRequest(symbols=["NOPE"]), timeout=10, metadata=bearer(user))
        try:
            async for _ in stream:
                raise AssertionError("an unknown symbol must not stream")
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND
            keys = {key for key, _ in error.trailing_metadata()}
            assert "grpc-status-details-bin" in keys


async def test_grpc_client_without_token_is_unauthenticated(mesh: Mesh) -> None:
    address = mesh.edge_url.removeprefix("http://")
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            await market_grpc.MarketDataServiceStub(channel).GetQuote(
                market_api.GetQuoteRequest(symbol="AAPL"), timeout=10)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        else:
            raise AssertionError("a call without a token must be refused")


def bearer(user: User) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {user.access_token}"),)


async def test_grpc_web_unary_call(api: httpx.AsyncClient) -> None:
    message = market_api.GetQuoteRequest(symbol="AAPL").SerializeToString()
    frame = b"\x00" + struct.pack(">I", len(message)) + message
    reply = await api.post(
        "/tradesage.market.v1.MarketDataService/GetQuote", content=frame,
        headers={"content-type": "application/grpc-web+proto", "x-grpc-web": "1"})
    assert reply.status_code == 200
    body = reply.content
    assert body[0] == 0  # a data frame first, then the trailer frame
    length = struct.unpack(">I", body[1:5])[0]
    quote = market_api.GetQuoteResponse.FromString(body[5:5 + length]).quote
    assert quote.symbol == "AAPL"
    assert b"grpc-status:0" in body[5 + length:].replace(b" ", b"")
