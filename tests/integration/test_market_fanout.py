"""Quote fan-out across market replicas through Redis, subscription updates across replicas,
and conflation of a slow subscriber next to a fast one.

The mesh's market app runs the simulated feed (replica A). Replica B is a second market app
process started here with the feed off, on a free loopback port, against the mesh's PostgreSQL
and Valkey; tests call it directly, with the identity metadata the sidecar would forward.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tradesage.market.v1 import market_service_pb2 as market_api
from tradesage.market.v1 import market_service_pb2_grpc as market_grpc

from mesh.ports import free_port
from mesh.processes import ChildProcess, child_environment
from mesh.supervisor import Mesh
from services.runtime import identity
from tests.support.accounts import User, signed_in_user

# A client that reads slowly: a tiny HTTP/2 window, never grown, so the server feels it at once.
SLOW_CLIENT = [("grpc.http2.lookahead_bytes", 1024), ("grpc.http2.bdp_probe", 0)]


async def start_market_replica(mesh: Mesh, name: str, **env: str) -> ChildProcess:
    """Start one more market app process against the mesh's stores; return it once serving."""
    address = f"127.0.0.1:{free_port()}"
    child = ChildProcess(name, [sys.executable, "-m", "services.market"],
                         mesh.data_dir / "logs" / f"{name}.log", child_environment({
                             "TRADESAGE_LISTEN": address,
                             "TRADESAGE_DATA_DIR": str(mesh.data_dir),
                             "DATABASE_URL": mesh.database_url,
                             "REDIS_URL": mesh.redis_url,
                             "TRADESAGE_MARKET_FEED": "off",  # serves only: no feed,
                             "TRADESAGE_MARKET_RECORD": "off",  # no history recorder
                             "TRADESAGE_MARKET_HEARTBEAT_SECONDS": "1",
                             **env}))
    child.address = address  # type: ignore[attr-defined]
    await child.start()
    deadline = time.monotonic() + 60
    async with grpc.aio.insecure_channel(address) as channel:
        while True:
            if not child.running:
                raise RuntimeError(f"{name} exited during start-up:\n{child.log_tail()}")
            try:
                reply = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return child
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline:
                await child.stop(timeout=5)
                raise TimeoutError(f"{name} not serving:\n{child.log_tail()}")
            await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def replica_b(mesh: Mesh) -> AsyncIterator[str]:
    """Return the loopback address of a second market replica that ingests nothing itself."""
    child = await start_market_replica(mesh, "market-replica-b")
    yield child.address  # type: ignore[attr-defined]
    await child.stop(timeout=15)


def replica_a(mesh: Mesh) -> str:
    assert mesh.plan is not None
    return f"127.0.0.1:{mesh.plan.of('market').app}"


def as_user(user: User) -> tuple[tuple[str, str], ...]:
    """Return the identity metadata the inbound sidecar forwards for a signed-in user."""
    return ((identity.USER_ID_KEY, user.user_id), (identity.TENANT_ID_KEY, user.tenant_id),
            (identity.SESSION_ID_KEY, user.session_id))


