"""Benchmark trading: the matching core in one process, and orders through the REST edge.

Edge phase: a whole embedded mesh (simulated market feed on), eight enterprise tenants with a
funded trader each, and an open-loop load generator that starts orders at fixed rates (it does
not wait for replies before sending the next, so slow replies show as latency, not as a lower
rate). Four in five orders are limit buys that rest in the book, one in five is an IOC market
buy that fills against the feed. Every acknowledged order is counted back in PostgreSQL, and
each rate reports the CPU each component used (% of one core) and in total per order.

    PYTHONPATH=. python bench/bench_trading.py [--seconds 5] [--rates 100,250,500,1000]

Everything (load generator, edge, 6 sidecars, 6 services, PostgreSQL, Valkey) shares this
machine's cores; the last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx

from bench.process_cpu import cpu_percent, cpu_seconds
from bench.trading_engine import measure_engine
from mesh.supervisor import Mesh
from services.runtime.tenancy import tenant_schema
from tests.support.accounts import create_tenant, signed_in_user

TENANTS = int(__import__("os").environ.get("BENCH_TENANTS", "8"))


Account = tuple[aiohttp.ClientSession, str, str]


async def traders(mesh: Mesh) -> list[Account]:
    """Return (session, portfolio name, tenant id) for one funded trader per tenant."""
    result = []
    async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=30.0) as edge:
        for _ in range(TENANTS):
            tenant = await create_tenant(edge, plan="TENANT_PLAN_ENTERPRISE")
            user = await signed_in_user(edge, mesh.database_url, tenant)
            reply = await edge.post("/api/v1/portfolios", json={"displayName": "Bench"},
                                    headers=user.headers)
            name = reply.json()["portfolio"]["name"]
            await edge.post(f"/api/v1/{name}:deposit", headers=user.headers, json={
                "amount": {"currencyCode": "USD", "amount": "50000000.00"},
                "requestId": str(uuid.uuid4())})
            # aiohttp rather than httpx here: it costs the shared cores a fraction per request.
            session = aiohttp.ClientSession(
                mesh.edge_url, headers=user.headers, timeout=aiohttp.ClientTimeout(total=30),
                connector=aiohttp.TCPConnector(limit=64))
            result.append((session, name, tenant))
    return result


async def reference(session: aiohttp.ClientSession, symbol: str) -> Decimal:
    """Return the current ask of `symbol` from the edge."""
    async with session.get(f"/api/v1/market/quotes/{symbol}") as reply:
        return Decimal((await reply.json())["quote"]["ask"])


async def run_rate(accounts: list[Account], rate: int,
                   seconds: float, price: Decimal) -> dict[str, Any]:
    """Send orders at `rate` per second for `seconds`; return throughput and latency."""
    latencies: list[float] = []
    failures: Counter[str] = Counter()  # by HTTP status and error code, or exception
    resting = str((price * Decimal("0.95")).quantize(Decimal("0.01")))

    async def one(index: int) -> None:
        client, portfolio, _ = accounts[index % len(accounts)]
        body = {"portfolio": portfolio, "clientOrderId": uuid.uuid4().hex, "symbol": "AAPL",
                "side": "ORDER_SIDE_BUY", "quantity": "1"}
        if index % 5:
            body |= {"orderType": "ORDER_TYPE_LIMIT", "limitPrice": resting,
                     "timeInForce": "TIME_IN_FORCE_GTC"}
        else:
            body |= {"orderType": "ORDER_TYPE_MARKET", "timeInForce": "TIME_IN_FORCE_IOC"}
        started = time.perf_counter()
        try:
            async with client.post("/api/v1/orders", json=body) as reply:
                text = await reply.text()
                if reply.status == 200:
                    latencies.append(time.perf_counter() - started)
                    return
                failures[f"{reply.status} {_error_code(text)}"] += 1
        except (aiohttp.ClientError, TimeoutError) as error:
            failures[type(error).__name__] += 1

    tasks = []
    start = time.perf_counter()
    total = int(rate * seconds)
    for index in range(total):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index)))
    sent_in = time.perf_counter() - start
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "rate": rate, "sent_per_s": round(total / sent_in, 1),
        "accepted_per_s": round(len(latencies) / elapsed, 1),
        "failed": sum(failures.values()), "failures": dict(failures),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else 0.0,
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1) if ordered else 0.0,
        "accepted": len(latencies)}


def _error_code(body: str) -> str:
    try:
        return str(json.loads(body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return body[:80]


async def stored_orders(mesh: Mesh, tenants: list[str]) -> int:
    """Count the orders in every benchmark tenant's schema."""
    connection = await asyncpg.connect(mesh.database_url)
    try:
        return sum([await connection.fetchval(
            f"SELECT count(*) FROM {tenant_schema(t)}.orders") for t in tenants])
    finally:
        await connection.close()


async def edge_phase(rates: list[int], seconds: float) -> list[dict[str, Any]]:
    """Start a mesh and measure orders through the edge at each rate."""
    with tempfile.TemporaryDirectory(prefix="tradesage-bench-") as directory:
        mesh = Mesh(data_dir=Path(directory), edge_port=0)
        await mesh.start()
        try:
            accounts = await traders(mesh)
            price = await reference(accounts[0][0], "AAPL")
            await run_rate(accounts, 100, 2.0, price)  # warm up connections and statement caches
            results = []
            for rate in rates:
                before, started = cpu_seconds(mesh.pids()), time.perf_counter()
                result = await run_rate(accounts, rate, seconds, price)
                after, elapsed = cpu_seconds(mesh.pids()), time.perf_counter() - started
                spent = sum(after.values()) - sum(before.values())
                result["cpu_ms_per_order"] = round(spent / max(result["accepted"], 1) * 1000, 2)
                result["cpu_percent"] = cpu_percent(before, after, elapsed)
                results.append(result)
                print(json.dumps(result), flush=True)
            accepted = sum(r["accepted"] for r in results) + 0
            stored = await stored_orders(mesh, [t for _, _, t in accounts])
            print(f"acknowledged {accepted} (+ warm-up) and stored {stored} orders", flush=True)
            for session, _, _ in accounts:
                await session.close()
            return results
        finally:
            await mesh.stop()


async def main(args: argparse.Namespace) -> dict[str, object]:
    """Run both phases; return the headline figures."""
    engine = measure_engine(args.engine_orders)
    print(json.dumps({"engine": engine}), flush=True)
    rates = [int(r) for r in args.rates.split(",")]
    results = await edge_phase(rates, args.seconds)
    at_top = results[-1]
    return {"bench": "trading", "engine_orders_per_s": engine["orders_per_s"],
            "edge_orders_per_s": max(r["accepted_per_s"] for r in results),
            f"edge_p50_ms_at_{rates[-1]}": at_top["p50_ms"],
            f"edge_p99_ms_at_{rates[-1]}": at_top["p99_ms"]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rates", default="100,250,500,1000")
    parser.add_argument("--engine-orders", type=int, default=200_000)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
