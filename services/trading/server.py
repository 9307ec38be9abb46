"""Wiring of the trading service."""

from __future__ import annotations

from pathlib import Path

from tradesage.trading.v1 import trading_service_pb2, trading_service_pb2_grpc

from services.runtime.server import Mounted, Resources, ServiceSpec
from services.trading.servicer import TradingServicer
from services.trading.store import FeeStore


async def build(resources: Resources) -> Mounted:
    """Create the servicer over the trading tables and the market peer."""
    return Mounted(
        servicers=[(trading_service_pb2_grpc.add_TradingServiceServicer_to_server,
                    TradingServicer(FeeStore(resources.db), resources.peers))],
        service_names=[
            trading_service_pb2.DESCRIPTOR.services_by_name["TradingService"].full_name],
    )


SPEC = ServiceSpec(
    name="trading", build=build, needs_database=True, needs_redis=True,
    migrations=Path(__file__).with_name("migrations"))
