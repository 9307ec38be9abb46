"""Publish domain events on their Redis stream (format: `services/user/activity_consumer.py`)."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.user.domain.events import DomainEvent, stream_of, to_fields

log = logging.getLogger("tradesage.user.events")

# Streams are trimmed (approximately) to this many entries; consumers keep far behind that.
MAX_STREAM_LENGTH = 1_000_000


async def publish_event(redis: Redis, event: DomainEvent) -> bool:
    """Append `event` to `events:{domain}`; on a Redis failure log it and return False.

    Publishing follows the committed change it reports, so a failure here must not undo or
    fail that change.
    """
    try:
        await redis.xadd(stream_of(event.domain), to_fields(event),  # type: ignore[arg-type]
                         maxlen=MAX_STREAM_LENGTH, approximate=True)
    except RedisError as error:
        log.warning("domain event not published",
                    extra={"kind": event.kind, "event_id": event.event_id, "error": str(error)})
        return False
    return True
