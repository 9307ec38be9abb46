"""Tests for the pure domain rules: registration, passwords, tenants, sessions, users,
and symbols (trading validation: test_trading_domain.py)."""


import pytest
from argon2 import PasswordHasher

from services.auth.domain import passwords
from services.auth.domain.registration import Registration, validate_registration
from services.market.domain.symbols import normalize_symbols
from services.runtime.errors import InvalidArgument, NotFound
from services.session.domain import session
from services.tenant.domain.tenant import NewTenant, Plan, new_tenant, parse_tenant_name
from services.user.domain.user import parse_user_name

TENANT = "6f9619ff-8b86-d011-b42d-00c04fc964ff"
GOOD_PASSWORD = "correct-horse-9"


def _fields(error: InvalidArgument) -> list[str]:
    return [v.field for v in error.violations]


def _register(**overrides: str) -> Registration:
    values = {"tenant_id": TENANT, "email": "alice@example.com", "password": GOOD_PASSWORD,
              "display_name": "Alice"}
    return validate_registration(**{**values, **overrides})


def _registration_error(**overrides: str) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        _register(**overrides)
    return caught.value


# Registration


def test_valid_registration_is_normalised():
    registration = _register(tenant_id=TENANT.upper(), email="  alice@example.com ",
                             display_name="  Alice  ")

    assert registration == Registration(TENANT, "alice@example.com", GOOD_PASSWORD, "Alice")


@pytest.mark.parametrize("email", [
    "", "alice", "alice@example", "@example.com", "alice@.com.", "al ice@example.com",
    "alice@@example.com", "alice@exa mple.com", "a" * 243 + "@example.com"])
def test_email_must_look_like_an_address(email):
    assert _fields(_registration_error(email=email)) == ["email"]


def test_longest_allowed_email_is_accepted():
    email = "a" * 242 + "@example.com"
    assert len(email) == 254

    assert _register(email=email).email == email


@pytest.mark.parametrize(("password", "problem"), [
    ("short-pw-1", "at least 12"),
    ("a1" * 64 + "x", "at most 128"),
    ("onlyletterswithoutdigits", "mix letters"),
    ("123456789012345", "mix letters"),
    ("!!!!----####", "mix letters"),
    ("my-Alice-password-1", "must not contain the email"),
])
def test_password_policy(password, problem):
    error = _registration_error(password=password)

    assert _fields(error) == ["password"]
    assert problem in error.violations[0].description
    assert error.violations[0].reason == "PASSWORD_POLICY"


@pytest.mark.parametrize("password", ["a" * 11 + "1", "a1" * 64])
def test_password_length_bounds_are_inclusive(password):
    assert _register(password=password).password == password


def test_short_email_local_part_may_appear_in_the_password():
    assert _register(email="bob@example.com", password="bob-is-great-9").email == (
        "bob@example.com")


def test_tenant_id_must_be_a_uuid():
    error = _registration_error(tenant_id="acme")

    assert _fields(error) == ["tenant_id"]


def test_display_name_length():
    assert _register(display_name="x" * 100).display_name == "x" * 100
    assert _fields(_registration_error(display_name="x" * 101)) == ["display_name"]


def test_every_bad_registration_field_is_reported_at_once():
    error = _registration_error(tenant_id="acme", email="nope", password="short",
                                display_name="x" * 101)

    assert _fields(error) == ["tenant_id", "email", "password", "password", "display_name"]


# Passwords


def test_password_hash_verifies_the_right_password_only():
    encoded = passwords.hash_password(GOOD_PASSWORD)

    assert encoded.startswith("$argon2id$")
    assert GOOD_PASSWORD not in encoded
    assert passwords.verify_password(encoded, GOOD_PASSWORD) is True
    assert passwords.verify_password(encoded, GOOD_PASSWORD + "x") is False


def test_hashes_of_the_same_password_are_salted():
    assert passwords.hash_password(GOOD_PASSWORD) != passwords.hash_password(GOOD_PASSWORD)


def test_verify_without_a_hash_is_false_even_for_the_dummy_password():
    assert passwords.verify_password(None, GOOD_PASSWORD) is False
    assert passwords.verify_password(None, "not-a-real-password-0") is False


def test_verify_against_a_malformed_hash_is_false():
    assert passwords.verify_password("not-a-hash", GOOD_PASSWORD) is False


def test_needs_rehash_only_for_other_parameters():
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)

    assert passwords.needs_rehash(weaker.hash(GOOD_PASSWORD)) is True
    assert passwords.needs_rehash(passwords.hash_password(GOOD_PASSWORD)) is False


# Tenants


def test_new_tenant_is_normalised():
    assert new_tenant("  Acme Brokers  ", Plan.PROFESSIONAL, "req-1") == NewTenant(
        "Acme Brokers", Plan.PROFESSIONAL, "req-1")
    assert new_tenant("Acme", Plan.BASIC, "").request_id is None


@pytest.mark.parametrize("display_name", ["", "   ", "x" * 101])
def test_new_tenant_display_name_rules(display_name):
    with pytest.raises(InvalidArgument) as caught:
        new_tenant(display_name, Plan.BASIC, "")
    assert _fields(caught.value) == ["tenant.display_name"]


