"""User proto messages <-> domain objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format, struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from tradesage.user.v1 import user_resources_pb2 as pb

from services.runtime.timestamps import to_timestamp
from services.user.domain.activity import Activity, ActivityFilter, ActivityKind
from services.user.domain.preferences import PreferenceChange, Preferences
from services.user.domain.user import Profile, User, UserState

_STATES = {
    UserState.ACTIVE: pb.USER_STATE_ACTIVE,
    UserState.LOCKED: pb.USER_STATE_LOCKED,
    UserState.DEACTIVATED: pb.USER_STATE_DEACTIVATED,
}
_KINDS = {kind: pb.ActivityKind.Value(f"ACTIVITY_KIND_{kind.name}") for kind in ActivityKind}
_KINDS_FROM_PROTO = {number: kind for kind, number in _KINDS.items()}


def user_to_proto(user: User) -> pb.User:
    """Return the API resource of a user."""
    return pb.User(
        name=f"users/{user.id}",
        id=user.id,
        tenant_id=user.tenant_id,
        email=user.email,
        display_name=user.display_name,
        email_verified=user.email_verified,
        roles=list(user.roles),
        state=_STATES[user.state],
        create_time=to_timestamp(user.create_time),
        update_time=to_timestamp(user.update_time),
        contact_phone=user.contact_phone,
        locale=user.locale,
        time_zone=user.time_zone,
        avatar_url=user.avatar_url,
        mfa_enabled=user.mfa_enabled,
        last_login_time=to_timestamp(user.last_login_time),
    )


def profile_from_proto(user: pb.User) -> Profile:
    """Return the editable fields of a User message."""
    return Profile(display_name=user.display_name, contact_phone=user.contact_phone,
                   locale=user.locale, time_zone=user.time_zone, avatar_url=user.avatar_url)


def state_from_proto(state: int) -> UserState | None:
    """Return the state a ListUsers filter names (None: any)."""
    return next((s for s, number in _STATES.items() if number == state), None)


def settings_from_proto(settings: struct_pb2.Struct) -> dict[str, Any]:
    """Return a Struct as a JSON object (whole numbers stay whole)."""
    return _whole_numbers(json_format.MessageToDict(settings))


def preferences_to_proto(preferences: Preferences) -> pb.Preferences:
    """Return the API resource of a user's preferences."""
    message = pb.Preferences(name=f"users/{preferences.user_id}/preferences",
                             version=preferences.version,
                             update_time=to_timestamp(preferences.update_time))
    message.settings.update(preferences.settings)
    return message


def change_to_proto(change: PreferenceChange) -> pb.PreferenceChange:
    """Return the stream message of a preference change."""
    return pb.PreferenceChange(preferences=preferences_to_proto(change.preferences),
                               changed_keys=list(change.changed_keys),
                               session_id=change.session_id,
                               change_time=to_timestamp(change.change_time))


def activity_to_proto(activity: Activity) -> pb.Activity:
    """Return the API resource of an activity entry."""
    return pb.Activity(
        name=f"users/{activity.user_id}/activities/{activity.id}",
        kind=_KINDS[activity.kind],
        description=activity.description,
        ip_address=activity.ip_address,
        user_agent=activity.user_agent,
        session_id=activity.session_id,
        attributes=activity.attributes,
        create_time=to_timestamp(activity.create_time),
    )


def activity_filter_from_proto(kinds: list[int], start_time: Timestamp | None,
                               end_time: Timestamp | None) -> ActivityFilter:
    """Return the filter of a ListActivities request (unset times are open ends)."""
    chosen = tuple(dict.fromkeys(_KINDS_FROM_PROTO[k] for k in kinds if k in _KINDS_FROM_PROTO))
    return ActivityFilter(chosen, _time_or_none(start_time), _time_or_none(end_time))


def _time_or_none(stamp: Timestamp | None) -> datetime | None:
    if stamp is None:
        return None
    return stamp.ToDatetime(tzinfo=UTC)


def _whole_numbers(value: Any) -> Any:
    # Struct holds every number as a double; 10.0 goes back to 10 so stored JSON stays tidy.
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
