"""Wiring of the market data service, with its simulated venue feed."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from redis.exceptions import RedisError
from tradesage.market.v1 import market_service_pb2

from services.market.domain.quotes import SimulatedVenue
from services.market.history import HistoryStore, background_jobs
from services.market.hub import QuoteHub
from services.market.replay import replay_job
from services.market.servicer import MarketDataServicer, add_to_server
from services.market.store import InstrumentStore, QuoteBook
from services.runtime.plans import TenantLimits
from services.runtime.server import Mounted, Resources, ServiceSpec

log = logging.getLogger("tradesage.market")

# TRADESAGE_MARKET_FEED: "simulated" (default), "replay" (a CSV file, see replay.py) or "off"
# (e.g. for replicas that only serve). History settings: see history.background_jobs.
# TRADESAGE_MARKET_TICK_SECONDS: time between simulated ticks (default 0.25).
# TRADESAGE_MARKET_HEARTBEAT_SECONDS: idle time before a stream sends a heartbeat (default 15).


async def build(resources: Resources) -> Mounted:
    """Create the servicer, the pub/sub hub and (unless disabled) the simulated feed."""
    instruments = InstrumentStore(resources.db)
    catalogue = await instruments.list(limit=10_000)
    quotes, hub = QuoteBook(resources.cache), QuoteHub(resources.cache)
    history = HistoryStore(resources.db)
    servicer = MarketDataServicer(
        instruments, quotes, hub, {i.symbol for i in catalogue},
        heartbeat_seconds=float(os.environ.get("TRADESAGE_MARKET_HEARTBEAT_SECONDS", "15")),
        limits=TenantLimits(resources.db), history=history, catalogue=catalogue)
    background: list[Callable[[], Awaitable[None]]] = [hub.run]
    feed = os.environ.get("TRADESAGE_MARKET_FEED", "simulated")
    if feed == "simulated":
        tick = float(os.environ.get("TRADESAGE_MARKET_TICK_SECONDS", "0.25"))
        venue = SimulatedVenue(catalogue, seed=int(os.environ.get("TRADESAGE_MARKET_SEED", "7")))
        background.append(lambda: _run_feed(venue, quotes, tick))
    elif feed == "replay":
        background.append(replay_job({i.symbol for i in catalogue}, quotes.publish))
    background += background_jobs(history, resources.db, resources.cache)
    return Mounted(
        servicers=[(add_to_server, servicer)],
        service_names=[
            market_service_pb2.DESCRIPTOR.services_by_name["MarketDataService"].full_name],
        background=background,
    )


async def _run_feed(venue: SimulatedVenue, quotes: QuoteBook, tick_seconds: float) -> None:
    """Publish a tick of every symbol each `tick_seconds`, until cancelled."""
    while True:
        try:
            await quotes.publish(venue.tick(int(time.time() * 1000)))
        except RedisError as error:  # Redis restarting: keep ticking once it is back
            log.warning("feed publish failed", extra={"error": str(error)})
        await asyncio.sleep(tick_seconds)


SPEC = ServiceSpec(
    name="market", build=build, needs_database=True, needs_redis=True,
    migrations=Path(__file__).with_name("migrations"))
