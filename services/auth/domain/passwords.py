"""Password hashing with argon2id at OWASP parameters."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP password storage cheat sheet: argon2id, m=19 MiB, t=2, p=1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the account does not exist, so timing does not reveal which emails exist.
_DUMMY_HASH = HASHER.hash("not-a-real-password-0")


def hash_password(password: str) -> str:
    """Return the encoded argon2id hash of `password`."""
    return HASHER.hash(password)


def verify_password(encoded: str | None, password: str) -> bool:
    """Return whether `password` matches `encoded` (always spends one verification)."""
    try:
        return HASHER.verify(encoded or _DUMMY_HASH, password) and encoded is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(encoded: str) -> bool:
    """Return whether `encoded` was made with other parameters than today's."""
    return HASHER.check_needs_rehash(encoded)
