"""UpdateSubscription on any replica: change a live stream's symbols, wherever it is served.

A stream lives on the replica that accepted it. Each replica's hub subscribes, on its one
pub/sub connection, to `subscription-control:{id}` for every stream it serves, and to its own
`subscription-reply:{replica}`. An update that lands on the serving replica is applied at once;
one that lands elsewhere is published on the stream's control channel:

* PUBLISH answers how many listened. 0 means no replica serves that id (it never existed or its
  stream has ended): NOT_FOUND at once, with no registry to keep in step or expire.
* The serving replica applies the change exactly as a local call would (owner check, plan
  limit, snapshot of the added symbols) and publishes the result, or the error, on the asking
  replica's reply channel; the asking replica answers the client with it.

Only the stream's owner (the same user id) may update it; to anyone else the id does not exist.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Sequence

from services.market.hub import (
    CONTROL_PREFIX,
    QuoteHub,
    Subscription,
    WireQuote,
    control_channel,
    reply_channel,
)
from services.market.store import QuoteBook
from services.runtime.errors import (
    DomainError,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)
from services.runtime.plans import Limits, check_limit

log = logging.getLogger("tradesage.market.subscriptions")

# How long a forwarded update waits for the serving replica's answer.
REMOTE_TIMEOUT_SECONDS = 5.0
# Wait before asking a second time when no replica listened (e.g. one reconnecting to Redis).
RETRY_SECONDS = 0.2

_ERRORS: dict[str, type[DomainError]] = {
    error.status: error for error in (NotFound, ResourceExhausted, InvalidArgument, Unavailable)}


def not_found(subscription_id: str) -> NotFound:
    """Return the error for an id that is unknown, ended, or someone else's."""
    return NotFound(f"no live subscription {subscription_id}", reason="SUBSCRIPTION_NOT_FOUND",
                    metadata={"subscriptionId": subscription_id})


class SubscriptionControl:
    """Apply UpdateSubscription locally or forward it to the replica serving the stream."""

    def __init__(self, hub: QuoteHub, book: QuoteBook,
                 timeout_seconds: float = REMOTE_TIMEOUT_SECONDS) -> None:
        self._hub = hub
        self._book = book
        self._timeout = timeout_seconds
        self._waiting: dict[str, asyncio.Future[dict[str, object]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        hub.on_control(self._on_message)

    async def update(self, subscription_id: str, user_id: str, add: Sequence[str],
                     remove: Sequence[str], max_symbols: int) -> list[str]:
        """Change the symbols of `subscription_id` for its owner `user_id`; return them sorted."""
        local = self._hub.local(subscription_id)
        if local is not None:
            return await self._apply(local, user_id, add, remove, max_symbols)
        return await self._forward(subscription_id, user_id, add, remove, max_symbols)

    async def _apply(self, subscription: Subscription, user_id: str, add: Sequence[str],
                     remove: Sequence[str], max_symbols: int) -> list[str]:
        if not user_id or subscription.owner != user_id:
            raise not_found(subscription.id)
        kept = subscription.symbols - set(remove)
        added = [symbol for symbol in add if symbol not in kept]
        if added:
            check_limit(Limits(max_subscription_symbols=max_symbols),
                        "max_subscription_symbols", len(kept), adding=len(added))
        removed = [symbol for symbol in remove if symbol in subscription.symbols]
        new = [symbol for symbol in added if symbol not in subscription.symbols]
        self._hub.change(subscription, new, removed)
        if new:
            # The client sees the new symbols' prices at once, not at their next tick.
            latest = await self._book.latest(new)
            if self._hub.local(subscription.id) is subscription:  # its stream still runs
                subscription.prime(WireQuote(quote) for symbol, quote in latest.items()
                                   if symbol in subscription.symbols)
        return sorted(subscription.symbols)

    async def _forward(self, subscription_id: str, user_id: str, add: Sequence[str],
                       remove: Sequence[str], max_symbols: int) -> list[str]:
        request_id = secrets.token_hex(8)
        answer: asyncio.Future[dict[str, object]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = answer
        try:
            control = json.dumps({
                "request": request_id, "replyTo": self._hub.replica_id, "user": user_id,
                "add": list(add), "remove": list(remove), "maxSymbols": max_symbols})
            heard = await self._hub.publish(control_channel(subscription_id), control)
            if heard == 0:  # once more, in case the serving replica was re-subscribing
                await asyncio.sleep(RETRY_SECONDS)
                heard = await self._hub.publish(control_channel(subscription_id), control)
            if heard == 0:
                raise not_found(subscription_id)
            try:
                reply = await asyncio.wait_for(answer, self._timeout)
            except TimeoutError:
                raise Unavailable(
                    "the replica serving the subscription did not answer; try again",
                    reason="SUBSCRIPTION_UNAVAILABLE",
                    metadata={"subscriptionId": subscription_id}) from None
        finally:
            self._waiting.pop(request_id, None)
        if error := reply.get("error"):
            raise _error_from(error)  # type: ignore[arg-type]
        return list(reply["symbols"])  # type: ignore[call-overload]

    def _on_message(self, channel_name: str, data: str) -> None:
        message = json.loads(data)
        if channel_name.startswith(CONTROL_PREFIX):
            subscription_id = channel_name.removeprefix(CONTROL_PREFIX)
            task = asyncio.get_running_loop().create_task(self._serve(subscription_id, message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif (waiting := self._waiting.get(message.get("request", ""))) and not waiting.done():
            waiting.set_result(message)

    async def _serve(self, subscription_id: str, message: dict[str, object]) -> None:
        reply: dict[str, object] = {"request": message["request"]}
        try:
            subscription = self._hub.local(subscription_id)
            if subscription is None:
                raise not_found(subscription_id)
            reply["symbols"] = await self._apply(
                subscription, str(message["user"]), list(message["add"]),  # type: ignore[call-overload]
                list(message["remove"]), int(message["maxSymbols"]))  # type: ignore[call-overload]
        except DomainError as error:
            reply["error"] = {"status": error.status, "message": error.message,
                              "reason": error.reason, "metadata": error.metadata}
        try:
            await self._hub.publish(reply_channel(str(message["replyTo"])), json.dumps(reply))
        except Exception:  # the asking replica times out and answers UNAVAILABLE
            log.exception("could not answer a forwarded subscription update")


def _error_from(error: dict[str, object]) -> DomainError:
    kind = _ERRORS.get(str(error.get("status")), Unavailable)
    return kind(str(error.get("message", "")), reason=str(error.get("reason", "")),
                metadata=error.get("metadata") or {})  # type: ignore[arg-type]
