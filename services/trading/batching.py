"""Requests queued per key and handled in batches, one batch at a time per key (group commit).

The engine places orders this way: every order of one venue that arrives while the venue is
busy waits in its queue, and the next batch takes them all into one database transaction. An
idle venue handles an order at once (a batch of one), so batching adds no latency; a busy one
amortizes the transaction's round trips over every waiting order, so throughput grows with
load instead of collapsing into a queue of transactions.

The handler answers each request's future, and may hand back requests it could not take in
this batch; they run first in the next one. If a batch of several fails as a whole (one
request's bad data can fail the shared transaction), each of its unanswered requests is tried
again alone, so only the culprit fails. A caller that stops waiting does not withdraw its
request: once queued, it is handled (an order placed by a client that gave up is found by its
client order id when the client retries), except that it is not retried after such a failure.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Payload = TypeVar("Payload")
Answer = TypeVar("Answer")


@dataclass(eq=False)
class Pending(Generic[Payload, Answer]):
    """A queued request and the future its caller awaits."""

    payload: Payload
    future: asyncio.Future[Answer] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())

    def answer(self, result: Answer) -> None:
        """Resolve the request (a caller that stopped waiting is skipped)."""
        if not self.future.done():
            self.future.set_result(result)

    def fail(self, error: BaseException) -> None:
        """Fail the request (a caller that stopped waiting is skipped)."""
        if not self.future.done():
            self.future.set_exception(error)


Handler = Callable[[Key, list[Pending[Payload, Answer]]],
                   Awaitable[list[Pending[Payload, Answer]]]]


class Batcher(Generic[Key, Payload, Answer]):
    """Queues requests per key and runs `handler` on batches of at most `max_batch`.

    `handler(key, batch)` answers or fails every request it takes and returns the ones it
    deferred; it must take the first request of each batch, so the queue always advances.
    """

    def __init__(self, handler: Handler[Key, Payload, Answer], max_batch: int) -> None:
        self._handler, self._max_batch = handler, max_batch
        self._queues: dict[Key, deque[Pending[Payload, Answer]]] = {}
        self._workers: dict[Key, asyncio.Task[None]] = {}

    async def submit(self, key: Key, payload: Payload) -> Answer:
        """Queue `payload` under `key`; return its answer once a batch has handled it."""
        pending: Pending[Payload, Answer] = Pending(payload)
        self._queues.setdefault(key, deque()).append(pending)
        if key not in self._workers:
            # A context of its own: the batch is nobody's request (logs, request ids).
            self._workers[key] = asyncio.create_task(self._work(key),
                                                     context=contextvars.Context())
        return await pending.future

    async def _work(self, key: Key) -> None:
        queue = self._queues[key]
        batch: list[Pending[Payload, Answer]] = []
        alone = 0  # requests at the front of the queue to retry one by one
        try:
            while queue:
                size = 1 if alone else min(len(queue), self._max_batch)
                alone = max(alone - 1, 0)
                batch = [queue.popleft() for _ in range(size)]
                try:
                    deferred = await self._handler(key, batch)
                except Exception as error:
                    if len(batch) == 1:
                        batch[0].fail(error)
                        continue
                    retry = [p for p in batch if not p.future.done()]
                    queue.extendleft(reversed(retry))
                    alone += len(retry)
                    continue
                if deferred and deferred[0] is batch[0]:
                    raise RuntimeError("a batch handler must take the first request")
                queue.extendleft(reversed(deferred))
                for pending in batch:
                    if pending not in deferred:
                        pending.fail(RuntimeError("the batch handler left a request unanswered"))
        except BaseException:  # cancelled at shutdown: nobody will handle the rest
            for pending in [*batch, *queue]:
                pending.fail(RuntimeError("the order engine stopped"))
            queue.clear()
            raise
        finally:
            del self._workers[key]
            if not queue:
                del self._queues[key]
