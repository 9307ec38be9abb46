"""Token material: access-token claims, opaque refresh and one-time tokens, their hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """Who a token speaks for."""

    user_id: str
    tenant_id: str
    roles: tuple[str, ...]
    session_id: str


def access_claims(principal: Principal, issuer: str, audience: str, ttl: int,
                  now: float | None = None) -> dict[str, object]:
    """Return the claims of an access token for `principal`, valid for `ttl` seconds."""
    issued = int(now if now is not None else time.time())
    return {
        "iss": issuer, "aud": audience, "sub": principal.user_id,
        "tenant": principal.tenant_id, "roles": ",".join(principal.roles),
        "sid": principal.session_id, "jti": uuid.uuid4().hex,
        "iat": issued, "nbf": issued, "exp": issued + ttl,
    }


def new_opaque_token() -> str:
    """Return an unguessable token for a client to hold (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    """Return what is stored instead of the token: its SHA-256."""
    return hashlib.sha256(token.encode()).digest()
