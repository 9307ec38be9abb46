"""The concurrent-session limit: who gets in, and whom the newcomer pushes out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from services.runtime.errors import ResourceExhausted


class LimitPolicy(Enum):
    """What a sign-in does when the user already holds the most sessions allowed."""

    REFUSE = "refuse"
    EVICT_OLDEST = "evict_oldest"


@dataclass(frozen=True, order=True)
class IndexEntry:
    """A live session as the per-user index holds it: created at, then id (sort order)."""

    create_time_ms: int
    id: str


def sessions_to_evict(live: Sequence[IndexEntry], max_sessions: int,
                      policy: LimitPolicy) -> list[str]:
    """Return the ids to revoke so one more session fits; fail if the policy is REFUSE.

    `max_sessions` 0 means unlimited. With EVICT_OLDEST the oldest sessions by creation time go
    first, as many as it takes to leave room for exactly one more.
    """
    if max_sessions <= 0 or len(live) < max_sessions:
        return []
    if policy is LimitPolicy.REFUSE:
        raise limit_reached(max_sessions)
    excess = len(live) - max_sessions + 1
    return [entry.id for entry in sorted(live)[:excess]]


def limit_reached(max_sessions: int) -> ResourceExhausted:
    """Return the error for a sign-in refused at the session limit."""
    return ResourceExhausted(
        f"the user already has the maximum of {max_sessions} sessions; sign out elsewhere first",
        reason="SESSION_LIMIT_REACHED", metadata={"maxSessions": str(max_sessions)})
