"""Service configuration from the environment, failing fast on what is missing.

Variables (the supervisor sets them in the embedded default):
  TRADESAGE_LISTEN           address the app binds; loopback only, its sidecar fronts it
  TRADESAGE_MESH_OUTBOUND    the app's own sidecar outbound listener, for calls to peers
  DATABASE_URL, REDIS_URL    the stores (required by services that use them)
  TRADESAGE_GRACE_SECONDS    how long in-flight calls may finish on SIGTERM (default 10)
  TRADESAGE_LOG_LEVEL        logging level (default INFO)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class ServiceConfig:
    """What every service process needs to start."""

    service: str
    listen: str
    mesh_outbound: str
    database_url: str
    redis_url: str
    grace_seconds: float
    log_level: str

    @classmethod
    def from_env(
        cls,
        service: str,
        *,
        needs_database: bool,
        needs_redis: bool,
        env: Mapping[str, str] | None = None,
    ) -> ServiceConfig:
        """Read the settings of `service`, raising ConfigError naming any that are missing."""
        env = os.environ if env is None else env
        missing = [
            name
            for name, needed in (
                ("TRADESAGE_LISTEN", True),
                ("DATABASE_URL", needs_database),
                ("REDIS_URL", needs_redis),
            )
            if needed and not env.get(name)
        ]
        if missing:
            raise ConfigError(f"{service}: missing environment variables: {', '.join(missing)}")
        grace = env_seconds(env, "TRADESAGE_GRACE_SECONDS", 10.0, allow_zero=True)
        return cls(
            service=service,
            listen=env["TRADESAGE_LISTEN"],
            mesh_outbound=env.get("TRADESAGE_MESH_OUTBOUND", ""),
            database_url=env.get("DATABASE_URL", ""),
            redis_url=env.get("REDIS_URL", ""),
            grace_seconds=grace,
            log_level=env.get("TRADESAGE_LOG_LEVEL", "INFO").upper(),
        )


def env_seconds(env: Mapping[str, str], name: str, default: float, *,
                allow_zero: bool = False) -> float:
    """Read a duration in seconds, failing fast on anything but a finite positive number."""
    raw = env.get(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ConfigError(f"{name} must be a {kind} number of seconds, not {raw!r}")
    return value


def env_positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    """Read a whole number greater than zero, failing fast otherwise."""
    raw = env.get(name, str(default))
    if not raw.strip().isdigit() or int(raw) <= 0:
        raise ConfigError(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)
