"""Unary RPC throughput and latency: app direct, through two sidecars, and REST via the edge.

The same call on every path (market GetQuote, one Redis read) with the same concurrency, so
the ratios show what the mesh costs. The load generator shares the machine's cores with
everything it measures; absolute figures are lower than on separate hosts.

Usage: PYTHONPATH=. python bench/bench_mesh.py [--seconds 5] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import grpc
import httpx
from tradesage.market.v1 import market_service_pb2 as api
from tradesage.market.v1 import market_service_pb2_grpc as api_grpc

from mesh.supervisor import Mesh
from tests.support.accounts import signed_in_user

REQUEST = api.GetQuoteRequest(symbol="AAPL")


async def measure(call: Callable[[], Awaitable[None]], seconds: float,
                  concurrency: int) -> dict[str, float]:
    """Run `call` from `concurrency` workers for `seconds`; return rps and latency."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while (started := time.perf_counter()) < deadline:
            await call()
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    quantiles = statistics.quantiles(latencies, n=100)
    return {"rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(quantiles[49] * 1000, 2), "p99_ms": round(quantiles[98] * 1000, 2)}


async def grpc_path(address: str, authority: str | None, seconds: float,
                    concurrency: int) -> dict[str, float]:
    options = [("grpc.default_authority", authority)] if authority else []
    async with grpc.aio.insecure_channel(address, options=options) as channel:
        stub = api_grpc.MarketDataServiceStub(channel)

        async def call() -> None:
            await stub.GetQuote(REQUEST, timeout=5)

        await measure(call, 1.0, concurrency)  # warm-up
        return await measure(call, seconds, concurrency)


async def rest_path(base_url: str, token: str, seconds: float,
                    concurrency: int) -> dict[str, float]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(base_url, connector=connector, headers=headers) as session:

        async def call() -> None:
            async with session.get("/api/v1/market/quotes/AAPL") as reply:
                await reply.read()
                assert reply.status == 200, reply.status

        await measure(call, 1.0, concurrency)
        return await measure(call, seconds, concurrency)


async def access_token(mesh: Mesh) -> str:
    async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=30) as edge:
        return (await signed_in_user(edge, mesh.database_url)).access_token


async def main(seconds: float, concurrency: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="tradesage-bench-") as directory:
        mesh = Mesh(data_dir=Path(directory), edge_port=0,
                    extra_env={"TRADESAGE_MARKET_TICK_SECONDS": "1"})
        await mesh.start()
        try:
            assert mesh.plan is not None
            ports = mesh.plan
            results = {
                "direct": await grpc_path(f"127.0.0.1:{ports.of('market').app}", None,
                                          seconds, concurrency),
                # The path a peer takes: trading's outbound sidecar, mTLS, market's inbound.
                "sidecar": await grpc_path(f"127.0.0.1:{ports.of('trading').outbound}",
                                           "market", seconds, concurrency),
                # A signed-in client: the edge checks its JWT, market checks its session.
                "edge": await rest_path(mesh.edge_url, await access_token(mesh), seconds,
                                        concurrency),
            }
        finally:
            await mesh.stop()
    for path, figures in results.items():
        print(f"{path:8s} {figures['rps']:9.1f} rps   p50 {figures['p50_ms']:7.2f} ms"
              f"   p99 {figures['p99_ms']:7.2f} ms")
    direct = results["direct"]["rps"]
    return {
        "bench": "mesh", "concurrency": concurrency, "seconds": seconds,
        "direct_rps": direct, "sidecar_rps": results["sidecar"]["rps"],
        "edge_rps": results["edge"]["rps"],
        "sidecar_ratio": round(results["sidecar"]["rps"] / direct, 3),
        "edge_ratio": round(results["edge"]["rps"] / direct, 3),
        "direct_p99_ms": results["direct"]["p99_ms"],
        "sidecar_p99_ms": results["sidecar"]["p99_ms"],
        "edge_p50_ms": results["edge"]["p50_ms"], "edge_p99_ms": results["edge"]["p99_ms"],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.seconds, args.concurrency))))
