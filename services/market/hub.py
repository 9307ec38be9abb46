"""Fan quotes out to this replica's subscribers, from one Redis pub/sub connection.

Every replica hears every quote on Redis (whichever replica ingested it) and hands it to its
local subscribers, so any replica serves any symbol. The same connection carries the control
messages of UpdateSubscription calls that land on another replica than the stream
(`services.market.subscriptions`).

The hot path does per-quote work once per tick, not once per subscriber: a quote's JSON is
parsed and its protobuf encoded once (`WireQuote`); each subscriber's message is those shared
bytes followed by the few bytes naming its subscription (protobuf merges concatenated
encodings of a message, so no subscriber re-encodes anything). A subscriber's task is woken
once per batch of quotes, however many arrived.

A subscriber that falls behind is conflated: its queue holds at most its symbol count plus
`QUEUE_SLACK` quotes; past that only the latest quote per symbol is kept and the next message
of such a symbol says `conflated`. A slow client therefore never blocks the others nor grows
memory beyond that bound, and a client that keeps up gets every tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable

from redis.asyncio import Redis
from redis.exceptions import RedisError
from tradesage.market.v1 import market_service_pb2 as api
from tradesage.type.v1 import stream_pb2

from services.market.converters import quote_to_proto
from services.market.domain.quotes import Quote
from services.runtime.timestamps import from_epoch_ms

log = logging.getLogger("tradesage.market.hub")

CHANNEL_PREFIX = "quotes."
CONTROL_PREFIX = "subscription-control:"
REPLY_PREFIX = "subscription-reply:"
# Quotes a subscriber may have waiting beyond one per symbol before it is conflated.
QUEUE_SLACK = 32
# At most this many quotes go in one batched message.
MAX_BATCH = 256
# After a snapshot, live quotes at or below its sequence are duplicates for this long.
SNAPSHOT_FLOOR_SECONDS = 5.0
# How often idle streams are checked for a due heartbeat.
SWEEP_SECONDS = 0.25

ControlHandler = Callable[[str, str], None]


def channel(symbol: str) -> str:
    """Return the pub/sub channel of `symbol`."""
    return f"{CHANNEL_PREFIX}{symbol}"


def control_channel(subscription_id: str) -> str:
    """Return the channel on which the replica holding a subscription takes its updates."""
    return f"{CONTROL_PREFIX}{subscription_id}"


def reply_channel(replica_id: str) -> str:
    """Return the channel on which a replica hears answers to the updates it forwarded."""
    return f"{REPLY_PREFIX}{replica_id}"


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """Return `payload` as length-delimited field `number` of a protobuf message."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


_QUOTE_FIELD = api.SubscribeResponse.QUOTE_FIELD_NUMBER
_QUOTES_FIELD = api.SubscribeResponse.QUOTES_FIELD_NUMBER
_CONFLATED = _varint(api.SubscribeResponse.CONFLATED_FIELD_NUMBER << 3) + b"\x01"


class WireQuote:
    """A quote encoded once, as a SubscribeResponse fragment for either stream style."""

    __slots__ = ("batched", "sequence", "single", "symbol")

    def __init__(self, quote: Quote) -> None:
        body = quote_to_proto(quote).SerializeToString()
        self.symbol = quote.symbol
        self.sequence = quote.sequence
        self.single = _field(_QUOTE_FIELD, body)  # SubscribeResponse.quote
        self.batched = _field(_QUOTES_FIELD, body)  # one element of SubscribeResponse.quotes

    @classmethod
    def from_json(cls, raw: str | bytes) -> WireQuote:
        """Encode what `Quote.to_json` wrote."""
        return cls(Quote.from_json(raw))  # type: ignore[arg-type]


