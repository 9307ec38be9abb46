"""Tenant backups against a real PostgreSQL and a loopback S3 (moto): back up, restore, refuse.

Tenants are provisioned from the real plan templates, filled with rows of every kind the
templates hold plus a table of awkward values (tabs, newlines, backslashes, NULLs, bytea,
floats, arrays, jsonb), and compared row by row in PostgreSQL's own text form before and after.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from moto.server import ThreadedMotoServer

from mesh.ports import free_port
from services.runtime.database import create_pool
from services.runtime.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from services.runtime.tenancy import tenant_schema, tenant_transaction
from services.tenant.backup import (
    BackupError,
    BackupService,
    BackupSettings,
    object_key,
)
from services.tenant.domain.backup_format import BackupCorrupted
from services.tenant.object_store import LocalObjectStore, S3ObjectStore
from services.tenant.provisioning import load_versions, prepare_database, provision

BUCKET = "tradesage-backups"
# A table the templates lack, with the values COPY text format has to escape; created in
# every test tenant's schema.
ODD_TABLE = """
CREATE TABLE {schema}.odd_values (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    note text, raw bytea, ratio double precision, amount numeric, tags text[], doc jsonb,
    span interval, day date, at timestamptz,
    doubled numeric GENERATED ALWAYS AS (amount * 2) STORED
)"""
ODD_ROWS = [
    ("tab\there", b"\x00\x01\xff", 0.1, "12345678901234567890.000000001", ["a", "b c"],
     '{"k": [1, 2.50, "\\\\."]}', timedelta(days=1, microseconds=7), "2024-02-29",
     datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)),
    ("newline\nand \\ backslash and \\.", b"", float("inf"), "-0.5", [], "[]",
     timedelta(0), "0001-01-01", datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    (None, None, None, None, None, None, None, None, None),
    ("\\.", b"\\.\n", -1.5e-300, "NaN", ["\t", "\n", "NULL", ""], '{"\\t": null}',
     timedelta(hours=-3), "2100-12-31", datetime(2000, 1, 1, tzinfo=UTC)),
]


@pytest.fixture(scope="module")
def database_url(private_postgres: str) -> str:
    """Return the DSN of this module's own PostgreSQL server."""
    return private_postgres


@pytest.fixture(scope="module")
async def pool(database_url) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url)
    await prepare_database(pool)
    yield pool
    await pool.close()


