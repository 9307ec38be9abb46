"""The session service's pure rules: fingerprints, limits, paging, access, events, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.runtime import pagination
from services.runtime.config import ConfigError
from services.runtime.errors import InvalidArgument, NotFound, PermissionDenied, ResourceExhausted
from services.runtime.identity import Identity, peer_name
from services.session.config import SessionSettings
from services.session.domain import access, events, listing
from services.session.domain.fingerprint import (
    device_fingerprint,
    normalize_brands,
    normalize_user_agent,
)
from services.session.domain.limits import IndexEntry, LimitPolicy, sessions_to_evict
from services.session.domain.session import (
    Location,
    Session,
    check_new_session,
    check_revoke_reason,
    clip,
)
from services.session.geo import MaxMindLocator, NoLocator, location_from_record, open_locator

CHROME_131 = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.6778.86 Safari/537.36"
CHROME_132 = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/132.0.6834.83 Safari/537.36"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def session(session_id: str = "a" * 32, user_id: str = "u1", tenant_id: str = "t1") -> Session:
    return Session(id=session_id, user_id=user_id, tenant_id=tenant_id, user_agent="ua",
                   ip_address="203.0.113.7", roles=("trader",), create_time_ms=1_000,
                   last_seen_time_ms=2_000, expire_time_ms=3_000, device_fingerprint="f" * 64,
                   location=Location("DE", "Bavaria", "Munich"))


# Fingerprints ----------------------------------------------------------------------------


def test_fingerprint_survives_browser_updates_and_grease_brands() -> None:
    old = device_fingerprint(CHROME_131, {
        "sec-ch-ua": '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
        "sec-ch-ua-platform": '"Windows"', "sec-ch-ua-mobile": "?0"})
    new = device_fingerprint(CHROME_132, {
        "Sec-CH-UA": '"Not A(Brand";v="8", "Chromium";v="132", "Google Chrome";v="132"',
        "sec-ch-ua-platform": '"Windows"', "sec-ch-ua-mobile": "?0"})
    assert old == new and len(old) == 64


@pytest.mark.parametrize(("user_agent", "hints"), [
    (FIREFOX, {}),
    (CHROME_131, {"sec-ch-ua-platform": '"macOS"'}),
    (CHROME_131, {"sec-ch-ua-mobile": "?1"}),
    (CHROME_131, {"sec-ch-ua": '"Microsoft Edge";v="131"'}),
])
def test_fingerprint_tells_devices_apart(user_agent: str, hints: dict[str, str]) -> None:
    assert device_fingerprint(user_agent, hints) != device_fingerprint(CHROME_131, {})


def test_fingerprint_ignores_volatile_hints_and_prefers_a_device_id() -> None:
    assert device_fingerprint(CHROME_131, {"sec-ch-ua-full-version-list": "x"}) == \
        device_fingerprint(CHROME_131, {})
    by_id = device_fingerprint(CHROME_131, {}, device_id="install-42")
    assert by_id == device_fingerprint(FIREFOX, {"sec-ch-ua-mobile": "?1"}, "install-42")
    assert by_id != device_fingerprint(CHROME_131, {})


def test_user_agent_and_brand_normalisation() -> None:
    assert normalize_user_agent("  Foo/1.2.3   Bar_9 ") == "foo/ bar_"
    assert normalize_brands('"B";v="1", "A";v="2", "Not?A_Brand";v="99"') == "a,b"
    assert normalize_brands("") == ""


# Limits ----------------------------------------------------------------------------------

LIVE = [IndexEntry(300, "c"), IndexEntry(100, "a"), IndexEntry(200, "b")]


@pytest.mark.parametrize("policy", list(LimitPolicy))
def test_room_left_or_no_limit_evicts_nobody(policy: LimitPolicy) -> None:
    assert sessions_to_evict(LIVE, 4, policy) == []
    assert sessions_to_evict(LIVE, 0, policy) == []
    assert sessions_to_evict([], 1, policy) == []


def test_refuse_at_the_limit_is_resource_exhausted() -> None:
    with pytest.raises(ResourceExhausted) as refused:
        sessions_to_evict(LIVE, 3, LimitPolicy.REFUSE)
    assert refused.value.reason == "SESSION_LIMIT_REACHED"
    assert refused.value.metadata == {"maxSessions": "3"}


def test_evict_oldest_makes_room_for_exactly_one() -> None:
    assert sessions_to_evict(LIVE, 3, LimitPolicy.EVICT_OLDEST) == ["a"]
    # A limit lowered below the sessions held evicts down to it.
    assert sessions_to_evict(LIVE, 1, LimitPolicy.EVICT_OLDEST) == ["a", "b", "c"]
    tied = [IndexEntry(5, "y"), IndexEntry(5, "x")]
    assert sessions_to_evict(tied, 2, LimitPolicy.EVICT_OLDEST) == ["x"]


# Listing ---------------------------------------------------------------------------------


def test_pages_go_newest_first_and_the_cursor_continues() -> None:
    entries = [IndexEntry(t, f"{t:032x}") for t in (5, 1, 3, 2, 4)]
    first, after = listing.page_after(entries, None, 2)
    assert [e.create_time_ms for e in first] == [5, 4]
    token = listing.encode_cursor(after)
    second, after = listing.page_after(entries, listing.decode_cursor(token), 2)
    third, last = listing.page_after(entries, after, 2)
    assert [e.create_time_ms for e in second + third] == [3, 2, 1]
    assert last is None and listing.encode_cursor(last) == ""


def test_cursor_survives_the_entry_it_names_expiring() -> None:
    entries = [IndexEntry(t, f"{t:032x}") for t in (3, 1)]
    page, _ = listing.page_after(entries, IndexEntry(2, "2" * 32), 10)
    assert [e.create_time_ms for e in page] == [1]


@pytest.mark.parametrize("token", ["garbage", pagination.encode_token({"c": "x"}),
                                   pagination.encode_token({"c": "1", "i": "nope"})])
def test_forged_page_tokens_are_invalid(token: str) -> None:
    with pytest.raises(InvalidArgument):
        listing.decode_cursor(token)


def test_page_size_defaults_and_caps() -> None:
    assert (listing.page_size(0), listing.page_size(7), listing.page_size(10_000)) == (50, 7, 100)
    with pytest.raises(InvalidArgument):
        listing.page_size(-1)


# Access ----------------------------------------------------------------------------------


def caller(user_id: str = "u1", tenant_id: str = "t1", roles: tuple[str, ...] = (),
           session_id: str = "") -> Identity:
    return Identity(user_id, tenant_id, roles, session_id)


@pytest.mark.parametrize(("who", "allowed"), [
    (caller(), True),
    (caller(user_id="u2"), False),
    (caller(user_id="u2", roles=("trader",)), False),
    (caller(user_id="u2", roles=("admin",)), True),
    (caller(user_id="u2", roles=("Owner",)), True),
    (caller(user_id="u2", tenant_id="t2", roles=("admin", "owner")), False),
    (caller(tenant_id="t2"), False),  # same user id in another tenant is someone else
])
def test_who_may_manage_a_session(who: Identity, allowed: bool) -> None:
    assert access.may_manage(who, session()) is allowed


def test_invisible_sessions_are_reported_as_not_found() -> None:
    with pytest.raises(NotFound) as hidden:
        access.visible(caller(user_id="u2"), session())
    assert hidden.value.reason == "SESSION_NOT_FOUND"
    assert access.visible(caller(), session()) == session()


def test_revoke_reason_depends_on_who_revokes_what() -> None:
    target = session()
    assert access.revoke_reason(caller(session_id=target.id), target) == "logout"
    assert access.revoke_reason(caller(session_id="b" * 32), target) == "revoked_by_user"
    assert access.revoke_reason(caller(user_id="u2", roles=("admin",)), target) == \
        "revoked_by_admin"


@pytest.mark.parametrize(("header", "peer"), [
    ("By=spiffe://tradesage/session;Hash=ab12;URI=spiffe://tradesage/auth", "auth"),
    ('Hash=ab12;URI="spiffe://tradesage/edge"', "edge"),
    ("URI=spiffe://other/edge,By=x;URI=spiffe://tradesage/user", "user"),
    ("URI=spiffe://tradesage/ns/prod/sa/auth", "auth"),
    ("URI=spiffe://tradesage", ""),
    ("URI=https://tradesage/auth", ""),
    ("Hash=ab12", ""),
    ("", ""),
])
def test_peer_name_from_forwarded_client_cert(header: str, peer: str) -> None:
    assert peer_name(header) == peer


@pytest.mark.parametrize("peer", ["edge", ""])
def test_internal_rpcs_refuse_the_edge_and_unknown_callers(peer: str) -> None:
    with pytest.raises(PermissionDenied) as refused:
        access.require_internal(peer, "CreateSession")
    assert refused.value.reason == "UNTRUSTED_CALLER"
    access.require_internal("auth", "CreateSession")


# Events and checks -----------------------------------------------------------------------


def test_events_round_trip_through_json() -> None:
    created = events.created(session(), new_device=True)
    assert (created.reason, created.new_device, created.event_time_ms) == ("login", True, 1_000)
    revoked = events.revoked(session(), events.REASON_EVICTED, 9_000)
    for event in (created, revoked):
        assert events.from_json(events.to_json(event)) == event
    assert created.event_id != revoked.event_id


@pytest.mark.parametrize(("kwargs", "fields"), [
    ({"max_sessions": -1}, {"max_sessions"}),
    ({"request_id": "r" * 129}, {"request_id"}),
    ({"user_id": "", "tenant_id": ""}, {"user_id", "tenant_id"}),
])
def test_new_session_checks(kwargs: dict[str, object], fields: set[str]) -> None:
    arguments = {"user_id": "u", "tenant_id": "t", **kwargs}
    with pytest.raises(InvalidArgument) as invalid:
        check_new_session(**arguments)  # type: ignore[arg-type]
    assert {v.field for v in invalid.value.violations} == fields
    check_new_session("u", "t", max_sessions=3, request_id="r" * 128)


@pytest.mark.parametrize("reason", ["", "Password", "password reset", "9lives", "x" * 65])
def test_revoke_reasons_must_be_lower_snake(reason: str) -> None:
    with pytest.raises(InvalidArgument):
        check_revoke_reason(reason)
    assert check_revoke_reason("password_reset") == "password_reset"


def test_long_client_strings_are_clipped_not_refused() -> None:
    user_agent, ip_address = clip("u" * 5_000, "1" * 100)
    assert (len(user_agent), len(ip_address)) == (512, 64)


# Settings and GeoIP ----------------------------------------------------------------------


def test_settings_defaults_and_overrides() -> None:
    assert SessionSettings.from_env({}) == SessionSettings(1_209_600, 15.0, "")
    assert SessionSettings.from_env({
        "TRADESAGE_SESSION_TTL_SECONDS": "60", "TRADESAGE_SESSION_HEARTBEAT_SECONDS": "0.5",
        "TRADESAGE_GEOIP_DB": "/x.mmdb"}) == SessionSettings(60, 0.5, "/x.mmdb")


@pytest.mark.parametrize(("name", "value"), [
    ("TRADESAGE_SESSION_TTL_SECONDS", "0"), ("TRADESAGE_SESSION_TTL_SECONDS", "1.5"),
    ("TRADESAGE_SESSION_HEARTBEAT_SECONDS", "-1"), ("TRADESAGE_SESSION_HEARTBEAT_SECONDS", "nan"),
])
def test_bad_settings_fail_fast(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        SessionSettings.from_env({name: value})


def test_without_a_geoip_database_locations_stay_empty(tmp_path: Path) -> None:
    assert isinstance(open_locator(""), NoLocator)
    assert isinstance(open_locator(str(tmp_path / "missing.mmdb")), NoLocator)
    assert not NoLocator().locate("8.8.8.8")


class DictReader:
    """A stand-in for maxminddb's reader: `get(ip)` returns the record or None."""

    def __init__(self, records: dict[str, object]) -> None:
        self.records = records

    def get(self, ip_address: str) -> object:
        return self.records.get(ip_address)


def test_maxmind_records_become_locations_for_public_addresses_only() -> None:
    record = {"country": {"iso_code": "DE"}, "city": {"names": {"en": "Munich"}},
              "subdivisions": [{"names": {"en": "Bavaria", "de": "Bayern"}}]}
    locator = MaxMindLocator(DictReader({"8.8.8.8": record, "10.0.0.1": record}))
    assert locator.locate("8.8.8.8") == Location("DE", "Bavaria", "Munich")
    assert not locator.locate("10.0.0.1")  # private addresses are never looked up
    assert not locator.locate("1.1.1.1") and not locator.locate("not an ip")
    assert location_from_record({"country": {"iso_code": "FR"}}) == Location("FR")
