"""PKCE (RFC 7636) and the other one-time values of an OIDC sign-in: state and nonce."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

MIN_VERIFIER_LENGTH = 43
MAX_VERIFIER_LENGTH = 128
# RFC 7636 §4.1: unreserved URI characters only.
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
# 32 random octets is the RFC's recommendation (§4.1); 48 gives a 64-character verifier.
DEFAULT_VERIFIER_BYTES = 48
# State and nonce only need to be unguessable, not long: 256 bits each.
_TOKEN_BYTES = 32


def new_code_verifier(entropy_bytes: int = DEFAULT_VERIFIER_BYTES) -> str:
    """Return a fresh code verifier made of `entropy_bytes` random octets, base64url-encoded."""
    # base64url of 32..96 octets is 43..128 characters, exactly the range §4.1 allows.
    if not 32 <= entropy_bytes <= 96:
        raise ValueError("a code verifier needs between 32 and 96 random octets")
    return secrets.token_urlsafe(entropy_bytes)


def is_valid_verifier(verifier: str) -> bool:
    """Return whether `verifier` has the length and alphabet RFC 7636 §4.1 requires."""
    return bool(_VERIFIER.match(verifier))


def s256_challenge(verifier: str) -> str:
    """Return the S256 code challenge of `verifier`: base64url(SHA-256(verifier)), unpadded."""
    if not is_valid_verifier(verifier):
        raise ValueError("not a valid PKCE code verifier")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verifier_matches(verifier: str, challenge: str) -> bool:
    """Return whether `verifier` hashes to the S256 `challenge`, in constant time."""
    if not is_valid_verifier(verifier):
        return False
    # Bytes, not str: compare_digest refuses non-ASCII text, and a challenge may be anything.
    return hmac.compare_digest(s256_challenge(verifier).encode(), challenge.encode())


def new_state() -> str:
    """Return an unguessable state value binding the provider's redirect to our sign-in."""
    return secrets.token_urlsafe(_TOKEN_BYTES)


def new_nonce() -> str:
    """Return an unguessable nonce binding the id_token to our sign-in."""
    return secrets.token_urlsafe(_TOKEN_BYTES)
