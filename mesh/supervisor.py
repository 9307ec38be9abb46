"""Bring up the whole mesh on one machine and take it down again.

Order: PKI, stores (embedded PostgreSQL and Valkey unless DATABASE_URL / REDIS_URL point
elsewhere), apps, their sidecars, then the edge; each is waited on until healthy. Stop runs in
reverse so that traffic drains before the servers behind it go away.
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import json
import logging
import os
import socket
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from edge.envoy_edge import edge_config
from mesh.embedded import EmbeddedPostgres, EmbeddedValkey
from mesh.pki import Pki, ensure_pki
from mesh.plan import PortPlan, allocate
from mesh.ports import free_port
from mesh.processes import ChildProcess, child_environment
from mesh.sidecar import sidecar_config
from mesh.topology import EDGE, Topology, load

log = logging.getLogger("tradesage.supervisor")

READY_TIMEOUT = 90.0
RUN_FILE = "run.json"


def data_dir_from_env() -> Path:
    """Return the data directory: TRADESAGE_DATA_DIR, default `.tradesage/`."""
    return Path(os.environ.get("TRADESAGE_DATA_DIR", ".tradesage")).resolve()


@dataclass
class Component:
    """One row of the status table."""

    name: str
    kind: str
    address: str
    state: str = "starting"


@dataclass
class Mesh:
    """A running TradeSage: stores, apps, sidecars and edge of one data directory."""

    data_dir: Path
    topology: Topology = field(default_factory=load)
    edge_port: int = 8080
    database_url: str = ""
    redis_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    plan: PortPlan | None = None
    pki: Pki | None = None
    components: dict[str, Component] = field(default_factory=dict)
    _children: dict[str, ChildProcess] = field(default_factory=dict)
    _postgres: EmbeddedPostgres | None = None
    _valkey: EmbeddedValkey | None = None
    _lock_file: IO[str] | None = None

    @property
    def edge_url(self) -> str:
        """Return the base URL of the REST edge."""
        assert self.plan is not None, "mesh not started"
        return f"http://{self.plan.host}:{self.plan.edge}"

    async def start(self) -> None:
        """Start every component and wait until each is healthy; stop all on failure."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_data_dir()
        self.pki = ensure_pki(self.data_dir / "pki", (*self.topology.names, EDGE),
                              self.topology.trust_domain)
        await self._start_stores()
        self.plan = allocate(self.topology, _usable_port(self.edge_port))
        self._write_proxy_configs()
        for service in self.topology.services:
            await self._start_app(service.name)
        await self._wait_all([self._app_ready(s.name) for s in self.topology.services])
        for name in (*self.topology.names, EDGE):
            await self._start_proxy(name)
        await self._wait_all([self._proxy_ready(n) for n in (*self.topology.names, EDGE)])
        await self._wait_all([self._edge_serves()])
        self._write_run_file()

    async def stop(self) -> None:
        """Stop everything this mesh started, edge first, stores last."""
        order = [EDGE, *(f"{n}-sidecar" for n in self.topology.names), *self.topology.names]
        for name in order:
            child = self._children.pop(name, None)
            if child is not None:
                await child.stop(timeout=15.0)
                self._set_state(name, "stopped")
        if self._valkey is not None:
            await asyncio.to_thread(self._valkey.stop)
            self._set_state("valkey", "stopped")
        if self._postgres is not None:
            await asyncio.to_thread(self._postgres.stop)
            self._set_state("postgres", "stopped")
        (self.data_dir / RUN_FILE).unlink(missing_ok=True)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _write_run_file(self) -> None:
        # Where this run's parts listen, for commands such as `tradesage outbox`.
        run_file = self.data_dir / RUN_FILE
        run_file.touch(mode=0o600)
        run_file.write_text(json.dumps({
            "pid": os.getpid(), "edge_url": self.edge_url,
            "database_url": self.database_url, "redis_url": self.redis_url}))

    def _lock_data_dir(self) -> None:
        # Two runs on one data directory would stop each other's stores: refuse the second.
        self._lock_file = (self.data_dir / ".lock").open("w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            self._lock_file = None
            raise RuntimeError(f"another TradeSage run is using {self.data_dir}") from None

    def pids(self) -> list[int]:
        """Return the pids of every process this mesh started (for leak checks)."""
        pids = [c.pid for c in self._children.values() if c.pid]
        for store in (self._postgres, self._valkey):
            if store is not None and store.pid:
                pids.append(store.pid)
        return pids

    def status_table(self) -> str:
        """Return the components as an aligned table: name, kind, address, state."""
        rows = [("COMPONENT", "KIND", "ADDRESS", "STATE")] + [
            (c.name, c.kind, c.address, c.state) for c in self.components.values()]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  " + row[3] for row in rows)

    async def crash_and_restart(self, name: str) -> None:
        """Kill an app with SIGKILL (no chance to clean up), start it again, wait until ready.

        For recovery checks: whatever the app acknowledged before it died must survive.
        """
        child = self._children[name]
        assert child.process is not None
        child.process.kill()
        await child.process.wait()
        self._set_state(name, "restarting")
        await child.start()
        await self._app_ready(name)

    async def watch(self) -> None:
        """Restart any app or proxy that exits unexpectedly, until cancelled."""
        while True:
            await asyncio.sleep(1.0)
            for name, child in list(self._children.items()):
                if not child.running and name in self._children:
                    log.warning("%s exited with %s; restarting", name, child.process.returncode)
                    self._set_state(name, "restarting")
                    await child.start()
                    self._set_state(name, "ready")

    async def _start_stores(self) -> None:
        if self.database_url:
            self.components["postgres"] = Component("postgres", "store (external)",
                                                    _redact(self.database_url), "ready")
        else:
            self._postgres = EmbeddedPostgres(self.data_dir)
            self.database_url = await asyncio.to_thread(self._postgres.start)
            self.components["postgres"] = Component(
                "postgres", "store", f"pid {self._postgres.pid}", "ready")
        if self.redis_url:
            self.components["valkey"] = Component("valkey", "store (external)",
                                                  _redact(self.redis_url), "ready")
        else:
            self._valkey = EmbeddedValkey(self.data_dir, free_port())
            self.redis_url = await asyncio.to_thread(self._valkey.start)
            self.components["valkey"] = Component("valkey", "store", self.redis_url, "ready")

    def _write_proxy_configs(self) -> None:
        assert self.plan is not None and self.pki is not None
        directory = self.data_dir / "envoy"
        directory.mkdir(exist_ok=True)
        configs = {name: sidecar_config(self.topology, self.plan, self.pki, name)
                   for name in self.topology.names}
        configs[EDGE] = edge_config(self.topology, self.plan, self.pki)
        for name, config in configs.items():
            (directory / f"{name}.json").write_text(json.dumps(config, indent=1))

    async def _start_app(self, name: str) -> None:
        assert self.plan is not None
        ports, service = self.plan.of(name), self.topology.service(name)
        env = {
            "TRADESAGE_LISTEN": f"127.0.0.1:{ports.app}",
            "TRADESAGE_MESH_OUTBOUND": f"127.0.0.1:{ports.outbound}",
            "TRADESAGE_DATA_DIR": str(self.data_dir),
            "TRADESAGE_TOKEN_ISSUER": self.topology.edge["jwt"]["issuer"],
            "TRADESAGE_TOKEN_AUDIENCE": self.topology.edge["jwt"]["audience"],
            **{name: self._secret(name) for name in service.secrets},
            **({"DATABASE_URL": self.database_url} if "postgres" in service.stores else {}),
            **({"REDIS_URL": self.redis_url} if "redis" in service.stores else {}),
            **self.extra_env,
        }
        child = ChildProcess(name, [sys.executable, "-m", f"services.{name}"],
                             self.data_dir / "logs" / f"{name}.log", child_environment(env))
        self.components[name] = Component(name, "app", f"127.0.0.1:{ports.app}")
        self._children[name] = child
        await child.start()

    def _secret(self, name: str) -> str:
        """Return a per-data-directory secret, made on first use (or taken from the env).

        Every secret is 32 random bytes in base64url, the form the services decode.
        """
        if value := os.environ.get(name):
            return value
        path = self.data_dir / "secrets" / name
        if not path.exists():
            path.parent.mkdir(mode=0o700, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))
        return path.read_text().strip()

    async def _start_proxy(self, name: str) -> None:
        assert self.plan is not None
        is_edge = name == EDGE
        key = name if is_edge else f"{name}-sidecar"
        argv = [
            str(Path(sys.executable).with_name("envoy")),
            "-c", str(self.data_dir / "envoy" / f"{name}.json"),
            "--disable-hot-restart", "--log-level", "warning",
            "--concurrency", "2" if is_edge else "1",
        ]
        child = ChildProcess(key, argv, self.data_dir / "logs" / f"envoy-{name}.log")
        if is_edge:
            address = self.edge_url
        else:
            ports = self.plan.of(name)
            address = f"in {self.plan.host}:{ports.inbound} (mTLS), out 127.0.0.1:{ports.outbound}"
        self.components[key] = Component(key, "edge proxy" if is_edge else "sidecar", address)
        self._children[key] = child
        await child.start()

    async def _app_ready(self, name: str) -> None:
        assert self.plan is not None
        await _until(lambda: _grpc_serving(f"127.0.0.1:{self.plan.of(name).app}"),
                     self._children[name])
        self._set_state(name, "ready")

    async def _proxy_ready(self, name: str) -> None:
        assert self.plan is not None
        key = name if name == EDGE else f"{name}-sidecar"
        admin = self.plan.edge_admin if name == EDGE else self.plan.of(name).admin
        await _until(lambda: _http_ok(f"http://127.0.0.1:{admin}/ready"), self._children[key])
        self._set_state(key, "ready")

    async def _edge_serves(self) -> None:
        await _until(lambda: _http_ok(f"{self.edge_url}/api/v1/openapi.json"),
                     self._children[EDGE])

    async def _wait_all(self, waits: list[Awaitable[None]]) -> None:
        await asyncio.gather(*waits)

    def _set_state(self, name: str, state: str) -> None:
        if name in self.components:
            self.components[name].state = state


async def _until(check: Callable[[], Awaitable[bool]], child: ChildProcess) -> None:
    """Poll `check` until true; fail early with the log tail if `child` dies."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if not child.running:
            raise RuntimeError(f"{child.name} exited during start-up:\n{child.log_tail()}")
        if await check():
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{child.name} not ready after {READY_TIMEOUT}s:\n{child.log_tail()}")


async def _grpc_serving(address: str) -> bool:
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1.0)
        except grpc.aio.AioRpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


async def _http_ok(url: str) -> bool:
    def fetch() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                return response.status == 200
        except OSError:
            return False
    return await asyncio.to_thread(fetch)


def _usable_port(port: int) -> int:
    """Return `port` if it is free (0 stays 0: pick any), else 0 so a free one is picked."""
    if port == 0:
        return 0
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            log.warning("port %d is taken; the edge will listen on a free port", port)
            return 0
    return port


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