class Stream:
    """A Subscribe call read in the background: every message with the time it arrived."""

    def __init__(self, address: str, symbols: list[str], user: User | None = None, *,
                 batch: bool = False, options: list[tuple[str, int]] | None = None) -> None:
        self.channel = grpc.aio.insecure_channel(address, options=options or [])
        self.call = market_grpc.MarketDataServiceStub(self.channel).Subscribe(
            market_api.SubscribeRequest(symbols=symbols, batch_quotes=batch), timeout=60,
            metadata=as_user(user) if user else None)
        self.messages: list[tuple[float, market_api.SubscribeResponse]] = []
        self.paused = asyncio.Event()
        self.paused.set()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.call:
            self.messages.append((time.time(), message))
            await self.paused.wait()

    async def first(self, timeout: float = 10.0) -> market_api.SubscribeResponse:
        await self.until(lambda: bool(self.messages), timeout)
        return self.messages[0][1]

    async def until(self, condition: object, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            if self._reader.done():
                self._reader.result()
                raise AssertionError("the stream ended")
            assert time.monotonic() < deadline, "timed out waiting on the stream"
            await asyncio.sleep(0.02)

    def quotes(self, since: float = 0.0) -> list[tuple[float, market_api.SubscribeResponse]]:
        return [(at, m) for at, m in self.messages if at >= since and m.HasField("quote")]

    async def close(self) -> None:
        self.call.cancel()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self.channel.close()


async def test_subscriber_on_replica_b_gets_ticks_ingested_on_replica_a(
        mesh: Mesh, replica_b: str, user: User) -> None:
    stream = Stream(replica_b, ["AAPL", "BTC-USD"], user)
    try:
        await stream.until(lambda: len(stream.quotes()) >= 30, timeout=20)
    finally:
        await stream.close()
    by_symbol: dict[str, list[int]] = defaultdict(list)
    for _, message in stream.quotes():
        by_symbol[message.quote.symbol].append(message.quote.sequence)
        assert message.subscription_id == stream.messages[0][1].subscription_id
    assert set(by_symbol) == {"AAPL", "BTC-USD"}
    for sequences in by_symbol.values():
        assert sequences == sorted(set(sequences))  # in order, no repeats
    # Live ticks, not only the snapshot: replica B has no feed of its own.
    assert all(len(sequences) > 5 for sequences in by_symbol.values())


async def test_batched_stream_on_replica_b_carries_several_quotes_per_message(
        replica_b: str, user: User) -> None:
    stream = Stream(replica_b, ["AAPL", "MSFT", "NVDA", "SPY"], user, batch=True)
    try:
        await stream.until(lambda: len(stream.messages) >= 10, timeout=20)
    finally:
        await stream.close()
    messages = [m for _, m in stream.messages if m.quotes]
    assert messages and not any(m.HasField("quote") for _, m in stream.messages)
    # The feed ticks every symbol at once, so a batch usually holds all four.
    assert max(len(m.quotes) for m in messages) >= 2
    last: dict[str, int] = {}
    for message in messages:
        for quote in message.quotes:
            assert quote.sequence > last.get(quote.symbol, 0)
            last[quote.symbol] = quote.sequence


async def test_update_landing_on_another_replica_is_routed_to_the_stream(
        mesh: Mesh, replica_b: str, user: User, api: httpx.AsyncClient) -> None:
    """The stream is on replica B; the REST update goes through the edge to replica A."""
    stream = Stream(replica_b, ["AAPL"], user)
    try:
        subscription_id = (await stream.first()).subscription_id
        added = await api.patch(f"/api/v1/market/subscriptions/{subscription_id}",
                                json={"addSymbols": ["TSLA", "SPY"]})
        assert added.status_code == 200, added.text
        assert added.json() == {"subscriptionId": subscription_id,
                                "symbols": ["AAPL", "SPY", "TSLA"]}
        await stream.until(lambda: {"TSLA", "SPY"} <= {
            m.quote.symbol for _, m in stream.quotes()}, timeout=10)

        removed = await api.patch(f"/api/v1/market/subscriptions/{subscription_id}",
                                  json={"removeSymbols": ["AAPL", "SPY"]})
        assert removed.status_code == 200, removed.text
        assert removed.json()["symbols"] == ["TSLA"]
        after = time.time()
        await asyncio.sleep(1.0)
        late = [m.quote for _, m in stream.quotes(since=after)
                if m.quote.symbol in {"AAPL", "SPY"}]
        # Only quotes already on their way when the update applied; none ticked after it.
        assert all(q.time.ToMilliseconds() <= after * 1000 for q in late), late
        assert any(m.quote.symbol == "TSLA" for _, m in stream.quotes(since=after))
    finally:
        await stream.close()


async def test_forwarded_update_keeps_owner_check_and_plan_limit(
        mesh: Mesh, replica_b: str, user: User, edge: httpx.AsyncClient) -> None:
    stream = Stream(replica_b, ["AAPL"], user)
    try:
        subscription_id = (await stream.first()).subscription_id
        stranger = await signed_in_user(edge, mesh.database_url)
        async with grpc.aio.insecure_channel(replica_a(mesh)) as channel:
            stub = market_grpc.MarketDataServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.UpdateSubscription(market_api.UpdateSubscriptionRequest(
                    subscription_id=subscription_id, add_symbols=["MSFT"]),
                    metadata=as_user(stranger), timeout=10)
            assert refused.value.code() == grpc.StatusCode.NOT_FOUND
            details = dict(refused.value.trailing_metadata())["x-tradesage-error"]
            assert "SUBSCRIPTION_NOT_FOUND" in details and subscription_id in details

            # The professional plan allows 100 symbols; the catalogue has fewer, so any add
            # fits here. The limit itself is checked end to end in test_market_stream.py.
            reply = await stub.UpdateSubscription(market_api.UpdateSubscriptionRequest(
                subscription_id=subscription_id, add_symbols=["MSFT"]),
                metadata=as_user(user), timeout=10)
            assert list(reply.symbols) == ["AAPL", "MSFT"]
    finally:
        await stream.close()


async def test_update_of_an_ended_stream_is_not_found_on_every_replica(
        mesh: Mesh, replica_b: str, user: User) -> None:
    stream = Stream(replica_b, ["AAPL"], user)
    subscription_id = (await stream.first()).subscription_id
    await stream.close()
    await asyncio.sleep(0.3)  # the replica sees the cancellation and unsubscribes
    for address in (replica_a(mesh), replica_b):
        async with grpc.aio.insecure_channel(address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as missing:
                await market_grpc.MarketDataServiceStub(channel).UpdateSubscription(
                    market_api.UpdateSubscriptionRequest(
                        subscription_id=subscription_id, add_symbols=["MSFT"]),
                    metadata=as_user(user), timeout=10)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_slow_subscriber_is_conflated_while_a_fast_one_keeps_every_tick(
        mesh: Mesh, user: User) -> None:
    symbols = ["AAPL", "MSFT"]
    fast = Stream(replica_a(mesh), symbols, user)
    slow = Stream(replica_a(mesh), symbols, user, options=SLOW_CLIENT)
    try:
        await slow.first()
        slow.paused.clear()  # stop reading: its window fills, then its queue, then conflation
        stalled_at = time.time()
        await asyncio.sleep(5.0)
        produced = len(fast.quotes(since=stalled_at))
        resumed_at = time.time()
        slow.paused.set()
        # Read until the slow stream has caught up with quotes made after it resumed.
        await slow.until(lambda: any(m.quote.time.ToMilliseconds() > resumed_at * 1000
                                     for _, m in slow.quotes(since=resumed_at)), timeout=10)
    finally:
        await fast.close()
        await slow.close()

    # The fast one: every tick, per symbol contiguous sequence numbers, never conflated.
    by_symbol: dict[str, list[int]] = defaultdict(list)
    for _, message in fast.quotes():
        by_symbol[message.quote.symbol].append(message.quote.sequence)
        assert not message.conflated
    for sequences in by_symbol.values():
        assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
    assert produced >= 100  # two symbols at 20 ticks/s for 5 s

    # The slow one: told it was conflated, and handed a bounded backlog rather than all of it.
    backlog = [m for at, m in slow.messages if at >= resumed_at and m.HasField("quote")
               and m.quote.time.ToMilliseconds() <= resumed_at * 1000]
    assert any(m.conflated for m in backlog)
    assert len(backlog) < produced * 0.6, (len(backlog), produced)
    for symbol in symbols:
        sequences = [m.quote.sequence for m in backlog if m.quote.symbol == symbol]
        assert sequences == sorted(sequences)
