"""Settings of the user service, from the environment, failing fast on bad values.

  TRADESAGE_USER_HEARTBEAT_SECONDS       idle time before a preference stream sends a heartbeat
                                         (default 15)
  TRADESAGE_ACTIVITY_CONSUMER            this replica's name in the `user-activity` consumer
                                         group (default `<hostname>-<pid>`); a stable name lets
                                         a restarted replica finish its own pending entries at once
  TRADESAGE_ACTIVITY_CLAIM_IDLE_SECONDS  how long an entry stays unacknowledged before another
                                         replica takes it over (default 30)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.runtime.config import env_seconds
from services.user.activity_consumer import ConsumerSettings, default_consumer_name

DEFAULT_HEARTBEAT_SECONDS = 15.0
DEFAULT_CLAIM_IDLE_SECONDS = 30.0


@dataclass(frozen=True)
class UserSettings:
    """How often idle streams beat, and how the activity consumer reads the event streams."""

    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS
    consumer: ConsumerSettings = field(default_factory=ConsumerSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UserSettings:
        """Read the settings, raising ConfigError naming a malformed one."""
        env = os.environ if env is None else env
        claim_idle = env_seconds(env, "TRADESAGE_ACTIVITY_CLAIM_IDLE_SECONDS",
                                       DEFAULT_CLAIM_IDLE_SECONDS)
        return cls(
            heartbeat_seconds=env_seconds(env, "TRADESAGE_USER_HEARTBEAT_SECONDS",
                                                DEFAULT_HEARTBEAT_SECONDS),
            consumer=ConsumerSettings(
                consumer=env.get("TRADESAGE_ACTIVITY_CONSUMER") or default_consumer_name(),
                claim_idle_ms=int(claim_idle * 1000)),
        )
