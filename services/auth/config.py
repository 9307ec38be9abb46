"""Auth settings from the environment (the supervisor sets the secrets in the embedded default).

  TRADESAGE_AUTH_MASTER_KEY     base64url of 32 random bytes; encrypts signing keys and TOTP
                                secrets at rest (required)
  TRADESAGE_TOKEN_ISSUER        `iss` of access tokens (default https://tradesage.local)
  TRADESAGE_TOKEN_AUDIENCE      `aud` of access tokens (default tradesage-api)
  TRADESAGE_ACCESS_TOKEN_TTL    seconds (default 900)
  TRADESAGE_REFRESH_TOKEN_TTL   seconds (default 30 days)
  TRADESAGE_KEY_ROTATION        seconds a signing key signs before the next one takes over
                                (default 1 day)
  TRADESAGE_JWKS_PUBLISH_LEAD   seconds a new key is published before it signs; must exceed
                                the edge's JWKS cache time (default 120)
  TRADESAGE_LOCKOUT_THRESHOLD   failed logins in a row that lock an account (default 5)
  TRADESAGE_LOCKOUT_SECONDS     how long the lock lasts (default 900)
  TRADESAGE_REQUIRE_VERIFIED_EMAIL  "false" lets unverified users sign in (default true)
  TRADESAGE_SESSION_LIMIT_POLICY    at the plan's session limit: evict_oldest (default) or
                                    refuse the new sign-in
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.runtime.config import ConfigError

MASTER_KEY_VARIABLE = "TRADESAGE_AUTH_MASTER_KEY"


@dataclass(frozen=True)
class AuthSettings:
    """Token lifetimes, key rotation and login protection."""

    master_key: bytes
    issuer: str = "https://tradesage.local"
    audience: str = "tradesage-api"
    access_ttl: int = 900
    refresh_ttl: int = 30 * 24 * 3600
    key_rotation: int = 24 * 3600
    publish_lead: int = 120
    lockout_threshold: int = 5
    lockout_seconds: int = 900
    require_verified_email: bool = True
    verify_email_ttl: int = 24 * 3600
    reset_password_ttl: int = 3600
    session_limit_policy: str = "evict_oldest"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthSettings:
        """Read the settings, failing fast on a missing or malformed master key."""
        env = os.environ if env is None else env
        numbers = {
            field: int(env[variable])
            for field, variable in (
                ("access_ttl", "TRADESAGE_ACCESS_TOKEN_TTL"),
                ("refresh_ttl", "TRADESAGE_REFRESH_TOKEN_TTL"),
                ("key_rotation", "TRADESAGE_KEY_ROTATION"),
                ("publish_lead", "TRADESAGE_JWKS_PUBLISH_LEAD"),
                ("lockout_threshold", "TRADESAGE_LOCKOUT_THRESHOLD"),
                ("lockout_seconds", "TRADESAGE_LOCKOUT_SECONDS"),
            )
            if variable in env
        }
        return cls(
            master_key=decode_master_key(env.get(MASTER_KEY_VARIABLE, "")),
            issuer=env.get("TRADESAGE_TOKEN_ISSUER", cls.issuer),
            audience=env.get("TRADESAGE_TOKEN_AUDIENCE", cls.audience),
            require_verified_email=env.get("TRADESAGE_REQUIRE_VERIFIED_EMAIL", "true") != "false",
            session_limit_policy=_limit_policy(env.get("TRADESAGE_SESSION_LIMIT_POLICY")),
            **numbers,
        )


def _limit_policy(raw: str | None) -> str:
    policy = raw or "evict_oldest"
    if policy not in ("evict_oldest", "refuse"):
        raise ConfigError("TRADESAGE_SESSION_LIMIT_POLICY must be evict_oldest or refuse")
    return policy


def decode_master_key(raw: str) -> bytes:
    """Return the 32-byte master key from its base64url form."""
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ConfigError(f"{MASTER_KEY_VARIABLE} must be base64url of 32 random bytes")
    return key