class Subscription:
    """One stream: the symbols it wants, the quotes it has not taken yet, and its messages."""

    def __init__(self, symbols: Iterable[str], *, owner: str = "", batched: bool = False,
                 heartbeat_seconds: float = 15.0) -> None:
        self.id = secrets.token_hex(8)
        self.owner = owner
        self.symbols = set(symbols)
        self.batched = batched
        self.heartbeat_seconds = heartbeat_seconds
        self.last_sent = time.monotonic()
        self._queue: list[WireQuote] = []
        # The hub appends each quote of this subscription's symbols here, then calls `settle`.
        self.append = self._queue.append
        self._bound = len(self.symbols) + QUEUE_SLACK
        self._conflated: set[str] = set()
        self._floors: dict[str, WireQuote] = {}  # symbol -> its snapshot quote
        self._floors_until = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._heartbeat_due = False
        self._closed = False
        self._tail = _field(api.SubscribeResponse.SUBSCRIPTION_ID_FIELD_NUMBER, self.id.encode())
        self._tail_conflated = self._tail + _CONFLATED
        # Done once this replica has asked Redis for the subscription's control channel.
        self.watching: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Return how many quotes wait for delivery."""
        return len(self._queue)

    def settle(self) -> None:
        """Bound the queue (conflating past it), drop snapshot duplicates, wake the stream.

        The hub appends quotes to the queue directly (`append`) and settles each touched
        subscription once per burst of quotes rather than once per quote.
        """
        self._settle()
        if self._queue:
            self._wake()

    def offer(self, quote: WireQuote) -> None:
        """Queue `quote` and settle (one quote at a time; the hub batches instead)."""
        self.append(quote)
        self.settle()

    def prime(self, snapshot: Iterable[WireQuote]) -> None:
        """Put the latest quotes of some symbols first, dropping queued quotes they supersede."""
        snapshot = list(snapshot)
        if not snapshot:
            return
        floors = {quote.symbol: quote for quote in snapshot}
        self._queue[:] = [*snapshot, *(q for q in self._queue if not (
            q.symbol in floors and q.sequence <= floors[q.symbol].sequence))]
        self._floors.update(floors)
        self._floors_until = time.monotonic() + SNAPSHOT_FLOOR_SECONDS
        self._wake()

    def change(self, added: Iterable[str], removed: Iterable[str]) -> None:
        """Change the symbol set (the hub re-indexes); removed symbols' quotes are dropped."""
        removed = set(removed)
        self.symbols = (self.symbols - removed) | set(added)
        self._bound = len(self.symbols) + QUEUE_SLACK
        if removed:
            self._queue[:] = [q for q in self._queue if q.symbol not in removed]
            self._conflated -= removed

    def heartbeat_due(self, now: float) -> None:
        """Make an idle stream send a heartbeat if it has sent nothing for its interval."""
        if self._floors and now > self._floors_until:
            self._floors.clear()
        if self._waiter is not None and now - self.last_sent >= self.heartbeat_seconds:
            self._heartbeat_due = True
            self._wake()

    def request_heartbeat(self) -> None:
        """Send a heartbeat next if nothing else is waiting (e.g. as the stream's first message)."""
        self._heartbeat_due = True
        self._wake()

    def close(self) -> None:
        """End the stream of messages."""
        self._closed = True
        self._wake()

    async def messages(self) -> AsyncIterator[bytes]:
        """Yield encoded SubscribeResponse messages until closed: quotes, or heartbeats."""
        loop = asyncio.get_running_loop()
        queue = self._queue
        while not self._closed:
            if not queue:
                if not self._heartbeat_due:
                    self._waiter = loop.create_future()
                    try:
                        await self._waiter
                    finally:
                        self._waiter = None
                if not queue:
                    if self._heartbeat_due and not self._closed:
                        self._heartbeat_due = False
                        self.last_sent = time.monotonic()
                        yield self._heartbeat()
                    continue
            self._settle()
            batch = queue.copy()
            queue.clear()  # the same list stays in the hub's index
            conflated = self._conflated
            if conflated:
                self._conflated = set()
            self._heartbeat_due = False
            self.last_sent = time.monotonic()
            if self.batched:
                tail = self._tail_conflated if conflated else self._tail
                for start in range(0, len(batch), MAX_BATCH):
                    yield b"".join([q.batched for q in batch[start:start + MAX_BATCH]]) + tail
            else:
                tail, tail_conflated = self._tail, self._tail_conflated
                for quote in batch:
                    yield quote.single + (
                        tail_conflated if conflated and quote.symbol in conflated else tail)

    def _settle(self) -> None:
        if self._floors:
            self._drop_below_floors()
        if len(self._queue) > self._bound:
            self._compact()

    def _drop_below_floors(self) -> None:
        # The snapshot was read from Redis while live quotes kept coming over pub/sub, so the
        # snapshot's own quote (or an older one) may still arrive: drop those for a while.
        floors, live = self._floors, time.monotonic() <= self._floors_until
        kept = []
        for quote in self._queue:
            snapshot = floors.get(quote.symbol)
            if snapshot is not None and quote is not snapshot:
                if live and quote.sequence <= snapshot.sequence:
                    continue
                del floors[quote.symbol]
            kept.append(quote)
        self._queue[:] = kept

    def _compact(self) -> None:
        latest: dict[str, WireQuote] = {}
        for quote in self._queue:
            if quote.symbol in latest:
                self._conflated.add(quote.symbol)
            latest[quote.symbol] = quote
        self._queue[:] = latest.values()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _heartbeat(self) -> bytes:
        now = from_epoch_ms(int(time.time() * 1000))
        return api.SubscribeResponse(heartbeat=stream_pb2.Heartbeat(time=now),
                                     subscription_id=self.id).SerializeToString()


