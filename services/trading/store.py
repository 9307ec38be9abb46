"""Trading reference data in PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncpg

from services.trading.domain.preview import FeeSchedule


class FeeStore:
    """Reads commission schedules."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def for_plan(self, plan: str) -> FeeSchedule:
        """Return the schedule of a tenant plan."""
        row = await self._pool.fetchrow(
            "SELECT rate_bps, minimum_fee, currency_code FROM trading.fee_schedules"
            " WHERE plan = $1", plan)
        if row is None:
            raise LookupError(f"no fee schedule for plan {plan}")
        return FeeSchedule(row["rate_bps"], row["minimum_fee"], row["currency_code"])
