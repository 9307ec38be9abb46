"""Settings of the session service, from the environment, failing fast on bad values.

  TRADESAGE_SESSION_TTL_SECONDS        sliding lifetime of a session (default 14 days)
  TRADESAGE_SESSION_HEARTBEAT_SECONDS  idle time before a stream sends a heartbeat (default 15)
  TRADESAGE_GEOIP_DB                   a MaxMind .mmdb file for coarse locations (default none)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.runtime.config import env_positive_int, env_seconds

DEFAULT_TTL_SECONDS = 14 * 24 * 3600
DEFAULT_HEARTBEAT_SECONDS = 15.0


@dataclass(frozen=True)
class SessionSettings:
    """How long sessions live, how often idle streams beat, where GeoIP data is."""

    ttl_seconds: int = DEFAULT_TTL_SECONDS
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS
    geoip_db: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SessionSettings:
        """Read the settings, raising ConfigError naming a malformed one."""
        env = os.environ if env is None else env
        return cls(
            ttl_seconds=env_positive_int(env, "TRADESAGE_SESSION_TTL_SECONDS", DEFAULT_TTL_SECONDS),
            heartbeat_seconds=env_seconds(
                env, "TRADESAGE_SESSION_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS),
            geoip_db=env.get("TRADESAGE_GEOIP_DB", ""),
        )
