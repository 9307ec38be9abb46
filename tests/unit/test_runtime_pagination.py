"""Tests for AIP-158 page sizes and tokens and AIP-122 resource names."""

import base64
import json

import pytest

from services.runtime import names, pagination
from services.runtime.errors import InvalidArgument


def _token_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(("requested", "expected"), [
    (0, 50), (1, 1), (50, 50), (499, 499), (500, 500), (501, 500), (10_000, 500)])
def test_page_size_defaults_zero_and_caps_at_the_maximum(requested, expected):
    assert pagination.page_size(requested) == expected


def test_page_size_constants():
    assert (pagination.DEFAULT_PAGE_SIZE, pagination.MAX_PAGE_SIZE) == (50, 500)


@pytest.mark.parametrize("requested", [-1, -500])
def test_negative_page_size_is_invalid_argument(requested):
    with pytest.raises(InvalidArgument) as caught:
        pagination.page_size(requested)
    assert [v.field for v in caught.value.violations] == ["page_size"]


@pytest.mark.parametrize("cursor", [
    {},
    {"id": "42"},
    {"create_time": "2025-01-01T00:00:00Z", "id": "a/b+c=d"},
    {"name": "Zürich ✓", "empty": ""},
])
def test_token_round_trips_its_cursor(cursor):
    token = pagination.encode_token(cursor)

    assert pagination.decode_token(token) == cursor


def test_token_is_url_safe_without_padding():
    # Lengths 1..3 mod 3 all occur in the JSON of these cursors, so padding would show up.
    for value in ("a", "ab", "abc", "?>?>?>", "\xff\xfe"):
        token = pagination.encode_token({"id": value})
        assert "=" not in token and "+" not in token and "/" not in token, token


def test_token_does_not_depend_on_key_order():
    assert pagination.encode_token({"a": "1", "b": "2"}) == pagination.encode_token(
        {"b": "2", "a": "1"})


def test_empty_token_means_first_page():
    assert pagination.decode_token("") is None


@pytest.mark.parametrize("token", [
    "!!!not a token!!!",
    "a",
    "bm90IGpzb24",  # "not json"
    _token_of(b"\xff\xfe\xfd"),  # not UTF-8
    _token_of(json.dumps([1, 2]).encode()),
    _token_of(b'"a string"'),
    _token_of(b"null"),
    _token_of(b"42"),
])
def test_token_we_did_not_make_is_invalid_argument(token):
    with pytest.raises(InvalidArgument) as caught:
        pagination.decode_token(token)
    assert [v.field for v in caught.value.violations] == ["page_token"]


def test_resource_id_returns_the_id():
    assert names.resource_id("orders/o-42", "orders") == "o-42"


@pytest.mark.parametrize("name", ["", "orders", "orders/", "users/u-1", "orders/a/b",
                                  "/orders/1", "Orders/1"])
def test_malformed_resource_name_is_invalid_argument_naming_the_field(name):
    with pytest.raises(InvalidArgument) as caught:
        names.resource_id(name, "orders", field="order.name")
    [violation] = caught.value.violations
    assert violation.field == "order.name"
    assert "orders/{id}" in violation.description


def test_resource_id_names_field_name_by_default():
    with pytest.raises(InvalidArgument) as caught:
        names.resource_id("bad", "tenants")
    assert [v.field for v in caught.value.violations] == ["name"]


def test_uuid_or_none_canonicalises_a_uuid():
    assert names.uuid_or_none("6F9619FF-8B86-D011-B42D-00C04FC964FF") == (
        "6f9619ff-8b86-d011-b42d-00c04fc964ff")


@pytest.mark.parametrize("value", ["", "not-a-uuid", "6f9619ff-8b86-d011-b42d-00c04fc964f",
                                   "6f9619ff-8b86-d011-b42d-00c04fc964ffx"])
def test_uuid_or_none_rejects_non_uuids(value):
    assert names.uuid_or_none(value) is None


def test_page_size_takes_a_default_and_maximum_of_its_own():
    assert pagination.page_size(0, default=100) == 100
    assert pagination.page_size(150, maximum=100) == 100
    assert pagination.page_size(30, default=100, maximum=100) == 30
