"""Request ids for mutating calls: a retry gets the first response instead of a second effect."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from google.protobuf.message import Message

from services.runtime.errors import FieldViolation, InvalidArgument
from services.trading.domain.orders import Order
from services.trading.store import TenantTrading

Response = TypeVar("Response", bound=Message)


def request_hash(request: Message) -> bytes:
    """Return a digest of the request without its request_id."""
    copy = type(request)()
    copy.CopyFrom(request)
    copy.ClearField("request_id")  # type: ignore[arg-type]
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).digest()


async def once(db: TenantTrading, method: str, request: Message, response_type: type[Response],
               work: Callable[[], Awaitable[Response]]) -> Response:
    """Run `work` unless this request id was answered before; then answer the same way.

    Runs inside the caller's transaction, after the lock that serializes the resource, so a
    concurrent twin waits and then finds the stored answer.
    """
    request_id: str = getattr(request, "request_id", "")
    if not request_id:
        return await work()
    earlier = await answered(db, method, request, response_type)
    if earlier is not None:
        return earlier
    response = await work()
    await db.remember(method, request_id, request_hash(request), response.SerializeToString())
    return response


async def answered(db: TenantTrading, method: str, request: Message,
                   response_type: type[Response]) -> Response | None:
    """Return the stored answer to this request id, None if there is none (or no id)."""
    request_id: str = getattr(request, "request_id", "")
    stored = await db.remembered(method, request_id) if request_id else None
    if stored is None:
        return None
    if bytes(stored["request_hash"]) != request_hash(request):
        raise InvalidArgument(
            "request_id was already used for a different request",
            [FieldViolation("request_id", "use a new id for a different request")],
            reason="REQUEST_ID_REUSED", metadata={"requestId": request_id})
    return response_type.FromString(stored["response"])


class OrderReply(Generic[Response]):
    """The reply to an order command, stored under its request id by the command itself.

    The engine calls it inside the command's transaction, so the change and the stored answer
    commit together: a retry after a crash finds both or neither, never a change without the
    answer (which would make it act again).
    """

    def __init__(self, method: str, request: Message, response_type: type[Response],
                 order_to_proto: Callable[[Order], Message]) -> None:
        self.method, self.response_type = method, response_type
        self._request, self._order_to_proto = request, order_to_proto
        self.reply: Response | None = None

    async def answered(self, db: TenantTrading) -> bool:
        """Return whether this request id has a stored reply (a twin committed first)."""
        request_id: str = getattr(self._request, "request_id", "")
        return bool(request_id) and await db.remembered(self.method, request_id) is not None

    async def __call__(self, db: TenantTrading, order: Order) -> None:
        """Build the reply from the changed order and store it under the request id."""
        self.reply = self.response_type(order=self._order_to_proto(order))
        request_id: str = getattr(self._request, "request_id", "")
        if request_id:
            await db.remember(self.method, request_id, request_hash(self._request),
                              self.reply.SerializeToString())
