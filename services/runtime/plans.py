"""Tenant plans and their limits, read by every service that enforces one.

A tenant's limits are its plan's defaults overridden by whatever was set on the tenant; a
limit of 0 means unlimited. Reads are cached briefly: a changed limit applies within seconds.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, fields, replace

import asyncpg

from services.runtime.errors import ResourceExhausted

CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Limits:
    """What a tenant may use; 0 is unlimited."""

    max_users: int = 0
    max_portfolios: int = 0
    max_open_orders: int = 0
    max_requests_per_minute: int = 0
    max_subscription_symbols: int = 0
    max_storage_bytes: int = 0
    max_backups: int = 0
    max_orders_per_day: int = 0
    max_sessions: int = 0

    def with_overrides(self, overrides: dict[str, int]) -> Limits:
        """Return these limits with the set (non-zero) overrides applied."""
        known = {f.name for f in fields(self)}
        return replace(self, **{k: int(v) for k, v in overrides.items() if k in known and v})

    def as_dict(self) -> dict[str, int]:
        """Return the limits by field name."""
        return asdict(self)


PLAN_LIMITS = {
    "basic": Limits(max_users=5, max_portfolios=10, max_open_orders=50,
                    max_requests_per_minute=600, max_subscription_symbols=20,
                    max_storage_bytes=1 << 30, max_backups=7, max_orders_per_day=500,
                    max_sessions=3),
    "professional": Limits(max_users=50, max_portfolios=200, max_open_orders=500,
                           max_requests_per_minute=3000, max_subscription_symbols=100,
                           max_storage_bytes=20 << 30, max_backups=30,
                           max_orders_per_day=10_000, max_sessions=10),
    "enterprise": Limits(max_users=0, max_portfolios=0, max_open_orders=5000,
                         max_requests_per_minute=20_000, max_subscription_symbols=500,
                         max_storage_bytes=0, max_backups=90, max_orders_per_day=0,
                         max_sessions=50),
}


def check_limit(limits: Limits, name: str, in_use: int, adding: int = 1) -> None:
    """Fail with RESOURCE_EXHAUSTED naming the limit if `adding` more would exceed it."""
    limit = getattr(limits, name)
    if limit and in_use + adding > limit:
        raise ResourceExhausted(
            f"the tenant's plan allows {limit} ({name}); {in_use} in use",
            reason="PLAN_LIMIT_EXCEEDED",
            metadata={"limit": name, "limitValue": str(limit), "inUse": str(in_use)})


class TenantLimits:
    """Read tenants' effective limits from `platform.tenants`, briefly cached."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._cache: dict[str, tuple[float, str, Limits]] = {}

    async def of(self, tenant_id: str) -> Limits:
        """Return the tenant's limits (the basic plan's if it is unknown)."""
        return (await self.plan_and_limits(tenant_id))[1]

    async def plan_and_limits(self, tenant_id: str) -> tuple[str, Limits]:
        """Return the tenant's plan name and effective limits (basic if it is unknown)."""
        cached = self._cache.get(tenant_id)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1], cached[2]
        row = await self._pool.fetchrow(
            "SELECT plan, limits FROM platform.tenants WHERE id = $1", uuid.UUID(tenant_id))
        plan, limits = "basic", PLAN_LIMITS["basic"]
        if row is not None:
            overrides = row["limits"] if isinstance(row["limits"], dict) else json.loads(
                row["limits"] or "{}")
            plan, limits = row["plan"], PLAN_LIMITS[row["plan"]].with_overrides(overrides)
        self._cache[tenant_id] = (time.monotonic(), plan, limits)
        return plan, limits
