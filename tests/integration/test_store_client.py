"""The services' Valkey client: commands wait for a free connection, streams have their own."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio.client import PubSub

from mesh.embedded import EmbeddedValkey
from mesh.ports import free_port
from services.runtime import cache

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def valkey_url() -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="tradesage-valkey-") as directory:
        valkey = EmbeddedValkey(Path(directory), free_port())
        try:
            yield valkey.start()
        finally:
            valkey.stop()


async def next_message(stream: PubSub) -> str:
    """Return the data of the stream's next message (subscription notices are skipped)."""
    for _ in range(20):
        message = await stream.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message is not None:
            return str(message["data"])
    raise AssertionError("no message arrived")


async def test_open_subscriptions_leave_every_command_connection_free(
        valkey_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_CONNECTIONS", 2)
    client = await cache.connect_redis(valkey_url)
    streams = [client.pubsub(ignore_subscribe_messages=True) for _ in range(5)]
    try:
        for n, stream in enumerate(streams):
            await stream.subscribe(f"updates:{n}")
        # Five open streams, two command connections: commands still run, side by side.
        counts = await asyncio.wait_for(
            asyncio.gather(*(client.incr("n") for _ in range(20))), timeout=5)
        assert sorted(counts) == list(range(1, 21))
        assert await client.publish("updates:3", "hello") == 1
        assert await next_message(streams[3]) == "hello"
    finally:
        for stream in streams:
            await stream.aclose()
        await client.aclose()


async def test_a_burst_beyond_the_pool_waits_instead_of_failing(
        valkey_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_CONNECTIONS", 3)
    client = await cache.connect_redis(valkey_url)
    try:
        # Each BLPOP holds a connection for 0.2 s; 12 of them share 3 connections in turns.
        results = await asyncio.gather(*(client.blpop([f"empty:{n}"], timeout=0.2)
                                         for n in range(12)))
        assert results == [None] * 12
        assert len(client.connection_pool._in_use_connections) == 0
    finally:
        await client.aclose()
