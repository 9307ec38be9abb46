"""Tests for the caller identity context, service configuration and secret redaction in logs."""

import asyncio
import logging

import pytest

from services.runtime import identity
from services.runtime.config import ConfigError, ServiceConfig
from services.runtime.errors import Unauthenticated
from services.runtime.identity import Identity
from services.runtime.logs import RedactSecrets

ALICE = Identity("u-alice", "t-acme", ("trader", "admin"), "s-1")
BOB = Identity("u-bob", "t-beta")


def _metadata(**values: str) -> list[tuple[str, str]]:
    keys = {"user": identity.USER_ID_KEY, "tenant": identity.TENANT_ID_KEY,
            "roles": identity.ROLES_KEY, "session": identity.SESSION_ID_KEY}
    return [(keys[name], value) for name, value in values.items()]


# identity_from_metadata


def test_identity_is_read_from_forwarded_metadata():
    metadata = [("x-request-id", "r-1"),
                *_metadata(user="u-1", tenant="t-1", roles="trader,admin", session="s-9")]

    assert identity.identity_from_metadata(metadata) == Identity(
        "u-1", "t-1", ("trader", "admin"), "s-9")


@pytest.mark.parametrize("values", [
    {},
    {"tenant": "t-1", "roles": "admin"},
    {"user": "u-1", "roles": "admin"},
    {"user": "", "tenant": "t-1"},
    {"user": "u-1", "tenant": ""},
])
def test_identity_without_user_or_tenant_is_none(values):
    assert identity.identity_from_metadata(_metadata(**values)) is None


def test_roles_are_split_on_commas_dropping_empty_parts():
    found = identity.identity_from_metadata(_metadata(user="u", tenant="t", roles=",a,,b,"))

    assert found is not None and found.roles == ("a", "b")


def test_missing_roles_and_session_default_to_empty():
    found = identity.identity_from_metadata(_metadata(user="u", tenant="t"))

    assert found == Identity("u", "t", (), "")


def test_binary_metadata_values_are_ignored():
    metadata = [(identity.USER_ID_KEY, b"u-1"), (identity.TENANT_ID_KEY, "t-1")]

    assert identity.identity_from_metadata(metadata) is None


@pytest.mark.parametrize("who", [ALICE, BOB, Identity("u", "t", ("viewer",))])
def test_identity_round_trips_through_its_metadata(who):
    assert identity.identity_from_metadata(who.metadata()) == who


def test_identity_metadata_uses_the_x_tradesage_keys():
    assert dict(ALICE.metadata()) == {
        "x-tradesage-user-id": "u-alice",
        "x-tradesage-tenant-id": "t-acme",
        "x-tradesage-roles": "trader,admin",
        "x-tradesage-session-id": "s-1",
    }
    assert set(identity.IDENTITY_KEYS) == set(dict(ALICE.metadata()))


# require_identity, bind, unbind


def test_require_identity_outside_a_bound_call_is_unauthenticated():
    assert identity.current_identity() is None
    with pytest.raises(Unauthenticated) as caught:
        identity.require_identity()
    assert caught.value.reason == "UNAUTHENTICATED"


def test_bind_sets_identity_and_request_id_and_unbind_restores_them():
    outer = identity.bind(ALICE, "r-outer")
    try:
        assert identity.require_identity() is ALICE
        assert identity.current_request_id() == "r-outer"
        inner = identity.bind(BOB, "r-inner")
        assert (identity.current_identity(), identity.current_request_id()) == (BOB, "r-inner")
        identity.unbind(inner)
        assert (identity.current_identity(), identity.current_request_id()) == (ALICE, "r-outer")
    finally:
        identity.unbind(outer)

    assert (identity.current_identity(), identity.current_request_id()) == (None, "")


def test_binding_none_makes_require_identity_fail():
    tokens = identity.bind(None, "r-anon")
    try:
        assert identity.current_request_id() == "r-anon"
        with pytest.raises(Unauthenticated):
            identity.require_identity()
    finally:
        identity.unbind(tokens)


