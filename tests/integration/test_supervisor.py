"""`tradesage up` (what `make run` runs) starts everything, reports ready, stops cleanly."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

READY_LINE = re.compile(r"ready.*(http://127\.0\.0\.1:\d+)")


@pytest.fixture
def run_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="tradesage-up-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def start_up(data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "TRADESAGE_DATA_DIR": str(data_dir), "TRADESAGE_EDGE_PORT": "0"}
    return subprocess.Popen([sys.executable, "-m", "mesh.cli", "up"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_for_ready(process: subprocess.Popen[str], timeout: float = 120) -> tuple[str, str]:
    """Return the edge URL of the ready line, and everything printed up to it."""
    assert process.stdout is not None
    printed, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        printed.append(line)
        if match := READY_LINE.search(line):
            return match.group(1), "".join(printed)
    process.kill()
    raise AssertionError("no ready line:\n" + "".join(printed))


def started_processes(process: subprocess.Popen[str], data_dir: Path) -> list[psutil.Process]:
    """Return the supervisor's descendants plus the servers living in its data directory."""
    children = psutil.Process(process.pid).children(recursive=True)
    servers = [p for p in psutil.process_iter(["cmdline"])
               if str(data_dir) in " ".join(p.info["cmdline"] or ())]
    return list({p.pid: p for p in [*children, *servers]}.values())


@pytest.mark.timeout(240)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_up_reports_every_component_ready_and_stops_everything(
        run_dir: Path, stop_signal: signal.Signals) -> None:
    process = start_up(run_dir)
    url, printed = wait_for_ready(process)
    for component in ("postgres", "valkey", "auth", "trading-sidecar", "edge"):
        assert re.search(rf"^{component}\s.*\bready$", printed, re.MULTILINE), printed
    # A public route that reaches a service and its database through the whole mesh.
    assert httpx.get(f"{url}/.well-known/jwks.json", timeout=10).json()["keys"]

    started = started_processes(process, run_dir)
    assert len(started) >= 1 + 6 + 7  # stores, apps, sidecars and edge (plus PG workers)
    process.send_signal(stop_signal)
    assert process.wait(timeout=60) == 0
    _, alive = psutil.wait_procs(started, timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], alive


@pytest.mark.timeout(240)
def test_second_run_on_the_same_data_dir_is_refused(run_dir: Path) -> None:
    first = start_up(run_dir)
    try:
        wait_for_ready(first)
        second = start_up(run_dir)
        output, _ = second.communicate(timeout=60)
        assert second.returncode == 1
        assert "another TradeSage run is using" in output
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)


@pytest.mark.timeout(240)
def test_database_url_and_redis_url_switch_to_external_stores(run_dir: Path, mesh) -> None:
    # The session's mesh stands in for "external" servers; this run must start neither store.
    env = {**os.environ, "TRADESAGE_DATA_DIR": str(run_dir), "TRADESAGE_EDGE_PORT": "0",
           "DATABASE_URL": mesh.database_url, "REDIS_URL": mesh.redis_url}
    process = subprocess.Popen([sys.executable, "-m", "mesh.cli", "up"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url, printed = wait_for_ready(process)
        assert re.search(r"^postgres\s+store \(external\)", printed, re.MULTILINE), printed
        assert re.search(r"^valkey\s+store \(external\)", printed, re.MULTILINE), printed
        assert not (run_dir / "postgres").exists()
        assert not (run_dir / "valkey").exists()
        # The external stores really serve this run: its signing key is in the shared database.
        assert httpx.get(f"{url}/.well-known/jwks.json", timeout=10).json()["keys"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