@pytest.fixture(scope="module")
def s3_endpoint():
    """Run a moto S3 server on loopback with one bucket; the AWS variables point at it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.delenv("AWS_PROFILE", raising=False)
        endpoint = f"http://{host}:{port}"
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
            Bucket=BUCKET)
        yield endpoint
    server.stop()


@pytest.fixture(scope="module")
def backup_dir():
    directory = Path(tempfile.mkdtemp(prefix="tradesage-test-backups-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def _settings(backup_dir: Path, **changes) -> BackupSettings:
    values = {"master_key": os.urandom(32), "local_dir": backup_dir,
              "spool_dir": backup_dir / ".spool"}
    values.update(changes)
    return BackupSettings(**values)


MASTER = os.urandom(32)


@pytest.fixture(scope="module", params=["local", "s3"])
async def backups(request, pool, database_url, backup_dir) -> AsyncIterator[BackupService]:
    """A backup service over the local directory store, then over S3."""
    settings = _settings(backup_dir, master_key=MASTER)
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        store = S3ObjectStore(f"s3://{BUCKET}/backups", endpoint_url=endpoint,
                              region="us-east-1", spool_dir=backup_dir)
    else:
        store = LocalObjectStore(backup_dir / "local")
    service = BackupService(pool, database_url, settings, store)
    yield service
    await service.close()


@pytest.fixture(scope="module")
async def local_backups(pool, database_url, backup_dir) -> AsyncIterator[BackupService]:
    service = BackupService(pool, database_url, _settings(backup_dir, master_key=MASTER),
                            LocalObjectStore(backup_dir / "local"))
    yield service
    await service.close()


async def _provision(connection: asyncpg.Connection, tenant_id: str, plan: str) -> None:
    await connection.execute(
        "INSERT INTO platform.tenants (id, display_name, plan) VALUES ($1, $2, $3)",
        uuid.UUID(tenant_id), f"Backup test {tenant_id[:8]}", plan)
    await provision(connection, tenant_id, plan)
    schema = tenant_schema(tenant_id)
    await connection.execute(ODD_TABLE.format(schema=schema))


async def new_tenant(pool: asyncpg.Pool, plan: str = "professional",
                     limits: str = "{}") -> str:
    tenant_id = str(uuid.uuid4())
    async with pool.acquire() as connection, connection.transaction():
        await _provision(connection, tenant_id, plan)
        await connection.execute("UPDATE platform.tenants SET limits = $2::jsonb WHERE id = $1",
                                 uuid.UUID(tenant_id), limits)
    return tenant_id


async def fill(pool: asyncpg.Pool, tenant_id: str, orders: int = 40) -> None:
    """Insert rows into most tables of the tenant's schema, as the tenant's own role."""
    async with tenant_transaction(pool, tenant_id) as c:
        user = uuid.uuid4()
        portfolio = await c.fetchval(
            """INSERT INTO portfolios (user_id, display_name, base_currency_code, cash_balance)
               VALUES ($1, 'Main', 'USD', 100000.25) RETURNING id""", user)
        await c.execute(
            """INSERT INTO orders (portfolio_id, user_id, client_order_id, symbol, side,
                   order_type, quantity, limit_price, currency_code, status)
               SELECT $1, $2, 'c-' || n, 'SYM' || (n % 7), 'buy', 'limit', n, n + 0.125,
                      'USD', 'accepted'
               FROM generate_series(1, $3) AS n""", portfolio, user, orders)
        first = await c.fetchval("SELECT id FROM orders ORDER BY client_order_id LIMIT 1")
        trade = await c.fetchval(
            """INSERT INTO trades (order_id, portfolio_id, symbol, side, quantity, price,
                   notional, currency_code, trade_time)
               VALUES ($1, $2, 'SYM1', 'buy', 1, 10.5, 10.5, 'USD', now()) RETURNING id""",
            first, portfolio)
        await c.execute(
            """INSERT INTO cash_ledger_entries (portfolio_id, entry_type, amount, balance_after,
                   currency_code, trade_id, description)
               VALUES ($1, 'deposit', 100010.75, 100010.75, 'USD', NULL, E'first\\tdeposit'),
                      ($1, 'trade', -10.5, 100000.25, 'USD', $2, 'fill')""", portfolio, trade)
        await c.execute(
            """INSERT INTO order_events (order_id, event_type, trade_id, order_snapshot,
                   event_time)
               VALUES ($1, 'submitted', NULL, '{"status": "new"}', now()),
                      ($1, 'filled', $2, '{"status": "filled", "q": "1"}', now())""",
            first, trade)
        await c.execute(
            """INSERT INTO positions (portfolio_id, symbol, quantity, average_cost, cost_basis)
               VALUES ($1, 'SYM1', 1, 10.5, 10.5)""", portfolio)
        await c.execute("INSERT INTO preferences (user_id, settings) VALUES ($1, $2::jsonb)",
                        user, '{"theme": "dark", "nested": {"a": [1, "two"]}}')
        await c.execute(
            """INSERT INTO idempotency_keys (method, request_id, request_hash, response)
               VALUES ('PlaceOrder', 'r-1', '\\x00ff10'::bytea, NULL)""")
        await c.execute(
            """INSERT INTO roles (display_name, permissions) VALUES
               ('Desk', ARRAY['orders.place', 'orders.cancel'])""")
        await c.execute(
            """INSERT INTO activities (user_id, kind, ip_address, attributes)
               VALUES ($1, 'login', '192.0.2.7', '{"device": "cli"}')""", user)
        await c.execute(
            """INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload)
               SELECT 'order', n::text, 'OrderAccepted', jsonb_build_object('n', n)
               FROM generate_series(1, 5) AS n""")
    async with pool.acquire() as c, c.transaction():
        # odd_values is the test's own table, so it has no grants for the tenant role.
        await c.execute("SELECT set_config('app.tenant_id', $1, true)", tenant_id)
        await c.executemany(
            f"""INSERT INTO {tenant_schema(tenant_id)}.odd_values
                (note, raw, ratio, amount, tags, doc, span, day, at)
                VALUES ($1, $2, $3, $4::numeric, $5, $6::jsonb, $7, $8::date, $9)""",
            [(*row[:3], row[3], row[4], row[5], row[6],
              datetime.fromisoformat(row[7]).date() if row[7] else None, row[8])
             for row in ODD_ROWS])


async def snapshot(pool: asyncpg.Pool, tenant_id: str,
                   without_tenant: bool = False) -> dict[str, list[str]]:
    """Return every row of every table of the tenant, in PostgreSQL's text form, sorted."""
    schema = tenant_schema(tenant_id)
    async with pool.acquire() as c:
        tables = [r["relname"] for r in await c.fetch(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1""", schema)]
        rows = {}
        for table in tables:
            value = ("(to_jsonb(t) - 'tenant_id')::text" if without_tenant else "t::text")
            rows[table] = [r[0] for r in await c.fetch(
                f"SELECT {value} FROM {schema}.{table} t ORDER BY 1")]
        return rows


async def sequences(pool: asyncpg.Pool, tenant_id: str) -> dict[str, tuple[int, bool]]:
    schema = tenant_schema(tenant_id)
    async with pool.acquire() as c:
        names = [r[0] for r in await c.fetch(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = $1 ORDER BY 1", schema)]
        result = {}
        for name in names:
            row = await c.fetchrow(f"SELECT last_value, is_called FROM {schema}.{name}")
            result[name] = (row[0], row[1])
        return result


async def odd_values(pool: asyncpg.Pool, tenant_id: str) -> list[tuple]:
    rows = await pool.fetch(
        f"""SELECT note, raw, ratio, amount::text, tags, doc::text, span, day, at, doubled::text
            FROM {tenant_schema(tenant_id)}.odd_values ORDER BY id""")
    return [tuple(row) for row in rows]


async def damage(store, key: str, position: int) -> None:
    """Flip one byte of a stored object (position from the end if negative)."""
    data = bytearray(b"".join([chunk async for chunk in store.read(key)]))
    data[position] ^= 0x40

    async def chunks():
        yield bytes(data)

    await store.put(key, chunks())


async def mess_up(pool: asyncpg.Pool, tenant_id: str) -> None:
    """Change the tenant's data after a backup: update, delete and insert rows."""
    async with tenant_transaction(pool, tenant_id) as c:
        await c.execute("UPDATE portfolios SET cash_balance = 1, display_name = 'Changed'")
        await c.execute("UPDATE orders SET status = 'canceled' WHERE quantity < 10")
        await c.execute("DELETE FROM orders WHERE quantity > 30")
        await c.execute("DELETE FROM preferences")
        await c.execute(
            """INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload)
               VALUES ('order', 'x', 'Extra', '{}')""")
    async with pool.acquire() as c:
        await c.execute(f"DELETE FROM {tenant_schema(tenant_id)}.odd_values WHERE id > 2")


# --- the tests ----------------------------------------------------------------------------


async def test_restore_into_the_same_tenant_brings_back_every_row(backups, pool):
    tenant = await new_tenant(pool)
    await fill(pool, tenant)
    before, before_seq = await snapshot(pool, tenant), await sequences(pool, tenant)
    before_odd = await odd_values(pool, tenant)
    total = sum(len(rows) for rows in before.values())

    record = await backups.create(tenant, description="before changes")

    assert record.state == "ready" and record.kind == "manual"
    assert record.description == "before changes"
    assert record.row_count == total
    assert len(record.sha256) == 64 and record.size_bytes > 0
    assert record.storage_uri.startswith(
        "s3://" if isinstance(backups.store, S3ObjectStore) else "file:///")
    assert record.complete_time is not None
    tables = {t["name"]: t["rows"] for t in record.manifest["tables"]}
    assert tables["orders"] == 40 and tables["odd_values"] == len(ODD_ROWS)

    await mess_up(pool, tenant)
    assert await snapshot(pool, tenant) != before

    result = await backups.restore(tenant, record.id)

    assert result.tenant_id == tenant
    assert result.restored_rows == total
    assert await snapshot(pool, tenant) == before
    assert await odd_values(pool, tenant) == before_odd
    assert await sequences(pool, tenant) == before_seq
    # Identity sequences continue after the restored rows.
    async with tenant_transaction(pool, tenant) as c:
        new_id = await c.fetchval(
            """INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload)
               VALUES ('order', 'y', 'After', '{}') RETURNING id""")
        assert new_id > max(await c.fetchval("SELECT max(id) FROM outbox WHERE id <> $1",
                                             new_id), 0)


async def test_restore_into_a_new_tenant_rewrites_the_tenant_id(backups, pool):
    source = await new_tenant(pool)
    await fill(pool, source, orders=25)
    before = await snapshot(pool, source, without_tenant=True)
    source_rows = await snapshot(pool, source)
    record = await backups.create(source)
    target = str(uuid.uuid4())

    async def create_target(connection):
        await _provision(connection, target, "professional")

    result = await backups.restore(source, record.id, target_tenant_id=target,
                                   prepare=create_target)

    assert result.tenant_id == target and result.restored_rows == record.row_count
    assert await snapshot(pool, target, without_tenant=True) == before
    assert await odd_values(pool, target) == await odd_values(pool, source)
    schema = tenant_schema(target)
    async with pool.acquire() as c:
        for table in before:
            owners = await c.fetch(f"SELECT DISTINCT tenant_id::text FROM {schema}.{table}")
            assert {r[0] for r in owners} <= {target}, table
    # The new tenant's own role sees its rows through row-level security.
    async with tenant_transaction(pool, target) as c:
        assert await c.fetchval("SELECT count(*) FROM orders") == 25
    async with tenant_transaction(pool, source) as c:
        assert await c.fetchval("SELECT count(*) FROM orders") == 25
    assert await snapshot(pool, source) == source_rows  # the source is untouched


@pytest.mark.parametrize("position", [100, 1000, -30])
async def test_a_corrupted_archive_is_refused_and_the_data_stays(backups, pool, database_url,
                                                                 backup_dir, position):
    # Small records, so that damage near the end hits after several tables were loaded.
    small = BackupService(pool, database_url,
                          _settings(backup_dir, master_key=MASTER, chunk_size=2048),
                          backups.store)
    tenant = await new_tenant(pool)
    await fill(pool, tenant, orders=400)
    record = await small.create(tenant)
    assert record.size_bytes > 5 * 2048
    await mess_up(pool, tenant)
    after_changes = await snapshot(pool, tenant)

    await damage(backups.store, object_key(tenant, record.id), position)

    with pytest.raises(BackupCorrupted) as refused:
        await small.restore(tenant, record.id)
    assert refused.value.reason == "BACKUP_CORRUPT"
    assert refused.value.status == "DATA_LOSS"
    assert refused.value.metadata == {"backupId": record.id}
    assert "SHA-256" in refused.value.message
    assert await snapshot(pool, tenant) == after_changes

    # Even with a catalogue checksum that matches the damaged object, authentication refuses
    # it, and the tables truncated and loaded before the bad record come back as they were.
    forged = await _object_sha256(backups.store, object_key(tenant, record.id))
    await pool.execute("UPDATE platform.tenant_backups SET sha256 = $2 WHERE id = $1",
                       uuid.UUID(record.id), forged)
    with pytest.raises(BackupCorrupted, match="corrupted"):
        await small.restore(tenant, record.id)
    assert await snapshot(pool, tenant) == after_changes


async def _object_sha256(store, key: str) -> str:
    import hashlib

    digest = hashlib.sha256()
    async for chunk in store.read(key):
        digest.update(chunk)
    return digest.hexdigest()


async def test_another_tenants_archive_or_key_is_refused(backups, pool, database_url,
                                                         backup_dir):
    first, second = await new_tenant(pool), await new_tenant(pool)
    await fill(pool, first)
    await fill(pool, second, orders=3)
    mine = await backups.create(first)
    theirs = await backups.create(second)
    second_rows = await snapshot(pool, second)

    # Second's catalogue row pointing at an archive sealed under first's key.
    archive = b"".join([c async for c in backups.store.read(object_key(first, mine.id))])

    async def chunks():
        yield archive

    await backups.store.put(object_key(second, theirs.id), chunks())
    await pool.execute("UPDATE platform.tenant_backups SET sha256 = $2 WHERE id = $1",
                       uuid.UUID(theirs.id),
                       await _object_sha256(backups.store, object_key(second, theirs.id)))
    with pytest.raises(BackupCorrupted, match="another tenant"):
        await backups.restore(second, theirs.id)
    assert await snapshot(pool, second) == second_rows

    # The same archive under another master key: every tenant key differs, nothing opens.
    other = BackupService(pool, database_url, _settings(backup_dir), backups.store)
    with pytest.raises(BackupCorrupted, match="authentication"):
        await other.restore(first, mine.id)


async def test_retention_keeps_the_newest_backups(backups, pool):
    tenant = await new_tenant(pool, limits='{"max_backups": 3}')
    await fill(pool, tenant, orders=2)
    made = [await backups.create(tenant, description=f"#{n}") for n in range(5)]

    page, token = await backups.list(tenant)
    assert [b.id for b in page] == [b.id for b in reversed(made[2:])]
    assert token == ""
    stored = await backups.store.list(f"tenants/{tenant}/")
    assert sorted(item.key for item in stored) == sorted(
        object_key(tenant, b.id) for b in made[2:])
    assert await backups.orphans(tenant) == []
    with pytest.raises(NotFound):
        await backups.get(tenant, made[0].id)

    assert await backups.prune(tenant, keep=1) == [made[2].id, made[3].id]
    assert [b.id for b in (await backups.list(tenant))[0]] == [made[4].id]


async def test_plan_retention_defaults(local_backups, pool):
    tenant = await new_tenant(pool, plan="basic")
    await fill(pool, tenant, orders=1)
    made = [await local_backups.create(tenant) for _ in range(8)]
    page, _ = await local_backups.list(tenant)
    assert len(page) == 7 and made[0].id not in {b.id for b in page}


async def test_listing_pages_newest_first(local_backups, pool):
    tenant = await new_tenant(pool, plan="enterprise")
    made = [await local_backups.create(tenant, description=str(n)) for n in range(5)]
    seen, token = [], ""
    sizes = []
    while True:
        page, token = await local_backups.list(tenant, page_size=2, page_token=token)
        seen += page
        sizes.append(len(page))
        if not token:
            break
    assert sizes == [2, 2, 1]
    assert [b.id for b in seen] == [b.id for b in reversed(made)]
    got = await local_backups.get(tenant, made[1].id)
    assert got == seen[3] and got.name == f"tenants/{tenant}/backups/{made[1].id}"

    other = await new_tenant(pool)
    with pytest.raises(NotFound) as missing:
        await local_backups.get(other, made[1].id)
    assert missing.value.reason == "BACKUP_NOT_FOUND"
    with pytest.raises(NotFound):
        await local_backups.get(tenant, "not-a-uuid")
    with pytest.raises(InvalidArgument):
        await local_backups.list(tenant, page_token="garbage")
    with pytest.raises(InvalidArgument):
        await local_backups.list(tenant, page_size=-1)
    assert (await local_backups.list(other))[0] == []


async def test_a_request_id_returns_the_first_backup(local_backups, pool):
    tenant = await new_tenant(pool)
    first = await local_backups.create(tenant, request_id="req-1")
    again = await local_backups.create(tenant, request_id="req-1")
    assert again.id == first.id
    assert (await local_backups.create(tenant, request_id="req-2")).id != first.id


async def test_a_busy_tenant_refuses_a_second_operation(local_backups, pool):
    tenant = await new_tenant(pool)
    record = await local_backups.create(tenant)
    async with pool.acquire() as c:
        await c.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))",
                        f"tradesage:tenant-backup:{tenant}")
        try:
            with pytest.raises(Aborted) as busy:
                await local_backups.create(tenant)
            assert busy.value.reason == "OPERATION_IN_PROGRESS"
            with pytest.raises(Aborted):
                await local_backups.restore(tenant, record.id)
        finally:
            await c.execute("SELECT pg_advisory_unlock_all()")


