"""Wiring of the trading service: engine, market feed, outbox relay, live updates.

One engine owns every tenant's books, so the service holds a PostgreSQL advisory lock while it
runs; a second replica waits on it as a hot standby (serving reads, refusing commands with
UNAVAILABLE so the mesh retries elsewhere) and takes over, loading the books from the database,
when the first stops. Environment:
  TRADESAGE_TRADING_HEARTBEAT_SECONDS: idle time before a stream sends a heartbeat (default 15).
"""

from __future__ import annotations

import os
from pathlib import Path

from tradesage.trading.v1 import trading_service_pb2, trading_service_pb2_grpc

from services.runtime.plans import TenantLimits
from services.runtime.server import Mounted, Resources, ServiceSpec
from services.trading.engine import Engine
from services.trading.market_feed import MarketFeed
from services.trading.outbox import OutboxRelay
from services.trading.servicer import TradingServicer
from services.trading.settlement import Outcome
from services.trading.store import ReferenceStore
from services.trading.updates import Updates, outcome_messages

ENGINE_LOCK = 0x7472616465  # "trade": the advisory lock of the one active engine


async def build(resources: Resources) -> Mounted:
    """Take the engine lock, then create the engine and the servicer around it."""
    pool = resources.db
    market = MarketFeed(resources.cache, resources.peers)
    updates, relay = Updates(resources.cache), OutboxRelay(pool, resources.cache)
    limits = TenantLimits(pool)

    async def committed(tenant: str, outcome: Outcome) -> None:
        if outcome.events or outcome.ledger:
            relay.wake(tenant)
        await updates.publish(outcome_messages(tenant, outcome))

    engine = Engine(pool, ReferenceStore(pool), limits, market, committed)
    servicer = TradingServicer(
        pool=pool, engine=engine, market=market, limits=limits, updates=updates, relay=relay,
        heartbeat_seconds=float(os.environ.get("TRADESAGE_TRADING_HEARTBEAT_SECONDS", "15")))

    async def run_engine() -> None:
        """Wait for the engine lock (a standby blocks here), then load the books and run."""
        async with pool.acquire() as owner:
            await owner.execute("SELECT pg_advisory_lock($1)", ENGINE_LOCK)
            await engine.load_all()
            engine.activate()
            await engine.catch_up()
            await engine.expire_due()

    return Mounted(
        servicers=[(trading_service_pb2_grpc.add_TradingServiceServicer_to_server, servicer)],
        service_names=[
            trading_service_pb2.DESCRIPTOR.services_by_name["TradingService"].full_name],
        background=[market.run, relay.run, run_engine])


SPEC = ServiceSpec(
    name="trading", build=build, needs_database=True, needs_redis=True,
    migrations=Path(__file__).with_name("migrations"))
