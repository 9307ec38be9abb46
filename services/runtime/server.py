"""The one grpc.aio server bootstrap that every service runs.

Wiring only: configuration, logging, stores, the shared interceptor, health, reflection, and a
graceful stop on SIGTERM/SIGINT in which health turns NOT_SERVING first (so the sidecar and
load balancers drain the instance) and in-flight calls get `grace_seconds` to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from redis.asyncio import Redis

from services.runtime import logs
from services.runtime.authz import Authorizer
from services.runtime.cache import connect_redis
from services.runtime.config import ServiceConfig
from services.runtime.database import create_pool, migrate
from services.runtime.interceptors import CallInterceptor
from services.runtime.peers import Peers
from services.runtime.sessions import require_live_caller

log = logging.getLogger("tradesage.server")

PLATFORM_MIGRATIONS = Path(__file__).with_name("migrations")

AddServicer = Callable[[Any, grpc.aio.Server], None]


@dataclass
class Resources:
    """Clients a service's servicers are built with."""

    config: ServiceConfig
    peers: Peers
    pool: asyncpg.Pool | None = None
    redis: Redis | None = None

    @property
    def db(self) -> asyncpg.Pool:
        """Return the pool; only services declared `needs_database` may ask."""
        if self.pool is None:
            raise RuntimeError(f"{self.config.service} was not configured with a database")
        return self.pool

    @property
    def cache(self) -> Redis:
        """Return the Redis client; only services declared `needs_redis` may ask."""
        if self.redis is None:
            raise RuntimeError(f"{self.config.service} was not configured with Redis")
        return self.redis


@dataclass
class Mounted:
    """What a service puts on the server: servicers, and tasks that live as long as it."""

    servicers: Sequence[tuple[AddServicer, Any]]
    service_names: Sequence[str]
    background: Sequence[Callable[[], Awaitable[None]]] = field(default_factory=tuple)
    # Run after the server stopped, e.g. to close HTTP clients the servicers hold.
    cleanup: Sequence[Callable[[], Awaitable[None]]] = field(default_factory=tuple)


@dataclass(frozen=True)
class ServiceSpec:
    """How to build one domain service."""

    name: str
    build: Callable[[Resources], Awaitable[Mounted]]
    needs_database: bool = False
    needs_redis: bool = False
    migrations: Path | None = None


def run(spec: ServiceSpec) -> None:
    """Run `spec` until SIGTERM or SIGINT; the entry point of every `python -m services.X`."""
    config = ServiceConfig.from_env(
        spec.name, needs_database=spec.needs_database, needs_redis=spec.needs_redis)
    logs.configure(spec.name, config.log_level)
    asyncio.run(serve(spec, config))


async def serve(spec: ServiceSpec, config: ServiceConfig,
                stop_event: asyncio.Event | None = None) -> None:
    """Serve until `stop_event` is set or a stop signal arrives, then stop gracefully."""
    stop_event = stop_event or _signal_event()
    resources = await _open_resources(spec, config)
    session_check = (partial(require_live_caller, resources.redis)
                     if resources.redis is not None else None)
    server = grpc.aio.server(
        interceptors=[CallInterceptor(session_check, Authorizer(resources.redis))])
    try:
        mounted = await spec.build(resources)
        health_servicer = _mount(server, mounted)
        port = server.add_insecure_port(config.listen)
        await server.start()
        tasks = [asyncio.create_task(job()) for job in mounted.background]
        await _set_health(
            health_servicer, mounted.service_names, health_pb2.HealthCheckResponse.SERVING)
        log.info("serving", extra={"listen": config.listen, "port": port})
        await stop_event.wait()
        log.info("stopping", extra={"grace_seconds": config.grace_seconds})
        await _set_health(health_servicer, mounted.service_names,
                          health_pb2.HealthCheckResponse.NOT_SERVING)
        await server.stop(config.grace_seconds)
        await _cancel(tasks)
        for close in mounted.cleanup:
            await close()
    finally:
        await _close_resources(resources)
        log.info("stopped")


def _mount(server: grpc.aio.Server, mounted: Mounted) -> health.aio.HealthServicer:
    for add, servicer in mounted.servicers:
        add(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*mounted.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME), server)
    return health_servicer


async def _set_health(servicer: health.aio.HealthServicer, names: Sequence[str],
                      status: int) -> None:
    for name in ("", *names):
        await servicer.set(name, status)


async def _open_resources(spec: ServiceSpec, config: ServiceConfig) -> Resources:
    resources = Resources(config=config, peers=Peers(config.mesh_outbound))
    if spec.needs_database:
        resources.pool = await create_pool(config.database_url)
        await migrate(resources.pool, "platform", PLATFORM_MIGRATIONS)
        if spec.migrations is not None:
            applied = await migrate(resources.pool, spec.name, spec.migrations)
            if applied:
                log.info("migrations applied", extra={"versions": applied})
    if spec.needs_redis:
        resources.redis = await connect_redis(config.redis_url)
    return resources


async def _close_resources(resources: Resources) -> None:
    await resources.peers.close()
    if resources.redis is not None:
        await resources.redis.aclose()
    if resources.pool is not None:
        await resources.pool.close()


async def _cancel(tasks: Sequence[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _signal_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, event.set)
    return event
