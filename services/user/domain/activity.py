"""A user's activity log, built from domain events: which event becomes which entry."""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from services.runtime.errors import FieldViolation, InvalidArgument
from services.user.domain.events import DomainEvent


class ActivityKind(Enum):
    """What an entry records (the values of the `activities.kind` column)."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password_changed"
    MFA_CHANGED = "mfa_changed"
    PROFILE_UPDATED = "profile_updated"
    PREFERENCES_UPDATED = "preferences_updated"
    ROLES_CHANGED = "roles_changed"
    ORDER = "order"
    CASH = "cash"


@dataclass(frozen=True)
class Activity:
    """One entry of a user's activity log; its id is the id of the event it came from."""

    id: str
    user_id: str
    kind: ActivityKind
    description: str
    create_time: datetime
    ip_address: str = ""
    user_agent: str = ""
    session_id: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ActivityFilter:
    """Which entries a listing returns: any of `kinds` (all if empty), in [start, end)."""

    kinds: tuple[ActivityKind, ...] = ()
    start_time: datetime | None = None
    end_time: datetime | None = None


# Event kind -> entry kind. Kinds of a domain not listed here by name use its prefix rule.
EVENT_KINDS = {
    "auth.login_succeeded": ActivityKind.LOGIN,
    "auth.login_failed": ActivityKind.LOGIN_FAILED,
    "auth.logged_out": ActivityKind.LOGOUT,
    "auth.refresh_token_reused": ActivityKind.LOGOUT,
    "auth.password_reset": ActivityKind.PASSWORD_CHANGED,
    "auth.password_changed": ActivityKind.PASSWORD_CHANGED,
    "auth.mfa_enabled": ActivityKind.MFA_CHANGED,
    "auth.mfa_disabled": ActivityKind.MFA_CHANGED,
    "auth.recovery_codes_regenerated": ActivityKind.MFA_CHANGED,
    "session.revoked": ActivityKind.LOGOUT,
    "user.profile_updated": ActivityKind.PROFILE_UPDATED,
    "user.preferences_updated": ActivityKind.PREFERENCES_UPDATED,
    "user.roles_changed": ActivityKind.ROLES_CHANGED,
}
PREFIX_KINDS = {"trading.order_": ActivityKind.ORDER, "trading.cash_": ActivityKind.CASH}
# Details that fill their own columns rather than the attributes.
COLUMN_DETAILS = ("sessionId", "ipAddress", "userAgent", "description")

_FAILURES = {
    "INVALID_CREDENTIALS": "wrong email or password",
    "INVALID_MFA_CODE": "wrong second-factor code",
    "ACCOUNT_LOCKED": "the account is locked",
    "EMAIL_NOT_VERIFIED": "the email address is not verified",
    "TENANT_UNAVAILABLE": "the tenant is deactivated",
}
_SESSION_ENDS = {
    "revoked_by_user": "Session ended from another device",
    "revoked_by_admin": "Session ended by an admin",
    "evicted": "Session ended: the plan's session limit was reached",
    "refresh_token_reuse": "Session ended: its refresh token was used twice",
    "password_reset": "Session ended by a password reset",
    "logout": "Signed out",
}
_FIXED = {
    "auth.logged_out": "Signed out",
    "auth.refresh_token_reused": "Session ended: its refresh token was used twice",
    "auth.password_reset": "Password reset",
    "auth.password_changed": "Password changed",
    "auth.mfa_enabled": "Two-factor sign-in turned on",
    "auth.mfa_disabled": "Two-factor sign-in turned off",
    "auth.recovery_codes_regenerated": "Two-factor recovery codes regenerated",
}


def kind_of(event_kind: str) -> ActivityKind | None:
    """Return the entry kind of an event kind, or None for events not shown in the log."""
    if event_kind in EVENT_KINDS:
        return EVENT_KINDS[event_kind]
    return next((k for prefix, k in PREFIX_KINDS.items() if event_kind.startswith(prefix)), None)


def activity_from_event(event: DomainEvent) -> Activity | None:
    """Return the log entry of `event`, or None if the log does not show this kind."""
    kind = kind_of(event.kind)
    if kind is None:
        return None
    details = event.details
    return Activity(
        id=str(uuid.UUID(event.event_id)),
        user_id=event.user_id,
        kind=kind,
        description=details.get("description") or describe(event),
        create_time=event.time,
        ip_address=_ip_or_empty(details.get("ipAddress", "")),
        user_agent=details.get("userAgent", ""),
        session_id=details.get("sessionId", ""),
        attributes={k: v for k, v in details.items() if k not in COLUMN_DETAILS},
    )


def describe(event: DomainEvent) -> str:
    """Return a short human-readable description of an event."""
    details, kind = event.details, event.kind
    if kind == "auth.login_succeeded":
        provider = details.get("provider", "")
        text = f"Signed in with {provider}" if provider else "Signed in"
        return _from(text, details)
    if kind == "auth.login_failed":
        reason = details.get("reason", "")
        return _from(f"Sign-in failed: {_FAILURES.get(reason, reason or 'unknown reason')}",
                     details)
    if kind == "session.revoked":
        return _SESSION_ENDS.get(details.get("reason", ""), "Session ended")
    if kind == "user.profile_updated":
        fields = [f.replace("_", " ") for f in details.get("fields", "").split(",") if f]
        text = "Profile updated" + (f": {', '.join(fields)}" if fields else "")
        changed_by = details.get("changedBy", "")
        return text + (" by an admin" if changed_by and changed_by != event.user_id else "")
    if kind == "user.preferences_updated":
        keys = [k for k in details.get("changedKeys", "").split(",") if k]
        return "Preferences updated" + (f": {', '.join(keys)}" if keys else "")
    if kind == "user.roles_changed":
        return f"Roles changed to {details.get('roles', '').replace(',', ', ') or 'none'}"
    if kind in _FIXED:
        return _FIXED[kind]
    name = kind.partition(".")[2].replace("_", " ")
    return name[:1].upper() + name[1:]


def check_filter(activity_filter: ActivityFilter) -> None:
    """Fail for a time range that ends before it starts."""
    start, end = activity_filter.start_time, activity_filter.end_time
    if start is not None and end is not None and end <= start:
        raise InvalidArgument("end_time must be after start_time", [
            FieldViolation("end_time", "must be after start_time")])


def _from(text: str, details: dict[str, str]) -> str:
    address = _ip_or_empty(details.get("ipAddress", ""))
    return f"{text} from {address}" if address else text


def _ip_or_empty(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""