async def test_a_failed_backup_is_recorded_and_cannot_be_restored(local_backups, pool):
    tenant = str(uuid.uuid4())  # a tenant row without a schema: pg_dump finds nothing
    await pool.execute("INSERT INTO platform.tenants (id, display_name, plan) VALUES "
                       "($1, 'No schema', 'basic')", uuid.UUID(tenant))
    with pytest.raises(BackupError, match="pg_dump"):
        await local_backups.create(tenant)
    (failed,), _ = await local_backups.list(tenant)
    assert failed.state == "failed" and "pg_dump" in failed.error
    assert await local_backups.store.list(f"tenants/{tenant}/") == []
    with pytest.raises(FailedPrecondition) as refused:
        await local_backups.restore(tenant, failed.id)
    assert refused.value.reason == "BACKUP_NOT_READY"
    assert await local_backups.prune(tenant) == [failed.id]
    with pytest.raises(NotFound):
        await local_backups.create(str(uuid.uuid4()))


async def test_a_backup_that_does_not_fit_the_target_is_refused(local_backups, pool):
    source = await new_tenant(pool, plan="enterprise")
    await fill(pool, source, orders=3)
    async with pool.acquire() as c:
        await c.execute(
            f"""INSERT INTO {tenant_schema(source)}.audit_log (tenant_id, action, resource,
                    outcome) VALUES ($1, 'order.place', 'orders/1', 'success')""",
            uuid.UUID(source))
    record = await local_backups.create(source)
    target = await new_tenant(pool, plan="basic")  # no audit_log table
    await fill(pool, target, orders=2)
    target_rows = await snapshot(pool, target)
    with pytest.raises(FailedPrecondition) as refused:
        await local_backups.restore(source, record.id, target_tenant_id=target)
    assert refused.value.reason == "BACKUP_INCOMPATIBLE"
    assert await snapshot(pool, target) == target_rows


