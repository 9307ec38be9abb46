"""Quote fan-out: deliveries/s and tick-to-client latency for 1,000 gRPC subscribers on one
market replica, and SSE clients through the edge.

The mesh runs with its feed off; this script is the feed. Every tick it publishes a quote of
every instrument through `QuoteBook.publish` (SET + PUBLISH on Valkey, as the simulated feed
does), stamped with the wall-clock time of publishing, on a fixed schedule (250 ms, the simulated
feed's default). The catalogue is grown to 64 instruments (the 8 seeded ones plus synthetic
ones) and a market replica is started against the mesh's stores after that, so it knows them
all; each of the N subscribers watches 32 of them. The subscribers run in separate processes
(the load generator shares the 2 cores with the service; keeping it out of the service's event
loop matters), as N streams over a few HTTP/2 connections straight to the replica on loopback.

A quote counts as a delivery when a subscriber receives it inside the measured window; its
latency is arrival time minus publish time (for a message carrying several quotes, the oldest
quote's latency counts for all of them: an upper bound). Memory per subscriber is the
serving process's RSS growth from idle to every stream having its first message, divided by N.

Phases:
  floor     a bare grpc.aio server streaming the same pre-encoded messages on the same ticks,
            without Redis, interceptors or the hub: what grpc.aio and this machine allow at all
  batched   the replica, streams with `batch_quotes` (the quotes of a tick in one message)
  single    the replica, one message per quote (the default style), at a lighter load: its
            cost per delivery, and what a burst of per-quote messages does to latency
  sse       SSE clients through the edge (JWT check, transcoding, two Envoys) to the mesh's
            own market app, on the seeded instruments

Usage: PYTHONPATH=. python bench/bench_market.py [--subscribers 1000] [--symbols 32]
       [--instruments 64] [--tick-ms 250] [--seconds 10] [--phases floor,batched,single,sse]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psutil

from services.market.domain.quotes import Instrument

ROOT = Path(__file__).resolve().parent.parent
WARMUP_SECONDS = 3.0


# ---------------------------------------------------------------------------------------------
# The subscriber process: `bench_market.py subscribers ...`


@dataclass
class Tally:
    """What the streams of one process received inside the window."""

    start: float = float("inf")
    end: float = float("inf")
    deliveries: int = 0
    messages: int = 0
    conflated_messages: int = 0
    ready: int = 0

    def __post_init__(self) -> None:
        # Latency in ms -> number of quotes seen with it (a histogram: cheap, exact quantiles).
        self.latency: dict[int, int] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def record(self, now: float, quotes: int, oldest_ms: float, conflated: bool) -> None:
        if self.start <= now <= self.end:
            self.deliveries += quotes
            self.messages += 1
            self.conflated_messages += conflated
            bucket = int(now * 1000 - oldest_ms)
            self.latency[bucket] = self.latency.get(bucket, 0) + quotes



def quantile(histogram: dict[int, int], q: float) -> float:
    """Return the `q` quantile of a histogram of latencies in whole ms."""
    total, seen = sum(histogram.values()), 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= q * total:
            return float(bucket)
    return float("nan")


def symbol_sets(symbols: list[str], n: int, k: int) -> list[list[str]]:
    """Return the symbols of each of `n` subscribers: `k` consecutive ones, rotating."""
    return [[symbols[(i + j) % len(symbols)] for j in range(k)] for i in range(n)]


async def grpc_subscribers(args: argparse.Namespace, tally: Tally) -> None:
    import grpc
    from tradesage.market.v1 import market_service_pb2 as api
    from tradesage.market.v1 import market_service_pb2_grpc as api_grpc

    options = [("grpc.use_local_subchannel_pool", 1)]  # a connection per channel
    channels = [grpc.aio.insecure_channel(args.target, options=options)
                for _ in range(args.connections)]
    stubs = [api_grpc.MarketDataServiceStub(channel) for channel in channels]
    batch = args.style == "batched"

    async def one(index: int, symbols: list[str]) -> None:
        call = stubs[index % len(stubs)].Subscribe(
            api.SubscribeRequest(symbols=symbols, batch_quotes=batch))
        first = True
        async for message in call:
            now = time.time()
            if first:
                first = False
                tally.ready += 1
                continue
            quotes = message.quotes if batch else ([message.quote] if message.quote.symbol
                                                   else [])
            if quotes:
                stamp = quotes[0].time
                tally.record(now, len(quotes), stamp.seconds * 1000 + stamp.nanos / 1e6,
                             message.conflated)

    sets = symbol_sets(args.symbol_list.split(","), args.n, args.k)[args.part::args.parts]
    for index, symbols in enumerate(sets):
        tally.tasks.append(asyncio.create_task(one(index, symbols)))
        if index % 100 == 99:
            await asyncio.sleep(0.05)  # connect in waves, like clients arriving


async def sse_subscribers(args: argparse.Namespace, tally: Tally) -> None:
    from datetime import datetime

    import aiohttp

    session = aiohttp.ClientSession(
        args.target, headers={"authorization": f"Bearer {args.token}"},
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=None))
    batch = args.style == "batched"

    def epoch_ms(rfc3339: str) -> float:
        return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000

    async def one(symbols: list[str]) -> None:
        params = [("symbols", s) for s in symbols] + ([("batchQuotes", "true")] if batch else [])
        async with session.get("/api/v1/market/stream", params=params) as reply:
            assert reply.status == 200, await reply.text()
            first = True
            async for line in reply.content:
                if not line.startswith(b"data: "):
                    continue
                now = time.time()
                if first:
                    first = False
                    tally.ready += 1
                    continue
                event = json.loads(line[6:])
                quotes = event.get("quotes") or ([event["quote"]] if "quote" in event else [])
                if quotes:
                    tally.record(now, len(quotes), epoch_ms(quotes[0]["time"]),
                                 bool(event.get("conflated")))

    sets = symbol_sets(args.symbol_list.split(","), args.n, args.k)[args.part::args.parts]
    for index, symbols in enumerate(sets):
        tally.tasks.append(asyncio.create_task(one(symbols)))
        if index % 50 == 49:
            await asyncio.sleep(0.05)


async def run_subscribers(args: argparse.Namespace) -> None:
    tally = Tally()
    await (sse_subscribers if args.kind == "sse" else grpc_subscribers)(args, tally)
    mine = len(range(args.part, args.n, args.parts))
    deadline = time.monotonic() + 60
    while tally.ready < mine:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {tally.ready} of {mine} streams started")
        await asyncio.sleep(0.05)
    print("ready", flush=True)
    window = json.loads(await asyncio.to_thread(sys.stdin.readline))
    tally.start, tally.end = window["start"], window["end"]
    cpu = None
    while time.time() < tally.end + 0.5:
        if cpu is None and time.time() >= tally.start:
            cpu = time.process_time()
        await asyncio.sleep(0.05)
    cpu_seconds = time.process_time() - (cpu or 0.0)
    print(json.dumps({
        "deliveries": tally.deliveries, "messages": tally.messages,
        "conflated_messages": tally.conflated_messages, "latency": tally.latency,
        "client_cpu": round(cpu_seconds / (tally.end - tally.start + 0.5), 2)}), flush=True)
    os._exit(0)  # skip tearing down a thousand streams one by one


# ---------------------------------------------------------------------------------------------
# The main process: the mesh, the feed, the measurements


@dataclass
class Phase:
    """One measured load: who subscribes, how, and through which door."""

    name: str
    kind: str  # grpc | sse
    style: str  # batched | single
    subscribers: int
    k: int  # symbols per subscriber
    tick_ms: float


def market_process(pids: list[int]) -> psutil.Process:
    for pid in pids:
        with_cmd = psutil.Process(pid)
        if "services.market" in " ".join(with_cmd.cmdline()):
            return with_cmd
    raise RuntimeError("market app not found")


async def measure(phase: Phase, args: argparse.Namespace, target: str, token: str,
                  symbols: list[str], feed: Feed | None, market: psutil.Process,
                  fresh: bool = True) -> dict[str, object]:
    """Run one phase's subscriber processes against `target`; return its figures."""
    rss_idle = market.memory_info().rss
    k = min(phase.k, len(symbols))
    if feed is not None:
        feed.tick_seconds = phase.tick_ms / 1000
    parts = max(1, min(args.client_processes, phase.subscribers))
    children = [await asyncio.create_subprocess_exec(
        sys.executable, __file__, "subscribers", "--kind", phase.kind, "--style", phase.style,
        "--target", target, "--token", token, "--n", str(phase.subscribers), "--k", str(k),
        "--part", str(part), "--parts", str(parts),
        "--connections", str(max(1, args.connections // parts)),
        "--symbol-list", ",".join(symbols),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=child_env()) for part in range(parts)]
    ticks = TickCount(feed, phase.tick_ms)
    feeding = asyncio.create_task(feed.run()) if feed is not None else None
    try:
        for child in children:
            assert child.stdout is not None
            line = await asyncio.wait_for(child.stdout.readline(), 90)
            if line.strip() != b"ready":
                child.kill()
                assert child.stderr is not None
                errors = (await child.stderr.read()).decode(errors="replace")
                raise RuntimeError(f"subscribers failed: {line!r}\n{errors[-3000:]}")
        rss_connected = market.memory_info().rss
        start = time.time() + WARMUP_SECONDS
        end = start + args.seconds
        for child in children:
            assert child.stdin is not None
            child.stdin.write((json.dumps({"start": start, "end": end}) + "\n").encode())
            await child.stdin.drain()
        await asyncio.sleep(start - time.time())
        cpu0, ticks0 = market.cpu_times(), ticks.now()
        await asyncio.sleep(end - time.time())
        cpu1, ticks1 = market.cpu_times(), ticks.now()
        results = [json.loads(await asyncio.wait_for(child.stdout.readline(), 60))  # type: ignore[union-attr]
                   for child in children]
    finally:
        if feeding is not None:
            feeding.cancel()
        for child in children:
            if child.returncode is None:
                child.kill()
            await child.wait()
    latency: dict[int, int] = {}
    for result in results:
        for bucket, count in result["latency"].items():
            latency[int(bucket)] = latency.get(int(bucket), 0) + count
    deliveries = sum(r["deliveries"] for r in results)
    messages = sum(r["messages"] for r in results)
    demanded = (ticks1 - ticks0) * phase.subscribers * k
    service_cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / args.seconds
    return {
        "subscribers": phase.subscribers, "symbols_per_subscriber": k, "tick_ms": phase.tick_ms,
        "deliveries_per_s": round(deliveries / args.seconds, 1),
        "messages_per_s": round(messages / args.seconds, 1),
        "demanded_per_s": round(demanded / args.seconds, 1),
        "delivered_ratio": round(deliveries / demanded, 3) if demanded else None,
        "conflated_messages": sum(r["conflated_messages"] for r in results),
        "p50_ms": quantile(latency, 0.50), "p99_ms": quantile(latency, 0.99),
        "max_ms": float(max(latency, default=-1)),
        "service_cpu": round(service_cpu, 2),
        "service_cpu_us_per_delivery": round(
            service_cpu * args.seconds * 1e6 / max(deliveries, 1), 2),
        "client_cpu": round(sum(r["client_cpu"] for r in results), 2),
        "client_processes": parts,
        # Only meaningful on a process's first phase: later ones reuse the memory freed before.
        "rss_per_subscriber_kb": round(
            (rss_connected - rss_idle) / phase.subscribers / 1024, 1) if fresh else None,
    }


class TickCount:
    """Ticks published so far: counted by our feed, or by the clock for the floor server."""

    def __init__(self, feed: Feed | None, tick_ms: float) -> None:
        self._feed, self._tick_ms = feed, tick_ms

    def now(self) -> float:
        if self._feed is not None:
            return self._feed.ticks
        return time.monotonic() * 1000 / self._tick_ms


class Feed:
    """Publish a quote of every symbol each tick, on a fixed schedule."""

    def __init__(self, book: object, venue: object, tick_seconds: float) -> None:
        self.book, self.venue, self.tick_seconds = book, venue, tick_seconds
        self.ticks = 0

    async def run(self) -> None:
        began, ticks = time.monotonic(), 0
        while True:
            await self.book.publish(self.venue.tick(int(time.time() * 1000)))  # type: ignore[attr-defined]
            self.ticks += 1
            ticks += 1
            await asyncio.sleep(max(began + ticks * self.tick_seconds - time.monotonic(), 0))


async def main(args: argparse.Namespace) -> dict[str, object]:
    import httpx

    from mesh.ports import free_port
    from mesh.supervisor import Mesh
    from services.market.domain.quotes import SimulatedVenue
    from services.market.store import QuoteBook
    from services.runtime.cache import connect_redis
    from tests.integration.test_market_fanout import start_market_replica
    from tests.support.accounts import signed_in_user

    wanted = args.phases.split(",")
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="tradesage-bench-") as directory:
        mesh = Mesh(data_dir=Path(directory), edge_port=0,
                    extra_env={"TRADESAGE_MARKET_FEED": "off"})
        await mesh.start()
        replica = floor = None
        try:
            assert mesh.plan is not None
            seeded, catalogue = await add_instruments(mesh.database_url, args.instruments)
            # A replica started after the catalogue grew, so it knows every instrument.
            replica = await start_market_replica(mesh, "market-bench-replica",
                                                 TRADESAGE_MARKET_HEARTBEAT_SECONDS="15")
            redis = await connect_redis(mesh.redis_url)
            feed = Feed(QuoteBook(redis), SimulatedVenue(catalogue), args.tick_ms / 1000)
            await feed.book.publish(feed.venue.tick(int(time.time() * 1000)))
            symbols = [i.symbol for i in catalogue]
            replica_address = replica.address  # type: ignore[attr-defined]
            replica_process = psutil.Process(replica.pid)
            if "floor" in wanted:
                port = free_port()
                floor = await asyncio.create_subprocess_exec(
                    sys.executable, __file__, "floor", "--port", str(port),
                    "--tick-ms", str(args.tick_ms), "--symbol-list", ",".join(symbols),
                    env=child_env(), stdout=asyncio.subprocess.PIPE)
                assert floor.stdout is not None
                await asyncio.wait_for(floor.stdout.readline(), 30)
                results["grpc-floor"] = await measure(
                    Phase("grpc-floor", "grpc", "batched", args.subscribers, args.symbols,
                          args.tick_ms), args, f"127.0.0.1:{port}", "", symbols, None,
                    psutil.Process(floor.pid))
            if "batched" in wanted:
                results["grpc-batched"] = await measure(
                    Phase("grpc-batched", "grpc", "batched", args.subscribers, args.symbols,
                          args.tick_ms), args, replica_address, "", symbols, feed,
                    replica_process)
            if "single" in wanted:
                results["grpc-single"] = await measure(
                    Phase("grpc-single", "grpc", "single", args.subscribers,
                          args.single_symbols, args.single_tick_ms), args, replica_address,
                    "", symbols, feed, replica_process, fresh="batched" not in wanted)
            if "sse" in wanted:
                async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=30) as edge:
                    token = (await signed_in_user(edge, mesh.database_url)).access_token
                # Through the edge to the mesh's own market app, which knows the seeded
                # instruments only (it started before the bench added the others).
                results["sse"] = await measure(
                    Phase("sse", "sse", args.sse_style, args.sse_clients, len(seeded),
                          args.sse_tick_ms), args, mesh.edge_url, token, seeded, feed,
                    market_process(mesh.pids()))
            await redis.aclose()
        finally:
            if floor is not None and floor.returncode is None:
                floor.kill()
                await floor.wait()
            if replica is not None:
                await replica.stop(timeout=10)
            await mesh.stop()
    for name, figures in results.items():
        print(f"{name:13s} {json.dumps(figures)}", file=sys.stderr)
    return summary(results, args)


