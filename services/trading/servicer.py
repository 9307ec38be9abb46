"""TradingService: the portfolio and order RPCs over one engine, market feed and stores."""

from __future__ import annotations

import asyncpg
from tradesage.trading.v1 import trading_service_pb2_grpc as api_grpc

from services.runtime.plans import TenantLimits
from services.trading.engine import Engine
from services.trading.market_feed import MarketFeed
from services.trading.order_rpcs import OrderRpcs
from services.trading.outbox import OutboxRelay
from services.trading.portfolio_rpcs import PortfolioRpcs
from services.trading.updates import Updates
from services.trading.valuation import Valuer


class TradingServicer(PortfolioRpcs, OrderRpcs, api_grpc.TradingServiceServicer):
    """Every RPC of TradingService; each acts only on the caller's own resources."""

    def __init__(self, *, pool: asyncpg.Pool, engine: Engine, market: MarketFeed,
                 limits: TenantLimits, updates: Updates, relay: OutboxRelay,
                 heartbeat_seconds: float) -> None:
        PortfolioRpcs.__init__(self, pool=pool, limits=limits, valuer=Valuer(market),
                               updates=updates, relay=relay, heartbeat_seconds=heartbeat_seconds)
        OrderRpcs.__init__(self, pool=pool, engine=engine, market=market, updates=updates,
                           heartbeat_seconds=heartbeat_seconds)
