"""Backup and restore time of one tenant with 100,000 orders.

Starts its own embedded PostgreSQL in a temporary directory, provisions a professional tenant,
loads the orders with COPY, then times: a backup (pg_dump → zlib → AES-GCM → the local object
store), a restore into the same tenant (checksum, TRUNCATE + COPY in one transaction), and a
restore into a new tenant (tenant_id rewritten). `--s3` adds the same backup and restore
against a moto S3 server on loopback (which shares the cores, so it is slower than a real one).

Usage: PYTHONPATH=. python bench/bench_backup.py [--orders 100000] [--s3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import shutil
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from mesh.embedded import EmbeddedPostgres
from services.runtime.database import create_pool
from services.runtime.tenancy import tenant_schema, tenant_transaction
from services.tenant.backup import BackupService, BackupSettings
from services.tenant.object_store import LocalObjectStore, S3ObjectStore
from services.tenant.provisioning import prepare_database, provision

ORDER_COLUMNS = ["tenant_id", "portfolio_id", "user_id", "client_order_id", "symbol", "side",
                 "order_type", "quantity", "limit_price", "currency_code", "status"]


async def new_tenant(pool, plan: str = "professional") -> str:
    tenant_id = str(uuid.uuid4())
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            "INSERT INTO platform.tenants (id, display_name, plan) VALUES ($1, $2, $3)",
            uuid.UUID(tenant_id), f"Bench {tenant_id[:8]}", plan)
        await provision(connection, tenant_id, plan)
    return tenant_id


async def load_orders(pool, tenant_id: str, count: int) -> float:
    """Insert `count` orders with COPY; return the seconds it took."""
    started = time.perf_counter()
    tenant, user = uuid.UUID(tenant_id), uuid.uuid4()
    async with tenant_transaction(pool, tenant_id) as c:
        portfolio = await c.fetchval(
            """INSERT INTO portfolios (user_id, display_name, base_currency_code, cash_balance)
               VALUES ($1, 'Bench', 'USD', 1000000) RETURNING id""", user)
    records = [
        (tenant, portfolio, user, f"bench-{n}", f"SYM{n % 500}", "buy" if n % 2 else "sell",
         "limit", Decimal(1 + n % 100), Decimal(f"{100 + n % 1000}.{n % 100:02d}"), "USD",
         "accepted" if n % 3 else "filled")
        for n in range(count)
    ]
    async with pool.acquire() as c:
        await c.copy_records_to_table("orders", schema_name=tenant_schema(tenant_id),
                                      records=records, columns=ORDER_COLUMNS)
        await c.execute(f"ANALYZE {tenant_schema(tenant_id)}.orders")
    return time.perf_counter() - started


async def run(orders: int, with_s3: bool) -> dict[str, object]:
    directory = Path(tempfile.mkdtemp(prefix="tradesage-bench-backup-"))
    postgres = EmbeddedPostgres(directory)
    dsn = await asyncio.to_thread(postgres.start)
    moto = None
    try:
        pool = await create_pool(dsn)
        await prepare_database(pool)
        settings = BackupSettings(master_key=os.urandom(32), local_dir=directory / "backups",
                                  schedule=None, spool_dir=directory / "spool")
        service = BackupService(pool, dsn, settings, LocalObjectStore(directory / "backups"))
        tenant = await new_tenant(pool)
        load_s = await load_orders(pool, tenant, orders)
        print(f"loaded {orders:,} orders with COPY in {load_s:.2f} s")

        started = time.perf_counter()
        record = await service.create(tenant)
        backup_s = time.perf_counter() - started
        print(f"backup:                 {backup_s:6.2f} s  {record.size_bytes:,} bytes "
              f"({record.row_count:,} rows)")

        started = time.perf_counter()
        same = await service.restore(tenant, record.id)
        restore_s = time.perf_counter() - started
        print(f"restore (same tenant):  {restore_s:6.2f} s  {same.restored_rows:,} rows")

        target = str(uuid.uuid4())

        async def create_target(connection) -> None:
            await connection.execute(
                "INSERT INTO platform.tenants (id, display_name, plan) VALUES ($1, $2, $3)",
                uuid.UUID(target), "Bench restored", "professional")
            await provision(connection, target, "professional")

        started = time.perf_counter()
        await service.restore(tenant, record.id, target_tenant_id=target, prepare=create_target)
        restore_new_s = time.perf_counter() - started
        print(f"restore (new tenant):   {restore_new_s:6.2f} s  (schema provisioned, "
              "tenant_id rewritten)")
        figures: dict[str, object] = {
            "bench": "backup", "orders": orders,
            "backup_s_100k_orders": round(backup_s, 3),
            "restore_s_100k_orders": round(restore_s, 3),
            "restore_new_tenant_s_100k_orders": round(restore_new_s, 3),
            "backup_bytes": record.size_bytes,
        }
        if with_s3:
            from moto.server import ThreadedMotoServer

            from mesh.ports import free_port

            os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            moto = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
            moto.start()
            host, port = moto.get_host_and_port()
            store = S3ObjectStore("s3://bench/backups", endpoint_url=f"http://{host}:{port}",
                                  region="us-east-1", spool_dir=directory / "spool")
            await (await store._s3()).create_bucket(Bucket="bench")
            s3 = BackupService(pool, dsn, settings, store)
            started = time.perf_counter()
            s3_record = await s3.create(tenant)
            figures["s3_backup_s"] = round(time.perf_counter() - started, 3)
            started = time.perf_counter()
            await s3.restore(tenant, s3_record.id)
            figures["s3_restore_s"] = round(time.perf_counter() - started, 3)
            print(f"S3 (moto) backup {figures['s3_backup_s']} s, "
                  f"restore {figures['s3_restore_s']} s")
            await s3.close()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process (includes the {orders:,} records built for COPY): "
              f"{peak:.0f} MB")
        await service.close()
        await pool.close()
        return figures
    finally:
        if moto is not None:
            moto.stop()
        await asyncio.to_thread(postgres.stop)
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--s3", action="store_true", help="also time a moto S3 round trip")
    args = parser.parse_args()
    figures = asyncio.run(run(args.orders, args.s3))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