async def add_instruments(database_url: str, total: int) -> tuple[list[str], list[Instrument]]:
    """Grow the catalogue to `total` instruments; return the seeded symbols and all of them."""
    import asyncpg

    from services.market.store import InstrumentStore

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        seeded = [i.symbol for i in await InstrumentStore(pool).list(limit=10_000)]
        await pool.executemany(
            """INSERT INTO market.instruments (symbol, name, asset_class, exchange,
                   currency_code, tick_size, lot_size, reference_price)
               VALUES ($1, $2, 'equity', 'XBEN', 'USD', 0.01, 1, $3)
               ON CONFLICT (symbol) DO NOTHING""",
            [(f"BEN{n:03d}", f"Bench instrument {n}", Decimal(20 + n))
             for n in range(max(0, total - len(seeded)))])
        return seeded, await InstrumentStore(pool).list(limit=10_000)
    finally:
        await pool.close()


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "generated")])}


# ---------------------------------------------------------------------------------------------
# The floor: a bare grpc.aio server streaming the same pre-encoded messages on the same ticks,
# without Redis, interceptors or the hub; what this machine allows at all.


async def run_floor(args: argparse.Namespace) -> None:
    import grpc
    from tradesage.market.v1 import market_service_pb2 as api

    from services.market.domain.quotes import Quote
    from services.market.hub import WireQuote

    streams: list[tuple[set[str], list[WireQuote], list[asyncio.Future[None] | None]]] = []

    async def subscribe(request: api.SubscribeRequest,
                        context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        wanted, queue, waiter = set(request.symbols), [], [None]
        streams.append((wanted, queue, waiter))
        tail = b"\x1a\x10" + b"0" * 16  # subscription_id, as the service sends it
        yield tail
        loop = asyncio.get_running_loop()
        while True:
            if not queue:
                waiter[0] = loop.create_future()
                await waiter[0]
            batch = queue.copy()
            queue.clear()
            if request.batch_quotes:
                yield b"".join([q.batched for q in batch]) + tail
            else:
                for quote in batch:
                    yield quote.single + tail

    async def tick() -> None:
        symbols, began, ticks = args.symbol_list.split(","), time.monotonic(), 0
        while True:
            now = int(time.time() * 1000)
            quotes = {s: WireQuote(Quote(s, "100.00", "100.02", "100", "200", "100.01", now,
                                         ticks)) for s in symbols}
            for wanted, queue, waiter in streams:
                queue.extend(quotes[s] for s in wanted)
                if waiter[0] is not None and not waiter[0].done():
                    waiter[0].set_result(None)
            ticks += 1
            await asyncio.sleep(max(began + ticks * args.tick_ms / 1000 - time.monotonic(), 0))

    server = grpc.aio.server()
    handler = grpc.unary_stream_rpc_method_handler(
        subscribe, request_deserializer=api.SubscribeRequest.FromString,
        response_serializer=None)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "tradesage.market.v1.MarketDataService", {"Subscribe": handler}),))
    server.add_insecure_port(f"127.0.0.1:{args.port}")
    await server.start()
    ticker = asyncio.create_task(tick())
    print("ready", flush=True)
    await server.wait_for_termination()
    ticker.cancel()


