"""The mails the auth service sends: subject and plain-text body, built from plain values.

Pure functions: no I/O, no clock. A template never takes a password, so none can end up in a
mail. Tokens do appear in the body (that is how they reach the user), so a `Mail` keeps its body
out of `repr` and callers must never log it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode

PRODUCT = "TradeSage"
MAX_NAME = 100
VERIFICATION_LIFETIME = timedelta(hours=24)
RESET_LIFETIME = timedelta(hours=1)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_TOKEN = re.compile(r"^[\x21-\x7e]{1,512}$")  # printable ASCII, no spaces


class MailKind(StrEnum):
    """What a mail is for; the value is stored in the outbox."""

    EMAIL_VERIFICATION = "email_verification"
    PASSWORD_RESET = "password_reset"
    SECURITY_NOTICE = "security_notice"
    ACCOUNT_LOCKED = "account_locked"


class SecurityEvent(StrEnum):
    """A change to an account that its owner is told about by mail."""

    MFA_ENABLED = "mfa_enabled"
    MFA_DISABLED = "mfa_disabled"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
    PASSWORD_CHANGED = "password_changed"


_EVENT_TEXT = {
    SecurityEvent.MFA_ENABLED: (
        "Two-factor authentication was turned on",
        "Two-factor authentication was turned on for your account"),
    SecurityEvent.MFA_DISABLED: (
        "Two-factor authentication was turned off",
        "Two-factor authentication was turned off for your account"),
    SecurityEvent.RECOVERY_CODES_REGENERATED: (
        "New recovery codes were created",
        "A new set of recovery codes was created for your account; the old codes no longer work"),
    SecurityEvent.PASSWORD_CHANGED: (
        "Your password was changed",
        "The password of your account was changed and every session was signed out"),
}


@dataclass(frozen=True)
class Mail:
    """A rendered mail, ready to be queued."""

    kind: MailKind
    subject: str
    body: str = field(repr=False)


def verification_mail(*, display_name: str, tenant_id: str, token: str, public_url: str,
                      expires_in: timedelta = VERIFICATION_LIFETIME) -> Mail:
    """Return the mail that asks a new user to confirm the email address with `token`."""
    link = _link(public_url, "verify-email", tenant_id, token)
    body = "\n".join([
        f"Hello {greeting_name(display_name)},",
        "",
        f"please confirm your email address for {PRODUCT} by opening this link:",
        "",
        f"  {link}",
        "",
        "or by entering this code:",
        "",
        f"  {_checked_token(token)}",
        "",
        f"The link and the code work once and expire in {describe_duration(expires_in)}.",
        "",
        f"If you did not create a {PRODUCT} account, ignore this mail; nothing happens.",
        *_signature(),
    ])
    return Mail(MailKind.EMAIL_VERIFICATION, f"Confirm your email address for {PRODUCT}", body)


def password_reset_mail(*, display_name: str, tenant_id: str, token: str, public_url: str,
                        expires_in: timedelta = RESET_LIFETIME) -> Mail:
    """Return the mail that lets a user choose a new password with `token`."""
    link = _link(public_url, "reset-password", tenant_id, token)
    body = "\n".join([
        f"Hello {greeting_name(display_name)},",
        "",
        f"someone asked to reset the password of your {PRODUCT} account. To choose a new",
        "password, open this link:",
        "",
        f"  {link}",
        "",
        "or enter this code:",
        "",
        f"  {_checked_token(token)}",
        "",
        f"The link and the code work once and expire in {describe_duration(expires_in)}.",
        "Setting a new password signs you out everywhere.",
        "",
        "If you did not ask for this, ignore this mail: your password stays as it is.",
        *_signature(),
    ])
    return Mail(MailKind.PASSWORD_RESET, f"Reset your {PRODUCT} password", body)


def security_notice_mail(*, display_name: str, event: SecurityEvent, occurred_at: datetime,
                         public_url: str, tenant_id: str, ip_address: str = "") -> Mail:
    """Return the mail that tells a user about a security-relevant change to the account."""
    title, sentence = _EVENT_TEXT[SecurityEvent(event)]
    origin = f" from IP address {_one_line(ip_address)}" if ip_address.strip() else ""
    body = "\n".join([
        f"Hello {greeting_name(display_name)},",
        "",
        f"{sentence} on {describe_time(occurred_at)}{origin}.",
        "",
        "If this was you, there is nothing to do. If it was not, reset your password now:",
        "",
        f"  {_link(public_url, 'reset-password', tenant_id)}",
        "",
        "and contact your administrator.",
        *_signature(),
    ])
    return Mail(MailKind.SECURITY_NOTICE, f"{PRODUCT} security notice: {title}", body)


def account_locked_mail(*, display_name: str, locked_until: datetime, public_url: str,
                        tenant_id: str) -> Mail:
    """Return the mail that tells a user the account is locked after failed sign-ins."""
    body = "\n".join([
        f"Hello {greeting_name(display_name)},",
        "",
        f"your {PRODUCT} account was locked after repeated failed sign-in attempts. It unlocks",
        f"by itself on {describe_time(locked_until)}, or earlier when an administrator",
        "unlocks it.",
        "",
        "If these attempts were not yours, someone may know your email address and be trying",
        "passwords. Choosing a new password is a good idea:",
        "",
        f"  {_link(public_url, 'reset-password', tenant_id)}",
        *_signature(),
    ])
    return Mail(MailKind.ACCOUNT_LOCKED, f"Your {PRODUCT} account is locked", body)


def greeting_name(display_name: str) -> str:
    """Return `display_name` on one line, without control characters, at most MAX_NAME long."""
    name = _one_line(display_name)[:MAX_NAME].strip()
    return name or "there"


def describe_duration(duration: timedelta) -> str:
    """Return a lifetime in words: "24 hours", "1 hour", "30 minutes", "7 days"."""
    minutes = max(1, int(duration.total_seconds()) // 60)  # round down: never promise more
    if minutes % 1440 == 0 and minutes >= 2880:
        return f"{minutes // 1440} days"
    if minutes % 60 == 0:
        return f"{minutes // 60} hour{'s' if minutes != 60 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def describe_time(moment: datetime) -> str:
    """Return a moment as "2026-11-27 14:03 UTC" (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _link(public_url: str, page: str, tenant_id: str, token: str | None = None) -> str:
    query = {"tenantId": tenant_id} if token is None else {
        "tenantId": tenant_id, "token": _checked_token(token)}
    return f"{public_url.rstrip('/')}/{page}?{urlencode(query)}"


def _checked_token(token: str) -> str:
    if not _TOKEN.match(token):
        raise ValueError("a mail token must be 1 to 512 printable ASCII characters without spaces")
    return token


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def _signature() -> list[str]:
    return ["", "--", f"{PRODUCT} (this mail was sent automatically; replies are not read)"]