async def test_the_daily_schedule_backs_up_each_active_tenant_once(local_backups, pool,
                                                                    database_url, backup_dir):
    schedule = BackupService(pool, database_url,
                             _settings(backup_dir, master_key=MASTER,
                                       schedule=datetime.now(UTC).time().replace(
                                           tzinfo=UTC)),
                             local_backups.store)
    tenant = await new_tenant(pool)
    await fill(pool, tenant, orders=1)
    now = datetime.now(UTC) + timedelta(seconds=1)
    taken = await schedule.run_due(now)
    mine = [b for b in taken if b.tenant_id == tenant]
    assert len(mine) == 1 and mine[0].kind == "scheduled" and mine[0].state == "ready"
    assert [b for b in await schedule.run_due(now) if b.tenant_id == tenant] == []
    # Tomorrow's slot is due again.
    later = [b for b in await schedule.run_due(now + timedelta(days=1)) if b.tenant_id == tenant]
    assert len(later) == 1
    off = BackupService(pool, database_url, _settings(backup_dir, schedule=None),
                        local_backups.store)
    assert await off.run_due(now + timedelta(days=2)) == []
    await off.run_schedule()  # returns at once when the schedule is off


async def test_verify_reads_the_whole_archive(local_backups, pool):
    tenant = await new_tenant(pool)
    await fill(pool, tenant, orders=7)
    record = await local_backups.create(tenant)
    manifest = await local_backups.verify(tenant, record.id)
    latest = len(load_versions())
    assert {**manifest.to_json(), "template": "professional", "schema_version": latest} == (
        record.manifest)


