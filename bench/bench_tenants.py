"""Tenant provisioning: time to create a tenant with 1, 100 and 1,000 tenants already there.

A provisioning is what CreateTenant does in one transaction: the tenant row, its role, its
schema from the plan template with row-level security and grants, the bookkeeping rows, and
the commit. The goal is a p99 under 200 ms that stays flat as tenants accumulate.

Each tenant count gets its own embedded PostgreSQL, filled to that count first. Samples then
go round-robin over the servers (one tenant of each plan per turn), each dropped again after
it is timed so the count stays put. Interleaving exposes every count to the same moments of
a shared machine, which otherwise drift by a factor of two over minutes and would pass for
growth. Besides wall time the table shows the server's CPU time per provisioning, read from
/proc for the backend (work done, less sensitive to waiting). Last, one trivial schema version
is migrated across the largest server's tenants, for the upgrade rate.

Usage: PYTHONPATH=. python bench/bench_tenants.py [--milestones 1,100,1000] [--samples 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from mesh.embedded import EmbeddedPostgres
from services.runtime.tenancy import tenant_schema
from services.tenant.provisioning import (
    drop_tenant_schema,
    migrate_tenants,
    prepare_database,
    provision,
)

PLANS = ("basic", "professional", "enterprise")


@dataclass
class Server:
    """One embedded PostgreSQL holding `tenants` tenants, and the samples taken on it."""

    tenants: int
    pool: asyncpg.Pool
    connection: asyncpg.Connection
    backend_pid: int
    fill_seconds: float = 0.0
    wall_ms: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PLANS})
    cpu_seconds: float = 0.0

    @property
    def samples(self) -> list[float]:
        return [ms for plan in PLANS for ms in self.wall_ms[plan]]


async def create_tenant(connection: asyncpg.Connection, plan: str) -> tuple[str, float]:
    """Insert a tenant row and provision it in one transaction; return (id, seconds)."""
    tenant_id = str(uuid.uuid4())
    started = time.perf_counter()
    async with connection.transaction():
        await connection.execute(
            "INSERT INTO platform.tenants (id, display_name, plan) VALUES ($1, $2, $3)",
            uuid.UUID(tenant_id), f"Bench {tenant_id[:8]}", plan)
        await provision(connection, tenant_id, plan)
    return tenant_id, time.perf_counter() - started


async def remove_tenant(connection: asyncpg.Connection, tenant_id: str) -> None:
    async with connection.transaction():
        await drop_tenant_schema(connection, tenant_id)
        await connection.execute("DELETE FROM platform.tenants WHERE id = $1",
                                 uuid.UUID(tenant_id))


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time a local process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: int) -> float:
    """Return the q-th percentile (inclusive method)."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def start_server(stack: AsyncExitStack, tenants: int) -> Server:
    """Start a PostgreSQL in a temporary directory and fill it with `tenants` tenants."""
    directory = Path(tempfile.mkdtemp(prefix="tradesage-bench-"))
    stack.callback(shutil.rmtree, directory, ignore_errors=True)
    postgres = EmbeddedPostgres(directory)
    stack.push_async_callback(asyncio.to_thread, postgres.stop)
    dsn = await asyncio.to_thread(postgres.start)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=5)
    stack.push_async_callback(pool.close)
    await prepare_database(pool)
    connection = await pool.acquire()
    stack.push_async_callback(pool.release, connection)
    server = Server(tenants, pool, connection, await connection.fetchval("SELECT pg_backend_pid()"))
    for index in range(tenants):
        _, seconds = await create_tenant(connection, PLANS[index % len(PLANS)])
        server.fill_seconds += seconds
    await connection.execute("CHECKPOINT")
    print(f"  {tenants:,} tenants in place", file=sys.stderr, flush=True)
    return server


async def sample(servers: list[Server], samples: int) -> None:
    """Time `samples` provisionings per server, one of each plan per server per turn."""
    for turn in range(-(-samples // len(PLANS))):
        for server in servers:
            for plan in PLANS:
                cpu_before = cpu_seconds(server.backend_pid)
                tenant_id, seconds = await create_tenant(server.connection, plan)
                server.cpu_seconds += cpu_seconds(server.backend_pid) - cpu_before
                server.wall_ms[plan].append(seconds * 1000)
                await remove_tenant(server.connection, tenant_id)
        if turn % 10 == 9:
            print(f"  {(turn + 1) * len(PLANS)} samples per server", file=sys.stderr, flush=True)


async def run(milestones: list[int], samples: int) -> dict[str, float]:
    async with AsyncExitStack() as stack:
        servers = [await start_server(stack, count) for count in milestones]
        await sample(servers, samples)
        largest = servers[-1]
        relations = {}
        for plan in PLANS:
            tenant_id, _ = await create_tenant(largest.connection, plan)
            relations[plan] = await largest.connection.fetchval(
                "SELECT count(*) FROM pg_class WHERE relnamespace = $1::regnamespace",
                tenant_schema(tenant_id))
            await remove_tenant(largest.connection, tenant_id)
        versions = Path(tempfile.mkdtemp(prefix="tradesage-bench-versions-"))
        stack.callback(shutil.rmtree, versions, ignore_errors=True)
        (versions / "001_bench.sql").write_text("ALTER TABLE orders ADD COLUMN bench_note text;")
        report = await migrate_tenants(largest.pool, versions_dir=versions, concurrency=4)
        assert report.ok and len(report.upgraded) == largest.tenants, report.to_dict()
        return summarize(servers, relations, report.seconds)


def summarize(servers: list[Server], relations: dict[str, int],
              migrate_seconds: float) -> dict[str, float]:
    figures: dict[str, float] = {}
    print()
    print("| existing tenants | samples | p50 ms | p99 ms | max ms | backend CPU ms (mean) "
          "| basic p50 | professional p50 | enterprise p50 |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for server in servers:
        times = server.samples
        p50, p99 = statistics.median(times), percentile(times, 99)
        cpu = server.cpu_seconds * 1000 / len(times)
        by_plan = " | ".join(f"{statistics.median(server.wall_ms[p]):.1f}" for p in PLANS)
        print(f"| {server.tenants:,} | {len(times)} | {p50:.1f} | {p99:.1f} | {max(times):.1f} "
              f"| {cpu:.1f} | {by_plan} |")
        figures[f"provision_p50_ms_at_{server.tenants}"] = round(p50, 2)
        figures[f"provision_p99_ms_at_{server.tenants}"] = round(p99, 2)
        figures[f"provision_cpu_ms_at_{server.tenants}"] = round(cpu, 2)
    largest = servers[-1]
    print()
    print(f"relations per tenant schema (toast tables aside): {relations}")
    print(f"filling to {largest.tenants:,} tenants: "
          f"{largest.tenants / largest.fill_seconds:.1f} tenants/s")
    print(f"one schema version across {largest.tenants:,} tenants: {migrate_seconds:.1f} s "
          f"({largest.tenants / migrate_seconds:.0f} tenants/s, concurrency 4)")
    figures.update({f"relations_{plan}": relations[plan] for plan in PLANS})
    figures["migrate_tenants_per_s"] = round(largest.tenants / migrate_seconds, 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--milestones", default="1,100,1000",
                        help="existing-tenant counts to measure at (default 1,100,1000)")
    parser.add_argument("--samples", type=int, default=100,
                        help="tenants timed at each count (default 100, rounded up to whole "
                             "turns of the three plans)")
    args = parser.parse_args()
    milestones = sorted({int(m) for m in args.milestones.split(",")})
    figures = asyncio.run(run(milestones, args.samples))
    print(json.dumps({"bench": "tenants", **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
