"""Tenant provisioning: time to create a tenant (row, role, schema from its plan template, RLS,
grants, bookkeeping; one transaction, commit included) with 1, 100 and 1,000 tenants existing.

At each count, `--samples` more tenants are provisioned one at a time (plans in turn) and each
is dropped again after it is timed, so every sample sees the same count. The goal is a p99
under 200 ms that stays flat as tenants accumulate. Last, one trivial schema version is
migrated across every tenant, for the upgrade rate.

Usage: PYTHONPATH=. python bench/bench_tenants.py [--milestones 1,100,1000] [--samples 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
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


def percentile(values: list[float], q: int) -> float:
    """Return the q-th percentile (inclusive method), in the unit of `values`."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def run(milestones: list[int], samples: int) -> dict[str, float]:
    directory = Path(tempfile.mkdtemp(prefix="tradesage-bench-"))
    server = EmbeddedPostgres(directory)
    try:
        dsn = await asyncio.to_thread(server.start)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
        try:
            return await measure(pool, milestones, samples)
        finally:
            await pool.close()
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(directory, ignore_errors=True)


async def measure(pool: asyncpg.Pool, milestones: list[int], samples: int) -> dict[str, float]:
    await prepare_database(pool)
    figures: dict[str, float] = {}
    existing = 0
    fill_seconds = 0.0
    rows = []
    async with pool.acquire() as connection:
        for milestone in milestones:
            while existing < milestone:
                _, seconds = await create_tenant(connection, PLANS[existing % len(PLANS)])
                fill_seconds += seconds
                existing += 1
            by_plan: dict[str, list[float]] = {plan: [] for plan in PLANS}
            for index in range(samples):
                plan = PLANS[index % len(PLANS)]
                tenant_id, seconds = await create_tenant(connection, plan)
                by_plan[plan].append(seconds * 1000)
                await remove_tenant(connection, tenant_id)
            times = [t for plan_times in by_plan.values() for t in plan_times]
            p50, p99 = statistics.median(times), percentile(times, 99)
            figures[f"provision_p50_ms_at_{milestone}"] = round(p50, 2)
            figures[f"provision_p99_ms_at_{milestone}"] = round(p99, 2)
            catalog = await connection.fetchval("SELECT count(*) FROM pg_class")
            rows.append((milestone, len(times), p50, p99, max(times),
                         *(statistics.median(by_plan[plan]) for plan in PLANS), catalog))
            print(f"  at {milestone:>5} tenants: p50 {p50:6.1f} ms  p99 {p99:6.1f} ms",
                  file=sys.stderr, flush=True)
        relations = {}
        for plan in PLANS:
            tenant_id, _ = await create_tenant(connection, plan)
            relations[plan] = await connection.fetchval(
                "SELECT count(*) FROM pg_class WHERE relnamespace = $1::regnamespace",
                tenant_schema(tenant_id))
            await remove_tenant(connection, tenant_id)

    versions = Path(tempfile.mkdtemp(prefix="tradesage-bench-versions-"))
    try:
        (versions / "001_bench.sql").write_text("ALTER TABLE orders ADD COLUMN bench_note text;")
        report = await migrate_tenants(pool, versions_dir=versions, concurrency=4)
    finally:
        shutil.rmtree(versions, ignore_errors=True)
    assert report.ok and len(report.upgraded) == existing, report.to_dict()

    print()
    print("| existing tenants | samples | p50 ms | p99 ms | max ms | basic p50 | professional p50 "
          "| enterprise p50 | pg_class rows |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for milestone, count, p50, p99, worst, basic, professional, enterprise, catalog in rows:
        print(f"| {milestone:,} | {count} | {p50:.1f} | {p99:.1f} | {worst:.1f} | {basic:.1f} "
              f"| {professional:.1f} | {enterprise:.1f} | {catalog:,} |")
    print()
    print(f"relations per tenant schema: {relations}")
    print(f"filling to {existing:,} tenants: {existing / fill_seconds:.1f} tenants/s")
    print(f"one schema version across {existing:,} tenants: {report.seconds:.1f} s "
          f"({existing / report.seconds:.0f} tenants/s, concurrency 4)")
    figures.update({
        f"relations_{plan}": relations[plan] for plan in PLANS})
    figures["migrate_tenants_per_s"] = round(existing / report.seconds, 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--milestones", default="1,100,1000",
                        help="existing-tenant counts to measure at (default 1,100,1000)")
    parser.add_argument("--samples", type=int, default=100,
                        help="tenants timed at each count (default 100)")
    args = parser.parse_args()
    milestones = sorted({int(m) for m in args.milestones.split(",")})
    figures = asyncio.run(run(milestones, args.samples))
    print(json.dumps({"bench": "tenants", **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