def summary(results: dict[str, dict[str, object]], args: argparse.Namespace) -> dict[str, object]:
    print(f"\n{'phase':13s} {'subs':>5s} {'syms':>4s} {'tick':>5s} {'demanded/s':>11s} "
          f"{'delivered/s':>12s} {'msgs/s':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'svc cpu':>7s} "
          f"{'us/dlv':>6s} {'cli cpu':>7s} {'KB/sub':>7s}")
    for name, r in results.items():
        print(f"{name:13s} {r['subscribers']:5d} {r['symbols_per_subscriber']:4d} "
              f"{r['tick_ms']:5.0f} {r['demanded_per_s']:11,.0f} {r['deliveries_per_s']:12,.0f} "
              f"{r['messages_per_s']:8,.0f} {r['p50_ms']:7.0f} {r['p99_ms']:7.0f} "
              f"{r['service_cpu']:7.2f} {r['service_cpu_us_per_delivery']:6.1f} "
              f"{r['client_cpu']:7.2f} {r['rss_per_subscriber_kb'] or float('nan'):7.1f}")
    head = results.get("grpc-batched") or next(iter(results.values()))
    out: dict[str, object] = {
        "bench": "market", "deliveries_per_s": head["deliveries_per_s"],
        "subscribers": head["subscribers"], "tick_p99_ms": head["p99_ms"],
        "tick_p50_ms": head["p50_ms"], "tick_ms": head["tick_ms"],
        "symbols_per_subscriber": head["symbols_per_subscriber"],
        "delivered_ratio": head["delivered_ratio"],
        "rss_per_subscriber_kb": head["rss_per_subscriber_kb"],
        "service_cpu_us_per_delivery": head["service_cpu_us_per_delivery"],
    }
    if floor := results.get("grpc-floor"):
        out |= {"floor_deliveries_per_s": floor["deliveries_per_s"],
                "floor_tick_p50_ms": floor["p50_ms"], "floor_tick_p99_ms": floor["p99_ms"]}
    if single := results.get("grpc-single"):
        out |= {"single_deliveries_per_s": single["deliveries_per_s"],
                "single_tick_p99_ms": single["p99_ms"],
                "single_delivered_ratio": single["delivered_ratio"],
                "single_service_cpu_us_per_delivery": single["service_cpu_us_per_delivery"]}
    if sse := results.get("sse"):
        out |= {"sse_clients": sse["subscribers"], "sse_deliveries_per_s": sse["deliveries_per_s"],
                "sse_tick_p99_ms": sse["p99_ms"], "sse_delivered_ratio": sse["delivered_ratio"]}
    return out


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="role")
    load = sub.add_parser("subscribers", help="(internal) the subscriber process")
    load.add_argument("--kind", choices=("grpc", "sse"), required=True)
    load.add_argument("--style", choices=("batched", "single"), required=True)
    load.add_argument("--target", required=True)
    load.add_argument("--token", default="")
    load.add_argument("--n", type=int, required=True)
    load.add_argument("--k", type=int, required=True)
    load.add_argument("--connections", type=int, default=10)
    load.add_argument("--part", type=int, default=0)
    load.add_argument("--parts", type=int, default=1)
    load.add_argument("--symbol-list", required=True)
    floor = sub.add_parser("floor", help="(internal) the bare grpc.aio server")
    floor.add_argument("--port", type=int, required=True)
    floor.add_argument("--tick-ms", type=float, required=True)
    floor.add_argument("--symbol-list", required=True)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--instruments", type=int, default=64,
                        help="catalogue size: the seeded instruments plus synthetic ones")
    parser.add_argument("--symbols", type=int, default=32, help="symbols per subscriber")
    parser.add_argument("--tick-ms", type=float, default=250.0,
                        help="time between ticks (each quotes every instrument)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per phase")
    parser.add_argument("--connections", type=int, default=10,
                        help="HTTP/2 connections the gRPC subscribers share")
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processes the subscribers are spread over")
    parser.add_argument("--single-symbols", type=int, default=8,
                        help="symbols per subscriber in the one-message-per-quote phase")
    parser.add_argument("--single-tick-ms", type=float, default=1000.0)
    parser.add_argument("--sse-clients", type=int, default=100)
    parser.add_argument("--sse-tick-ms", type=float, default=250.0)
    parser.add_argument("--sse-style", choices=("batched", "single"), default="single")
    parser.add_argument("--phases", default="floor,batched,single,sse")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    if arguments.role == "subscribers":
        asyncio.run(run_subscribers(arguments))
    elif arguments.role == "floor":
        asyncio.run(run_floor(arguments))
    else:
        print(json.dumps(asyncio.run(main(arguments))))
