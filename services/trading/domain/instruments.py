"""What trading needs to know of an instrument: its price and quantity grid and its hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Instrument:
    """A tradable symbol as the market data service describes it."""

    symbol: str
    tick_size: Decimal
    lot_size: Decimal
    currency_code: str
    halted: bool = False
    always_open: bool = True
    time_zone: str = "UTC"
    close_time: str = "00:00"
    iso_weekdays: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)

    def day_order_expiry(self, now: datetime) -> datetime:
        """Return when a day order placed at `now` expires: the end of its trading day.

        Around-the-clock instruments end their day at midnight UTC. Others expire at the next
        session close, on a trading weekday, in the instrument's time zone (the paper venue
        trades outside hours too, so an order placed after the close lives to the next one).
        """
        if self.always_open:
            return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0),
                                    tzinfo=UTC)
        zone = ZoneInfo(self.time_zone)
        local = now.astimezone(zone)
        hour, minute = (int(part) for part in self.close_time.split(":"))
        day: date = local.date()
        for _ in range(8):
            close = datetime.combine(day, time(hour, minute), tzinfo=zone)
            if close > local and day.isoweekday() in self.iso_weekdays:
                return close.astimezone(UTC)
            day += timedelta(days=1)
        return (local + timedelta(days=1)).astimezone(UTC)