async def test_binding_in_one_task_is_invisible_to_another():
    bound = asyncio.Event()
    release = asyncio.Event()

    async def call() -> None:
        tokens = identity.bind(ALICE, "r-task")
        bound.set()
        await release.wait()
        identity.unbind(tokens)

    task = asyncio.create_task(call())
    await bound.wait()
    seen = (identity.current_identity(), identity.current_request_id())
    release.set()
    await task

    assert seen == (None, "")


# ServiceConfig.from_env


def test_config_reads_every_setting():
    env = {"TRADESAGE_LISTEN": "127.0.0.1:50051", "TRADESAGE_MESH_OUTBOUND": "127.0.0.1:15001",
           "DATABASE_URL": "postgresql://db", "REDIS_URL": "redis://r",
           "TRADESAGE_GRACE_SECONDS": "2.5", "TRADESAGE_LOG_LEVEL": "debug"}

    config = ServiceConfig.from_env("trading", needs_database=True, needs_redis=True, env=env)

    assert config == ServiceConfig(
        service="trading", listen="127.0.0.1:50051", mesh_outbound="127.0.0.1:15001",
        database_url="postgresql://db", redis_url="redis://r", grace_seconds=2.5,
        log_level="DEBUG")


def test_config_defaults():
    config = ServiceConfig.from_env("session", needs_database=False, needs_redis=False,
                                    env={"TRADESAGE_LISTEN": ":1"})

    assert (config.mesh_outbound, config.database_url, config.redis_url) == ("", "", "")
    assert (config.grace_seconds, config.log_level) == (10.0, "INFO")


def test_config_lists_every_missing_required_name():
    with pytest.raises(ConfigError) as caught:
        ServiceConfig.from_env("auth", needs_database=True, needs_redis=True, env={})

    message = str(caught.value)
    assert message.startswith("auth:")
    for name in ("TRADESAGE_LISTEN", "DATABASE_URL", "REDIS_URL"):
        assert name in message


def test_config_requires_only_the_stores_the_service_needs():
    with pytest.raises(ConfigError) as caught:
        ServiceConfig.from_env("session", needs_database=False, needs_redis=True,
                               env={"TRADESAGE_LISTEN": ":1", "REDIS_URL": ""})

    assert "REDIS_URL" in str(caught.value)
    assert "DATABASE_URL" not in str(caught.value)
    assert "TRADESAGE_LISTEN" not in str(caught.value)


@pytest.mark.parametrize("grace", ["soon", "", "10s"])
def test_config_rejects_a_grace_period_that_is_not_a_number(grace):
    env = {"TRADESAGE_LISTEN": ":1", "TRADESAGE_GRACE_SECONDS": grace}

    with pytest.raises(ConfigError, match="TRADESAGE_GRACE_SECONDS"):
        ServiceConfig.from_env("tenant", needs_database=False, needs_redis=False, env=env)


# RedactSecrets


@pytest.mark.parametrize("field", [
    "password", "new_password", "Password", "client_secret", "access_token", "refreshToken",
    "authorization", "Authorization", "cookie", "set_cookie", "totp", "totp_code", "api_key",
    "signing_key"])
def test_secret_looking_extra_fields_are_redacted(field):
    record = logging.makeLogRecord({"msg": "signing in", field: "hunter2"})

    assert RedactSecrets().filter(record) is True
    assert getattr(record, field) == "[redacted]"


def test_other_fields_and_the_message_are_kept():
    record = logging.makeLogRecord({
        "msg": "signed in %s", "args": ("alice",), "levelname": "INFO",
        "user_id": "u-1", "tenant_id": "t-1", "grace_seconds": 10, "password": "hunter2"})

    RedactSecrets().filter(record)

    assert (record.user_id, record.tenant_id, record.grace_seconds) == ("u-1", "t-1", 10)
    assert record.getMessage() == "signed in alice"
    assert record.levelname == "INFO"
    assert record.password == "[redacted]"
