"""Conversions between datetimes and google.protobuf.Timestamp."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp


def to_timestamp(moment: datetime | None) -> Timestamp | None:
    """Return `moment` as a Timestamp (None stays None, so the field stays unset)."""
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def from_epoch_ms(milliseconds: int) -> Timestamp:
    """Return a Timestamp from milliseconds since the epoch."""
    stamp = Timestamp()
    stamp.FromMilliseconds(milliseconds)
    return stamp
