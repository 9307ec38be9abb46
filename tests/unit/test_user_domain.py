"""Tests for the user domain: profile FieldMask rules, preferences merging and versions, the
domain event format, events becoming activity entries, and who may do what."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from google.protobuf import struct_pb2

from services.runtime.authz import builtin_permissions
from services.runtime.config import ConfigError
from services.runtime.errors import Aborted, InvalidArgument, NotFound, PermissionDenied
from services.runtime.identity import Identity
from services.user.config import UserSettings
from services.user.converters import settings_from_proto
from services.user.domain import access
from services.user.domain.activity import (
    ActivityFilter,
    ActivityKind,
    activity_from_event,
    check_filter,
    kind_of,
)
from services.user.domain.events import InvalidEvent, from_fields, new_event, to_fields
from services.user.domain.preferences import (
    MAX_SETTINGS_BYTES,
    changed_keys,
    check_settings,
    merged_settings,
    version_conflict,
)
from services.user.domain.user import (
    Profile,
    normalize_locale,
    parse_child_name,
    parse_user_name,
    profile_changes,
)
from services.user.session_bridge import event_of_notice

TENANT = "6f9619ff-8b86-d011-b42d-00c04fc964ff"
USER = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"


# Names


def test_users_me_is_the_caller():
    assert parse_user_name("users/me", USER) == USER
    assert parse_child_name("users/me/preferences", "preferences", USER) == USER


def test_child_name_must_end_in_the_child():
    with pytest.raises(InvalidArgument):
        parse_child_name(f"users/{USER}/activities", "preferences", USER)
    with pytest.raises(NotFound):
        parse_child_name("users/bob/preferences", "preferences", USER)


# Profile updates


def test_profile_changes_normalise_every_masked_field():
    changes = profile_changes(
        ["display_name", "contactPhone", "locale", "time_zone", "avatar_url"],
        Profile(" Ada ", "+44 (20) 7946-0958", "zh_hant_tw", "America/Argentina/Buenos_Aires",
                "https://cdn.example.com/a.png"))
    assert changes == {"display_name": "Ada", "contact_phone": "+442079460958",
                       "locale": "zh-Hant-TW", "time_zone": "America/Argentina/Buenos_Aires",
                       "avatar_url": "https://cdn.example.com/a.png"}


def test_unmasked_fields_are_ignored_and_masked_empty_ones_cleared():
    assert profile_changes(["locale"], Profile(display_name="ignored")) == {"locale": ""}


def test_star_masks_every_profile_field():
    assert set(profile_changes(["*"], Profile())) == {
        "display_name", "contact_phone", "locale", "time_zone", "avatar_url"}


@pytest.mark.parametrize("path", ["email", "roles", "state", "tenant_id", "name"])
def test_output_only_paths_are_not_updatable(path):
    with pytest.raises(InvalidArgument) as caught:
        profile_changes([path], Profile())
    assert caught.value.reason == "FIELD_NOT_UPDATABLE"
    assert caught.value.metadata == {"path": path}


def test_an_empty_mask_is_refused():
    with pytest.raises(InvalidArgument) as caught:
        profile_changes([], Profile(display_name="x"))
    assert [v.field for v in caught.value.violations] == ["update_mask"]


@pytest.mark.parametrize(("field", "value", "reason", "metadata"), [
    ("time_zone", "Mars/Olympus", "INVALID_TIME_ZONE", {"timeZone": "Mars/Olympus"}),
    ("time_zone", "../../etc/passwd", "INVALID_TIME_ZONE", {"timeZone": "../../etc/passwd"}),
    ("locale", "english", "INVALID_LOCALE", {"locale": "english"}),
    ("locale", "qq-US", "INVALID_LOCALE", {"locale": "qq-US"}),
    ("locale", "en-", "INVALID_LOCALE", {"locale": "en-"}),
    ("contact_phone", "0151 1234", "INVALID_ARGUMENT", {}),
    ("avatar_url", "http://cdn.example.com/a.png", "INVALID_ARGUMENT", {}),
    ("avatar_url", "https://user:pw@cdn.example.com/a.png", "INVALID_ARGUMENT", {}),
    ("avatar_url", "javascript:alert(1)", "INVALID_ARGUMENT", {}),
    ("display_name", "x" * 101, "INVALID_ARGUMENT", {}),
])
def test_invalid_values_are_refused_naming_the_field(field, value, reason, metadata):
    with pytest.raises(InvalidArgument) as caught:
        profile_changes([field], Profile(**{field: value}))
    assert caught.value.reason == reason
    assert caught.value.metadata == metadata
    assert [v.field for v in caught.value.violations] == [f"user.{field}"]


def test_several_invalid_values_are_reported_together():
    with pytest.raises(InvalidArgument) as caught:
        profile_changes(["locale", "time_zone"], Profile(locale="nope!", time_zone="Nowhere"))
    assert caught.value.reason == "INVALID_ARGUMENT"
    assert {v.field for v in caught.value.violations} == {"user.locale", "user.time_zone"}


@pytest.mark.parametrize(("tag", "canonical"), [
    ("en-gb", "en-GB"), ("DE", "de"), ("sr-latn-rs", "sr-Latn-RS"), ("es-419", "es-419"),
    ("en-US-u-ca-gregory", "en-US-u-ca-gregory"), ("fil-PH", "fil-PH"),
])
def test_locales_are_canonicalised(tag, canonical):
    assert normalize_locale(tag) == canonical


# Preferences


def test_no_mask_replaces_the_whole_document():
    assert merged_settings({"a": 1, "b": 2}, {"c": 3}, []) == {"c": 3}
    assert merged_settings({"a": 1}, {"c": 3}, ["settings"]) == {"c": 3}


def test_masked_keys_change_and_missing_ones_are_removed():
    current = {"theme": "dark", "layout": "wide", "trading": {"qty": "10", "tif": "day"}}
    merged = merged_settings(current, {"theme": "light", "trading": {"qty": "5"}},
                             ["settings.theme", "settings.layout", "settings.trading.qty"])
    assert merged == {"theme": "light", "trading": {"qty": "5", "tif": "day"}}
    assert current["theme"] == "dark"  # the input is not changed


def test_snake_case_mask_paths_find_camel_case_keys():
    # A REST client's FieldMask "settings.chartStyle" arrives as "settings.chart_style".
    assert merged_settings({"chartStyle": "bars"}, {"chartStyle": "candles"},
                           ["settings.chart_style"]) == {"chartStyle": "candles"}


@pytest.mark.parametrize("path", ["theme", "settings.", "settings..x", "version"])
def test_paths_outside_settings_are_refused(path):
    with pytest.raises(InvalidArgument) as caught:
        merged_settings({}, {}, [path])
    assert caught.value.reason == "FIELD_NOT_UPDATABLE"


def test_changed_keys_are_the_top_level_differences():
    assert changed_keys({"a": 1, "b": {"x": 1}, "c": 3},
                        {"a": 1, "b": {"x": 2}, "d": 4}) == ("b", "c", "d")


def test_settings_size_is_limited():
    check_settings({"blob": "x" * (MAX_SETTINGS_BYTES - 20)})
    with pytest.raises(InvalidArgument) as caught:
        check_settings({"blob": "x" * MAX_SETTINGS_BYTES})
    assert caught.value.reason == "PREFERENCES_TOO_LARGE"
    assert caught.value.metadata == {"limitBytes": str(MAX_SETTINGS_BYTES)}


def test_a_version_conflict_names_both_versions():
    conflict = version_conflict(3, 5)
    assert isinstance(conflict, Aborted)
    assert conflict.reason == "PREFERENCES_VERSION_CONFLICT"
    assert conflict.metadata == {"expectedVersion": "3", "currentVersion": "5"}


def test_struct_numbers_that_are_whole_stay_whole():
    struct = struct_pb2.Struct()
    struct.update({"qty": 10, "ratio": 0.5, "nested": {"n": [1, 2.5]}})
    assert settings_from_proto(struct) == {"qty": 10, "ratio": 0.5, "nested": {"n": [1, 2.5]}}


# Event format


def test_events_round_trip_through_stream_fields():
    event = new_event("auth.login_succeeded", TENANT, USER,
                      {"sessionId": "s1", "ipAddress": "203.0.113.9", "mfa": True})
    fields = to_fields(event)
    assert set(fields) == {"event_id", "kind", "tenant_id", "user_id", "time", "details"}
    assert all(isinstance(v, str) for v in fields.values())
    assert json.loads(fields["details"]) == {"ipAddress": "203.0.113.9", "mfa": "true",
                                             "sessionId": "s1"}
    assert from_fields(fields) == event


def test_secret_looking_details_never_travel():
    event = new_event("auth.password_reset", TENANT, USER, {
        "newPassword": "hunter2", "refresh_token": "r", "totpCode": "123456",
        "recoveryCodes": "a,b", "clientSecret": "s", "revokedSessions": 2})
    assert event.details == {"revokedSessions": "2"}


@pytest.mark.parametrize("broken", [
    {},
    {"event_id": "nope", "kind": "auth.x", "tenant_id": TENANT, "user_id": USER,
     "time": "2026-01-01T00:00:00+00:00"},
    {"event_id": str(uuid.uuid4()), "kind": "nodot", "tenant_id": TENANT, "user_id": USER,
     "time": "2026-01-01T00:00:00+00:00"},
    {"event_id": str(uuid.uuid4()), "kind": "auth.x", "tenant_id": TENANT, "user_id": USER,
     "time": "yesterday"},
    {"event_id": str(uuid.uuid4()), "kind": "auth.x", "tenant_id": TENANT, "user_id": USER,
     "time": "2026-01-01T00:00:00+00:00", "details": "[1, 2]"},
])
def test_malformed_entries_are_invalid_events(broken):
    with pytest.raises(InvalidEvent):
        from_fields(broken)


# Events -> activity


def test_a_login_becomes_a_login_entry_with_its_columns():
    event = new_event("auth.login_succeeded", TENANT, USER, {
        "sessionId": "s1", "ipAddress": "203.0.113.9", "userAgent": "curl/8",
        "method": "oidc", "provider": "acme"})
    activity = activity_from_event(event)
    assert activity is not None
    assert activity.id == event.event_id and activity.kind is ActivityKind.LOGIN
    assert (activity.session_id, activity.ip_address, activity.user_agent) == (
        "s1", "203.0.113.9", "curl/8")
    assert activity.attributes == {"method": "oidc", "provider": "acme"}
    assert activity.description == "Signed in with acme from 203.0.113.9"
    assert activity.create_time == event.time


@pytest.mark.parametrize(("kind", "details", "expected_kind", "description"), [
    ("auth.login_failed", {"reason": "ACCOUNT_LOCKED"}, ActivityKind.LOGIN_FAILED,
     "Sign-in failed: the account is locked"),
    ("auth.logged_out", {}, ActivityKind.LOGOUT, "Signed out"),
    ("auth.refresh_token_reused", {}, ActivityKind.LOGOUT,
     "Session ended: its refresh token was used twice"),
    ("auth.password_reset", {}, ActivityKind.PASSWORD_CHANGED, "Password reset"),
    ("auth.mfa_enabled", {}, ActivityKind.MFA_CHANGED, "Two-factor sign-in turned on"),
    ("session.revoked", {"reason": "evicted"}, ActivityKind.LOGOUT,
     "Session ended: the plan's session limit was reached"),
    ("user.profile_updated", {"fields": "display_name,locale", "changedBy": USER},
     ActivityKind.PROFILE_UPDATED, "Profile updated: display name, locale"),
    ("user.profile_updated", {"fields": "locale", "changedBy": TENANT},
     ActivityKind.PROFILE_UPDATED, "Profile updated: locale by an admin"),
    ("user.preferences_updated", {"changedKeys": "theme,layout"},
     ActivityKind.PREFERENCES_UPDATED, "Preferences updated: theme, layout"),
    ("trading.order_placed", {"orderId": "o1"}, ActivityKind.ORDER, "Order placed"),
    ("trading.cash_deposited", {"description": "Deposit of 100.00 USD"}, ActivityKind.CASH,
     "Deposit of 100.00 USD"),
])
def test_event_kinds_map_to_entries(kind, details, expected_kind, description):
    activity = activity_from_event(new_event(kind, TENANT, USER, details))
    assert activity is not None
    assert (activity.kind, activity.description) == (expected_kind, description)


def test_kinds_the_log_does_not_show_are_skipped():
    assert kind_of("auth.email_verified") is None
    assert activity_from_event(new_event("market.quote_ticked", TENANT, USER)) is None


def test_an_address_that_is_no_ip_is_dropped():
    activity = activity_from_event(new_event("auth.login_succeeded", TENANT, USER,
                                             {"ipAddress": "not-an-ip"}))
    assert activity is not None and activity.ip_address == ""


def test_a_time_range_must_not_be_empty():
    now = datetime.now(UTC)
    check_filter(ActivityFilter(start_time=now))
    with pytest.raises(InvalidArgument):
        check_filter(ActivityFilter(start_time=now, end_time=now))


# Session notices -> events


def _notice(reason: str, kind: str = "revoked") -> str:
    return json.dumps({
        "event_id": uuid.uuid4().hex, "type": kind, "reason": reason,
        "event_time_ms": 1_780_000_000_000,
        "session": {"id": "abc", "user_id": USER, "tenant_id": TENANT,
                    "ip_address": "198.51.100.4", "user_agent": "Firefox"}})


def test_sessions_revoked_elsewhere_become_session_events():
    event = event_of_notice(_notice("revoked_by_admin"))
    assert event is not None
    assert (event.kind, event.tenant_id, event.user_id) == ("session.revoked", TENANT, USER)
    assert event.details["reason"] == "revoked_by_admin"
    assert event.time == datetime.fromtimestamp(1_780_000_000, UTC)


@pytest.mark.parametrize(("reason", "kind"), [
    ("logout", "revoked"), ("password_reset", "revoked"), ("login", "created")])
def test_notices_the_auth_service_reports_itself_are_not_bridged(reason, kind):
    assert event_of_notice(_notice(reason, kind)) is None


def test_unreadable_notices_are_skipped():
    assert event_of_notice("{not json") is None


# Access


def _caller(*roles: str, user: str = USER, tenant: str = TENANT) -> Identity:
    return Identity(user, tenant, roles, "s1")


def test_managers_change_anyone_of_their_tenant_others_only_themselves():
    other = str(uuid.uuid4())
    assert access.may_manage_users(builtin_permissions("admin"))
    assert access.may_manage_users(builtin_permissions("owner"))
    assert not access.may_manage_users(builtin_permissions("trader"))
    access.require_self_or_manager(_caller(), builtin_permissions("viewer"), USER, TENANT)
    access.require_self_or_manager(_caller(), {"users.manage"}, other, TENANT)
    with pytest.raises(PermissionDenied) as caught:
        access.require_self_or_manager(_caller(), builtin_permissions("trader"), other, TENANT)
    assert caught.value.metadata == {"permission": "users.manage"}


def test_the_same_user_id_in_another_tenant_is_not_the_caller():
    assert not access.is_self(_caller(), USER, str(uuid.uuid4()))


# Settings


def test_settings_come_from_the_environment():
    settings = UserSettings.from_env({"TRADESAGE_USER_HEARTBEAT_SECONDS": "2",
                                      "TRADESAGE_ACTIVITY_CONSUMER": "replica-1",
                                      "TRADESAGE_ACTIVITY_CLAIM_IDLE_SECONDS": "1.5"})
    assert settings.heartbeat_seconds == 2
    assert (settings.consumer.consumer, settings.consumer.claim_idle_ms) == ("replica-1", 1500)
    assert UserSettings.from_env({}).consumer.group == "user-activity"
    with pytest.raises(ConfigError):
        UserSettings.from_env({"TRADESAGE_USER_HEARTBEAT_SECONDS": "0"})
