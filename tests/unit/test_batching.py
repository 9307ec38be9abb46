"""The per-key batcher the order engine places orders through (services/trading/batching.py)."""

from __future__ import annotations

import asyncio

import pytest

from services.trading.batching import Batcher, Pending


class Recorder:
    """A handler that records its batches, answers each payload doubled, and can be held."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[int]]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.running: set[str] = set()
        self.overlapped = False
        self.defer_once: set[int] = set()
        self.fail_with: Exception | None = None

    async def __call__(self, key: str, batch: list[Pending[int, int]]) -> list[Pending[int, int]]:
        self.overlapped |= key in self.running
        self.running.add(key)
        try:
            self.batches.append((key, [p.payload for p in batch]))
            await self.release.wait()
            if self.fail_with is not None:
                raise self.fail_with
            deferred = [p for p in batch[1:] if p.payload in self.defer_once]
            self.defer_once -= {p.payload for p in deferred}
            for pending in batch:
                if pending not in deferred:
                    pending.answer(pending.payload * 2)
            return deferred
        finally:
            self.running.discard(key)


async def test_an_idle_key_handles_a_request_at_once() -> None:
    handler = Recorder()
    batcher: Batcher[str, int, int] = Batcher(handler, max_batch=10)
    assert await batcher.submit("a", 1) == 2
    assert handler.batches == [("a", [1])]


async def test_requests_arriving_while_a_batch_runs_form_the_next_batch() -> None:
    handler = Recorder()
    batcher: Batcher[str, int, int] = Batcher(handler, max_batch=3)
    handler.release.clear()
    first = asyncio.create_task(batcher.submit("a", 1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(batcher.submit("a", n)) for n in range(2, 7)]
    await asyncio.sleep(0)
    handler.release.set()
    assert await asyncio.gather(first, *rest) == [2, 4, 6, 8, 10, 12]
    # One at a time per key, in arrival order, never more than max_batch together.
    assert handler.batches == [("a", [1]), ("a", [2, 3, 4]), ("a", [5, 6])]
    assert not handler.overlapped


async def test_keys_run_concurrently() -> None:
    handler = Recorder()
    batcher: Batcher[str, int, int] = Batcher(handler, max_batch=10)
    handler.release.clear()
    tasks = [asyncio.create_task(batcher.submit(key, 1)) for key in ("a", "b")]
    await asyncio.sleep(0.01)
    assert {key for key, _ in handler.batches} == {"a", "b"}  # both started before release
    handler.release.set()
    assert await asyncio.gather(*tasks) == [2, 2]


async def test_deferred_requests_run_first_in_the_next_batch() -> None:
    handler = Recorder()
    handler.defer_once = {3}
    batcher: Batcher[str, int, int] = Batcher(handler, max_batch=10)
    handler.release.clear()
    first = asyncio.create_task(batcher.submit("a", 1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(batcher.submit("a", n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    handler.release.set()
    await asyncio.gather(first, *rest)
    await asyncio.sleep(0)
    assert handler.batches[1:] == [("a", [2, 3, 4]), ("a", [3])]


async def test_a_failing_batch_fails_each_of_its_requests_and_the_queue_goes_on() -> None:
    handler = Recorder()
    batcher: Batcher[str, int, int] = Batcher(handler, max_batch=10)
    handler.fail_with = ValueError("database away")
    with pytest.raises(ValueError, match="database away"):
        await batcher.submit("a", 1)
    handler.fail_with = None
    assert await batcher.submit("a", 2) == 4


async def test_a_caller_that_stops_waiting_does_not_withdraw_its_request() -> None:
    handler = Recorder()
    batcher: Batcher[str, int, int] = Batcher(handler, max_batch=10)
    handler.release.clear()
    first = asyncio.create_task(batcher.submit("a", 1))
    await asyncio.sleep(0)
    impatient = asyncio.create_task(batcher.submit("a", 2))
    await asyncio.sleep(0)
    impatient.cancel()
    handler.release.set()
    assert await first == 2
    await asyncio.sleep(0.01)
    assert handler.batches == [("a", [1]), ("a", [2])]


async def test_a_handler_that_leaves_a_request_unanswered_fails_it() -> None:
    async def forgetful(key: str, batch: list[Pending[int, int]]) -> list[Pending[int, int]]:
        return []

    batcher: Batcher[str, int, int] = Batcher(forgetful, max_batch=10)
    with pytest.raises(RuntimeError, match="unanswered"):
        await batcher.submit("a", 1)


async def test_a_failed_batch_is_retried_one_by_one_so_only_the_culprit_fails() -> None:
    calls: list[list[int]] = []

    async def poisoned(key: str, batch: list[Pending[int, int]]) -> list[Pending[int, int]]:
        calls.append([p.payload for p in batch])
        if any(p.payload == 13 for p in batch):
            raise ValueError("13 breaks the transaction")
        for pending in batch:
            pending.answer(pending.payload)
        return []

    batcher: Batcher[str, int, int] = Batcher(poisoned, max_batch=10)
    first = asyncio.create_task(batcher.submit("a", 1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(batcher.submit("a", n)) for n in (12, 13, 14)]
    results = await asyncio.gather(first, *rest, return_exceptions=True)
    assert results[:2] == [1, 12] and results[3] == 14
    assert isinstance(results[2], ValueError)
    assert calls == [[1], [12, 13, 14], [12], [13], [14]]
