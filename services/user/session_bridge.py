"""Turn the session service's pub/sub notices of ended sessions into `session.revoked` events.

The session service announces every session change on `session-events:{user}` (pub/sub, not a
stream). Sign-ins, sign-outs and password resets already arrive from the auth service with more
detail; the other ways a session ends (revoked from another device or by an admin, evicted by
the plan's limit, ended for refresh-token reuse) are republished here on `events:session`, with
the session event's id as event id. Every replica bridges every notice; the consumer records
each event id once. Pub/sub is not durable: notices sent while no replica listens are missed.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime

from redis.asyncio import Redis

from services.runtime.pubsub import follow_pattern
from services.user.domain.events import DomainEvent, new_event
from services.user.event_streams import publish_event

log = logging.getLogger("tradesage.user.sessions")

CHANNEL_PATTERN = "session-events:*"
# `logout` (also how auth ends a session whose refresh token came back) and `password_reset`
# come from the auth service's own events.
BRIDGED_REASONS = frozenset({"revoked_by_user", "revoked_by_admin", "evicted",
                             "refresh_token_reuse"})


def event_of_notice(payload: str | bytes) -> DomainEvent | None:
    """Return the `session.revoked` event of a session notice, or None if not bridged."""
    try:
        body = json.loads(payload)
        session = body["session"]
        if body["type"] != "revoked" or body["reason"] not in BRIDGED_REASONS:
            return None
        return new_event(
            "session.revoked", str(uuid.UUID(session["tenant_id"])),
            str(uuid.UUID(session["user_id"])),
            {"reason": body["reason"], "sessionId": session["id"],
             "ipAddress": session.get("ip_address", ""),
             "userAgent": session.get("user_agent", "")},
            time=datetime.fromtimestamp(int(body["event_time_ms"]) / 1000, UTC),
            event_id=str(uuid.UUID(body["event_id"])))
    except (ValueError, KeyError, TypeError) as error:
        log.warning("unreadable session notice skipped", extra={"error": str(error)})
        return None


class SessionBridge:
    """Listen to every user's session notices and republish the bridged ones."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def run(self) -> None:
        """Bridge until cancelled, reconnecting after Redis failures."""
        await follow_pattern(self._redis, CHANNEL_PATTERN, self._bridge)

    async def _bridge(self, notice: str) -> None:
        event = event_of_notice(notice)
        if event is not None:
            await publish_event(self._redis, event)