class QuoteHub:
    """Route quotes from Redis pub/sub to local subscriptions; carry subscription control."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self.replica_id = secrets.token_hex(6)
        # symbol -> {subscription: its queue's append}: dispatch is one C call per subscriber.
        self._by_symbol: dict[str, dict[Subscription, Callable[[WireQuote], None]]] = {}
        self._local: dict[str, Subscription] = {}
        self._touched: set[str] = set()
        self._settle_scheduled = False
        self._control: ControlHandler | None = None
        self._pubsub: object | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # Local subscriptions

    def subscribe(self, symbols: Iterable[str], *, owner: str = "", batched: bool = False,
                  heartbeat_seconds: float = 15.0) -> Subscription:
        """Register a subscription for `symbols`; its control channel is watched from now on."""
        subscription = Subscription(symbols, owner=owner, batched=batched,
                                    heartbeat_seconds=heartbeat_seconds)
        self._local[subscription.id] = subscription
        self._index(subscription, subscription.symbols)
        subscription.watching = self._in_background(self._watch(control_channel(subscription.id)))
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a subscription (its stream ended)."""
        if self._local.pop(subscription.id, None) is None:
            return
        subscription.close()
        self._unindex(subscription, subscription.symbols)
        self._in_background(self._unwatch(control_channel(subscription.id)))

    def local(self, subscription_id: str) -> Subscription | None:
        """Return the subscription if its stream is served by this replica."""
        return self._local.get(subscription_id)

    def change(self, subscription: Subscription, added: Iterable[str],
               removed: Iterable[str]) -> None:
        """Add and remove symbols of a live subscription."""
        added, removed = set(added), set(removed)
        self._unindex(subscription, removed & subscription.symbols)
        subscription.change(added, removed)
        self._index(subscription, added)

    @property
    def subscriber_count(self) -> int:
        """Return how many subscriptions this replica serves."""
        return len(self._local)

    def dispatch(self, quote: WireQuote) -> None:
        """Queue `quote` for every subscription of its symbol; settle them after the burst.

        Quotes that arrive together (a tick of many symbols, read from Redis in one go) are
        queued first; each touched subscription is then settled and woken once, when the
        event loop next runs callbacks.
        """
        appenders = self._by_symbol.get(quote.symbol)
        if not appenders:
            return
        for append in appenders.values():
            append(quote)
        self._touched.add(quote.symbol)
        if not self._settle_scheduled:
            self._settle_scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self._settle)
            except RuntimeError:  # no event loop: settle at once
                self._settle()

    def _settle(self) -> None:
        self._settle_scheduled = False
        touched, self._touched = self._touched, set()
        by_symbol = self._by_symbol
        for subscription in set().union(*(by_symbol.get(symbol, ()) for symbol in touched)):
            subscription.settle()

    def _index(self, subscription: Subscription, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            self._by_symbol.setdefault(symbol, {})[subscription] = subscription.append

    def _unindex(self, subscription: Subscription, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            subscribers = self._by_symbol.get(symbol)
            if subscribers is not None:
                subscribers.pop(subscription, None)
                if not subscribers:
                    del self._by_symbol[symbol]

    # Control messages

    def on_control(self, handler: ControlHandler) -> None:
        """Call `handler(channel, data)` for each control or reply message this replica hears."""
        self._control = handler

    async def publish(self, channel_name: str, data: str) -> int:
        """Publish on Redis; return how many subscribers heard it."""
        return int(await self._redis.publish(channel_name, data))

    # The pub/sub loop

    async def run(self) -> None:
        """Listen to quotes and control messages until cancelled; also send due heartbeats."""
        sweeper = asyncio.create_task(self._sweep())
        try:
            while True:
                try:
                    await self._listen()
                except RedisError as error:
                    log.warning("quote channel lost; reconnecting", extra={"error": str(error)})
                    await asyncio.sleep(0.5)
        finally:
            sweeper.cancel()
            for task in list(self._tasks):
                task.cancel()

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            # Published before subscribing: a subscription opened meanwhile is watched either
            # by `_watch` or by the list below (a channel subscribed twice is harmless).
            self._pubsub = pubsub
            await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
            await pubsub.subscribe(reply_channel(self.replica_id),
                                   *(control_channel(i) for i in list(self._local)))
            async for message in pubsub.listen():
                kind = message.get("type")
                if kind == "pmessage":
                    self._on_quote(message["data"])
                elif kind == "message" and self._control is not None:
                    self._on_control(message["channel"], message["data"])
        finally:
            self._pubsub = None
            await pubsub.aclose()

    def _on_quote(self, raw: str) -> None:
        try:
            quote = WireQuote.from_json(raw)
        except (ValueError, TypeError, KeyError) as error:
            log.warning("malformed quote ignored", extra={"error": str(error)})
            return
        self.dispatch(quote)

    def _on_control(self, channel_name: str, data: str) -> None:
        assert self._control is not None
        try:
            self._control(channel_name, data)
        except Exception:  # one bad control message must not stop the quotes
            log.exception("control message failed", extra={"channel": channel_name})

    async def _watch(self, channel_name: str) -> None:
        pubsub = self._pubsub
        if pubsub is not None:  # else the next (re)connect subscribes every local channel
            with contextlib.suppress(RedisError):
                await pubsub.subscribe(channel_name)  # type: ignore[attr-defined]

    async def _unwatch(self, channel_name: str) -> None:
        pubsub = self._pubsub
        if pubsub is not None:
            with contextlib.suppress(RedisError):
                await pubsub.unsubscribe(channel_name)  # type: ignore[attr-defined]

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            now = time.monotonic()
            for subscription in list(self._local.values()):
                subscription.heartbeat_due(now)

    def _in_background(self, job: object) -> asyncio.Task[None] | None:
        try:
            task = asyncio.get_running_loop().create_task(job)  # type: ignore[arg-type]
        except RuntimeError:  # no loop (unit tests of the routing alone)
            job.close()  # type: ignore[attr-defined]
            return None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
