"""TOTP second factor (RFC 6238) with single-use recovery codes."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import asyncpg
import pyotp

from services.auth.secret_box import SecretBox
from services.runtime.errors import FailedPrecondition, Unauthenticated

ISSUER_NAME = "TradeSage"
RECOVERY_CODES = 10
_STEP = 30


@dataclass(frozen=True)
class Enrollment:
    """A secret for the user's authenticator app, not yet confirmed."""

    secret: str
    otpauth_uri: str


class MfaService:
    """Enrol, confirm, check and remove a user's TOTP factor."""

    def __init__(self, pool: asyncpg.Pool, box: SecretBox) -> None:
        self._pool = pool
        self._box = box

    async def enabled(self, user_id: str) -> bool:
        """Return whether the user must give a second factor."""
        return bool(await self._pool.fetchval(
            "SELECT enabled FROM auth.mfa WHERE user_id = $1", uuid.UUID(user_id)))

    async def enroll(self, user_id: str, email: str) -> Enrollment:
        """Start (or restart) enrolment; refused while a confirmed factor exists."""
        if await self.enabled(user_id):
            raise FailedPrecondition("two-factor sign-in is already on",
                                     reason="MFA_ALREADY_ENABLED")
        secret = pyotp.random_base32()
        await self._pool.execute(
            """INSERT INTO auth.mfa (user_id, secret, enabled) VALUES ($1, $2, false)
               ON CONFLICT (user_id) DO UPDATE SET secret = $2, enabled = false,
                   last_used_step = 0""",
            uuid.UUID(user_id), self._box.seal(secret.encode(), f"totp:{user_id}"))
        uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER_NAME)
        return Enrollment(secret, uri)

    async def confirm(self, user_id: str, code: str) -> list[str]:
        """Turn the factor on with a first valid code; return fresh recovery codes."""
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "SELECT secret, enabled, last_used_step FROM auth.mfa WHERE user_id = $1"
                " FOR UPDATE", uuid.UUID(user_id))
            if row is None or row["enabled"]:
                raise FailedPrecondition("start enrolment first", reason="MFA_NOT_ENABLED")
            await self._use_totp(connection, user_id, row, code)
            await connection.execute(
                "UPDATE auth.mfa SET enabled = true WHERE user_id = $1", uuid.UUID(user_id))
            return await _replace_recovery_codes(connection, user_id)

    async def verify(self, user_id: str, totp_code: str, recovery_code: str) -> None:
        """Accept one valid TOTP code (never the same step twice) or an unused recovery code."""
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "SELECT secret, enabled, last_used_step FROM auth.mfa WHERE user_id = $1"
                " FOR UPDATE", uuid.UUID(user_id))
            if row is None or not row["enabled"]:
                raise FailedPrecondition("two-factor sign-in is off", reason="MFA_NOT_ENABLED")
            if recovery_code:
                await _use_recovery_code(connection, user_id, recovery_code)
            elif totp_code:
                await self._use_totp(connection, user_id, row, totp_code)
            else:
                raise Unauthenticated("a second factor is required: send totpCode",
                                      reason="MFA_REQUIRED")

    async def disable(self, user_id: str, code: str) -> None:
        """Turn the factor off after proving possession of it."""
        is_totp = code.strip().isdigit()  # recovery codes are hex pairs, TOTP codes digits
        await self.verify(user_id, code if is_totp else "", "" if is_totp else code)
        await self._pool.execute("DELETE FROM auth.mfa WHERE user_id = $1", uuid.UUID(user_id))
        await self._pool.execute(
            "DELETE FROM auth.recovery_codes WHERE user_id = $1", uuid.UUID(user_id))

    async def regenerate_recovery_codes(self, user_id: str, totp_code: str) -> list[str]:
        """Replace every recovery code after a valid TOTP code."""
        await self.verify(user_id, totp_code, "")
        async with self._pool.acquire() as connection, connection.transaction():
            return await _replace_recovery_codes(connection, user_id)

    async def _use_totp(self, connection: asyncpg.Connection, user_id: str,
                        row: asyncpg.Record, code: str) -> None:
        secret = self._box.open(row["secret"], f"totp:{user_id}").decode()
        step = _matching_step(secret, code.strip())
        if step is None or step <= row["last_used_step"]:
            raise Unauthenticated("the code is wrong or was already used",
                                  reason="INVALID_MFA_CODE")
        await connection.execute(
            "UPDATE auth.mfa SET last_used_step = $2 WHERE user_id = $1",
            uuid.UUID(user_id), step)


def _matching_step(secret: str, code: str, window: int = 1) -> int | None:
    """Return the time step whose code matches, allowing one step of clock drift."""
    totp, now_step = pyotp.TOTP(secret), int(time.time()) // _STEP
    for step in range(now_step - window, now_step + window + 1):
        if secrets.compare_digest(totp.at(step * _STEP), code):
            return step
    return None


async def _replace_recovery_codes(connection: asyncpg.Connection, user_id: str) -> list[str]:
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    await connection.execute(
        "DELETE FROM auth.recovery_codes WHERE user_id = $1", uuid.UUID(user_id))
    await connection.executemany(
        "INSERT INTO auth.recovery_codes (user_id, code_hash) VALUES ($1, $2)",
        [(uuid.UUID(user_id), _code_hash(code)) for code in codes])
    return codes


async def _use_recovery_code(connection: asyncpg.Connection, user_id: str, code: str) -> None:
    used = await connection.fetchval(
        """UPDATE auth.recovery_codes SET used_time = now()
           WHERE user_id = $1 AND code_hash = $2 AND used_time IS NULL RETURNING 1""",
        uuid.UUID(user_id), _code_hash(code))
    if not used:
        raise Unauthenticated("the recovery code is wrong or was already used",
                              reason="INVALID_MFA_CODE")


def _code_hash(code: str) -> bytes:
    return hashlib.sha256(code.strip().lower().encode()).digest()