async def test_a_missing_archive_is_refused(backups, pool):
    tenant = await new_tenant(pool)
    record = await backups.create(tenant)
    await backups.store.delete(object_key(tenant, record.id))
    with pytest.raises(BackupCorrupted, match="missing"):
        await backups.restore(tenant, record.id)


async def test_s3_multipart_upload_round_trip(s3_endpoint, backup_dir):
    store = S3ObjectStore(f"s3://{BUCKET}/multipart", endpoint_url=s3_endpoint,
                          region="us-east-1", spool_dir=backup_dir / "spool")
    blob = os.urandom(1 << 20) * 17 + b"tail"

    async def chunks():
        for start in range(0, len(blob), 3 << 20):
            yield blob[start:start + (3 << 20)]

    try:
        assert await store.put("big/object", chunks()) == len(blob)
        assert [(o.key, o.size) for o in await store.list("big/")] == [
            ("big/object", len(blob))]
        async with store.local_copy("big/object") as path:
            assert path.read_bytes() == blob
        await store.delete("big/object")
        assert await store.list("big/") == []
    finally:
        await store.close()


def test_libpq_target_keeps_the_password_off_the_command_line():
    from services.tenant.backup import libpq_target

    assert libpq_target("postgresql://postgres@/tradesage?host=/tmp/x%20y&port=5433") == (
        "postgresql://postgres@/tradesage?host=%2Ftmp%2Fx%20y&port=5433", {})
    assert libpq_target("postgresql://app:s%40cret@db.example:5432/trade?sslmode=require") == (
        "postgresql://app@db.example:5432/trade?sslmode=require", {"PGPASSWORD": "s@cret"})
    assert libpq_target("postgresql:///trade?password=pw&user=u") == (
        "postgresql:///trade?user=u", {"PGPASSWORD": "pw"})
    assert libpq_target("postgresql://us%40er:p@h/d")[0] == "postgresql://us%40er@h/d"


def test_settings_from_the_environment(tmp_path):
    from services.runtime.config import ConfigError
    from services.tenant.backup import parse_schedule

    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    settings = BackupSettings.from_env({"TRADESAGE_BACKUP_MASTER_KEY": key,
                                        "TRADESAGE_DATA_DIR": str(tmp_path)})
    assert settings.local_dir == tmp_path / "backups" and settings.s3_url == ""
    assert settings.schedule is not None and settings.schedule.hour == 3
    s3 = BackupSettings.from_env({"TRADESAGE_BACKUP_MASTER_KEY": key,
                                  "TRADESAGE_BACKUP_S3_URL": "s3://b/p",
                                  "TRADESAGE_BACKUP_SCHEDULE": "off"})
    assert s3.s3_url == "s3://b/p" and s3.schedule is None
    with pytest.raises(ConfigError):
        BackupSettings.from_env({})
    with pytest.raises(ConfigError):
        BackupSettings.from_env({"TRADESAGE_BACKUP_MASTER_KEY": key,
                                 "TRADESAGE_BACKUP_S3_URL": "http://x"})
    with pytest.raises(ConfigError):
        parse_schedule("25:00")