def test_new_tenant_display_name_of_100_characters_is_accepted():
    assert new_tenant("x" * 100, Plan.ENTERPRISE, "").display_name == "x" * 100


def test_new_tenant_reports_name_and_plan_at_once():
    with pytest.raises(InvalidArgument) as caught:
        new_tenant("", None, "")
    assert _fields(caught.value) == ["tenant.display_name", "tenant.plan"]


def test_parse_tenant_name_returns_the_canonical_id():
    assert parse_tenant_name(f"tenants/{TENANT.upper()}") == TENANT


@pytest.mark.parametrize("name", ["", "tenants", "tenants/", "users/" + TENANT,
                                  f"tenants/{TENANT}/users"])
def test_parse_tenant_name_with_a_bad_shape_is_invalid_argument(name):
    with pytest.raises(InvalidArgument) as caught:
        parse_tenant_name(name)
    assert _fields(caught.value) == ["name"]


def test_tenant_id_that_is_not_a_uuid_is_not_found():
    with pytest.raises(NotFound) as caught:
        parse_tenant_name("tenants/acme")

    assert caught.value.reason == "TENANT_NOT_FOUND"
    assert caught.value.metadata == {"tenantId": "acme"}


# Sessions


def test_new_session_ids_are_128_bit_hex_and_parse_back():
    ids = {session.new_session_id() for _ in range(50)}

    assert len(ids) == 50
    for session_id in ids:
        assert len(session_id) == 32 and int(session_id, 16) >= 0
        assert session.parse_session_name(f"sessions/{session_id}") == session_id


@pytest.mark.parametrize(("user_id", "tenant_id", "fields"), [
    ("", "", ["user_id", "tenant_id"]), ("u", "", ["tenant_id"]), ("", "t", ["user_id"])])
def test_new_session_needs_user_and_tenant(user_id, tenant_id, fields):
    with pytest.raises(InvalidArgument) as caught:
        session.check_new_session(user_id, tenant_id)
    assert _fields(caught.value) == fields


def test_new_session_with_owner_is_accepted():
    session.check_new_session("u", "t")


@pytest.mark.parametrize("session_id", ["abc", "0" * 31, "0" * 33, "A" * 32, "g" * 32])
def test_session_id_that_cannot_exist_is_not_found(session_id):
    with pytest.raises(NotFound) as caught:
        session.parse_session_name(f"sessions/{session_id}")

    assert caught.value.reason == "SESSION_NOT_FOUND"
    assert caught.value.metadata == {"sessionId": session_id}


def test_session_name_with_a_bad_shape_is_invalid_argument():
    with pytest.raises(InvalidArgument):
        session.parse_session_name("users/" + "0" * 32)


# Users


def test_parse_user_name_returns_the_canonical_id():
    assert parse_user_name(f"users/{TENANT.upper()}") == TENANT


def test_user_id_that_is_not_a_uuid_is_not_found():
    with pytest.raises(NotFound) as caught:
        parse_user_name("users/alice")

    assert caught.value.reason == "USER_NOT_FOUND"
    assert caught.value.metadata == {"userId": "alice"}


def test_user_name_with_a_bad_shape_is_invalid_argument():
    with pytest.raises(InvalidArgument) as caught:
        parse_user_name("tenants/" + TENANT)
    assert _fields(caught.value) == ["name"]


# Symbols

KNOWN = {"AAPL", "MSFT", "TSLA", "BTC-USD"}


def test_symbols_are_split_upper_cased_and_deduplicated_in_order():
    assert normalize_symbols(["msft, aapl", "AAPL", " tsla ,", "btc-usd,MSFT"], KNOWN) == [
        "MSFT", "AAPL", "TSLA", "BTC-USD"]


@pytest.mark.parametrize("values", [[], [""], [" , ,"], ["", " "]])
def test_no_symbols_is_invalid_argument_naming_the_field(values):
    with pytest.raises(InvalidArgument) as caught:
        normalize_symbols(values, KNOWN, field="symbol_filter")
    assert _fields(caught.value) == ["symbol_filter"]


def test_at_most_100_symbols():
    known = {f"S{i}" for i in range(101)}

    assert len(normalize_symbols([",".join(sorted(known)[:100])], known)) == 100
    with pytest.raises(InvalidArgument) as caught:
        normalize_symbols(sorted(known), known)
    assert _fields(caught.value) == ["symbols"]


def test_duplicates_do_not_count_towards_the_limit():
    assert normalize_symbols(["aapl"] * 150, KNOWN) == ["AAPL"]


def test_unknown_symbols_are_not_found_with_their_names():
    with pytest.raises(NotFound) as caught:
        normalize_symbols(["aapl,zzz", "yyy"], KNOWN)

    assert caught.value.reason == "SYMBOL_NOT_FOUND"
    assert caught.value.metadata == {"symbols": "ZZZ,YYY"}
    assert "ZZZ" in caught.value.message and "YYY" in caught.value.message
