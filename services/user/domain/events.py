"""Domain events as they travel on the Redis streams `events:{domain}` (format: see
`services/user/activity_consumer.py`), converted to and from their stream fields."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

STREAM_PREFIX = "events:"
MAX_DETAILS = 32
MAX_DETAIL_CHARS = 512
# Keys that must never travel in an event, whatever a publisher puts in it.
_SECRET_MARKERS = ("password", "secret", "token", "totp", "otpauth", "recoverycode")


class InvalidEvent(ValueError):
    """A stream entry that is not a domain event of this format."""


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened to a user, published by the service where it happened."""

    event_id: str
    kind: str
    tenant_id: str
    user_id: str
    time: datetime
    details: dict[str, str] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        """Return the domain that published it: the part of the kind before the dot."""
        return self.kind.partition(".")[0]


def stream_of(domain: str) -> str:
    """Return the stream of a domain's events, e.g. `events:auth`."""
    return f"{STREAM_PREFIX}{domain}"


def new_event(kind: str, tenant_id: str, user_id: str, details: Mapping[str, object] = (),
              *, time: datetime | None = None, event_id: str | None = None) -> DomainEvent:
    """Return a new event happening now, with its details cut to the format's limits."""
    return DomainEvent(event_id or str(uuid.uuid4()), kind, tenant_id, user_id,
                       time or datetime.now(UTC), clean_details(dict(details)))


def clean_details(details: Mapping[str, object]) -> dict[str, str]:
    """Return the details as short strings, without empty values or secret-looking keys."""
    cleaned: dict[str, str] = {}
    for key, value in details.items():
        if value is None or value == "" or _looks_secret(str(key)):
            continue
        if len(cleaned) == MAX_DETAILS:
            break
        text = str(value).lower() if isinstance(value, bool) else str(value)
        cleaned[str(key)[:64]] = text[:MAX_DETAIL_CHARS]
    return cleaned


def to_fields(event: DomainEvent) -> dict[str, str]:
    """Return the stream entry fields of `event`."""
    return {
        "event_id": event.event_id,
        "kind": event.kind,
        "tenant_id": event.tenant_id,
        "user_id": event.user_id,
        "time": event.time.astimezone(UTC).isoformat(timespec="microseconds"),
        "details": json.dumps(event.details, separators=(",", ":"), sort_keys=True),
    }


def from_fields(fields: Mapping[str | bytes, str | bytes]) -> DomainEvent:
    """Return the event of a stream entry, or raise InvalidEvent saying what is wrong."""
    values = {_text(k): _text(v) for k, v in fields.items()}
    try:
        event_id = str(uuid.UUID(values["event_id"]))
        tenant_id = str(uuid.UUID(values["tenant_id"]))
        user_id = str(uuid.UUID(values["user_id"]))
        kind = values["kind"]
        time = datetime.fromisoformat(values["time"].replace("Z", "+00:00"))
        details = json.loads(values.get("details") or "{}")
    except (KeyError, ValueError) as error:
        raise InvalidEvent(f"not a domain event: {error}") from None
    if "." not in kind or not isinstance(details, dict):
        raise InvalidEvent(f"not a domain event: kind {kind!r}")
    if time.tzinfo is None:
        time = time.replace(tzinfo=UTC)
    return DomainEvent(event_id, kind, tenant_id, user_id, time, clean_details(details))


def _looks_secret(key: str) -> bool:
    folded = key.replace("_", "").replace("-", "").lower()
    return any(marker in folded for marker in _SECRET_MARKERS)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
