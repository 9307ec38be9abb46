"""The session service through its inbound sidecar over mTLS, on the real mesh and Valkey.

Calls go in as the edge (with a user's identity metadata, as the edge forwards it) or as the
auth service (for the internal RPCs). Every test works on fresh user and tenant ids.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from redis.asyncio import Redis
from tradesage.session.v1 import session_resources_pb2 as pb
from tradesage.session.v1 import session_service_pb2 as api
from tradesage.session.v1 import session_service_pb2_grpc as api_grpc

from mesh.ports import free_port
from mesh.supervisor import Mesh
from services.runtime.config import ServiceConfig
from services.runtime.identity import Identity
from services.runtime.server import serve
from services.runtime.sessions import session_events_channel, session_key, user_sessions_key
from services.session.domain.fingerprint import device_fingerprint
from services.session.server import SPEC

Stub = api_grpc.SessionServiceStub
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36"
HINTS = {"sec-ch-ua": '"Chromium";v="131", "Not_A Brand";v="24"',
         "sec-ch-ua-platform": '"Linux"', "sec-ch-ua-mobile": "?0"}
DEFAULT_TTL = 14 * 24 * 3600
EVENT_WAIT = 5.0


def mtls_channel(mesh: Mesh, service: str, caller: str) -> grpc.aio.Channel:
    """Open a channel to `service`'s inbound sidecar presenting `caller`'s certificate."""
    assert mesh.pki is not None and mesh.plan is not None
    identity = mesh.pki.identity(caller)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=mesh.pki.ca_cert_path.read_bytes(),
        private_key=identity.key_path.read_bytes(),
        certificate_chain=identity.cert_path.read_bytes())
    return grpc.aio.secure_channel(
        f"127.0.0.1:{mesh.plan.of(service).inbound}", credentials,
        options=[("grpc.ssl_target_name_override", service)])


@pytest.fixture(scope="module")
async def edge(mesh: Mesh) -> AsyncIterator[Stub]:
    """Return a stub that calls the session service as the edge does."""
    async with mtls_channel(mesh, "session", "edge") as channel:
        yield Stub(channel)


@pytest.fixture(scope="module")
async def auth(mesh: Mesh) -> AsyncIterator[Stub]:
    """Return a stub that calls the session service as the auth service does."""
    async with mtls_channel(mesh, "session", "auth") as channel:
        yield Stub(channel)


@pytest.fixture(scope="module")
async def redis(mesh: Mesh) -> AsyncIterator[Redis]:
    """Return a client of the mesh's Valkey, to look at what the service stored."""
    client = Redis.from_url(mesh.redis_url, decode_responses=True)
    yield client
    await client.aclose()


@dataclass(frozen=True)
class User:
    """A user of a tenant, with helpers to sign in and to call as one of their sessions."""

    user_id: str
    tenant_id: str
    roles: tuple[str, ...] = ()

    def as_session(self, session_id: str = "") -> tuple[tuple[str, str], ...]:
        """Return the identity metadata the edge forwards for this user's session."""
        return Identity(self.user_id, self.tenant_id, self.roles, session_id).metadata()


def new_user(tenant_id: str = "", roles: Sequence[str] = ("trader",)) -> User:
    return User(str(uuid.uuid4()), tenant_id or str(uuid.uuid4()), tuple(roles))


async def login(auth: Stub, user: User, *, user_agent: str = CHROME, **fields: object
                ) -> api.CreateSessionResponse:
    request = api.CreateSessionRequest(
        user_id=user.user_id, tenant_id=user.tenant_id, user_agent=user_agent,
        ip_address="203.0.113.7", roles=list(user.roles), **fields)  # type: ignore[arg-type]
    return await auth.CreateSession(request, timeout=10)


async def failure(call: object) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    """Await a call that must fail; return its code, ErrorInfo reason and metadata."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    error = caught.value
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    return error.code(), info.reason, dict(info.metadata)
    return error.code(), "", {}


class EventStream:
    """A StreamSessionEvents call, read event by event (heartbeats skipped)."""

    def __init__(self, stub: Stub, metadata: tuple[tuple[str, str], ...]) -> None:
        self.call = stub.StreamSessionEvents(api.StreamSessionEventsRequest(), metadata=metadata)

    async def start(self) -> EventStream:
        """Wait for the first heartbeat: from then on the stream misses nothing."""
        first = await asyncio.wait_for(self.call.read(), EVENT_WAIT)
        assert first.WhichOneof("event") == "heartbeat"
        return self

    async def next_event(self, timeout: float = EVENT_WAIT) -> pb.SessionEvent:
        """Return the next session event."""
        while True:
            message = await asyncio.wait_for(self.call.read(), timeout)
            assert message is not grpc.aio.EOF, "stream ended"
            if message.WhichOneof("event") == "session_event":
                return message.session_event

    async def nothing_within(self, seconds: float) -> bool:
        """Tell whether no session event arrives within `seconds`."""
        try:
            await self.next_event(seconds)
        except TimeoutError:
            return True
        return False


async def listed(edge: Stub, user: User, session_id: str = "", page_size: int = 0
                 ) -> list[pb.Session]:
    sessions, token = [], ""
    while True:
        reply = await edge.ListSessions(
            api.ListSessionsRequest(page_size=page_size, page_token=token),
            metadata=user.as_session(session_id), timeout=10)
        sessions.extend(reply.sessions)
        if not (token := reply.next_page_token):
            return sessions


# Own sessions ----------------------------------------------------------------------------


async def test_create_get_list_delete_own_session(auth: Stub, edge: Stub, redis: Redis) -> None:
    user = new_user()
    session = (await login(auth, user)).session
    assert session.name == f"sessions/{session.id}" and session.user_id == user.user_id
    assert session.device_fingerprint == device_fingerprint(CHROME, {})
    assert session.ip_address == "203.0.113.7" and not session.HasField("location")
    assert await redis.zscore(user_sessions_key(user.user_id), session.id) is not None

    got = (await edge.GetSession(api.GetSessionRequest(name=session.name),
                                 metadata=user.as_session(session.id), timeout=10)).session
    assert got.id == session.id and got.current
    assert [s.id for s in await listed(edge, user, session.id)] == [session.id]

    deleted = (await edge.DeleteSession(api.DeleteSessionRequest(name=session.name),
                                        metadata=user.as_session(session.id), timeout=10))
    assert deleted.session.id == session.id
    assert not await redis.exists(session_key(session.id))
    assert await redis.zscore(user_sessions_key(user.user_id), session.id) is None
    code, reason, _ = await failure(edge.GetSession(
        api.GetSessionRequest(name=session.name), metadata=user.as_session(), timeout=10))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")


async def test_list_marks_the_current_session_and_pages_newest_first(
        auth: Stub, edge: Stub) -> None:
    user = new_user()
    ids = [(await login(auth, user)).session.id for _ in range(5)]
    current = ids[2]
    sessions = await listed(edge, user, current, page_size=2)
    assert [s.id for s in sessions] == ids[::-1]
    assert [s.id for s in sessions if s.current] == [current]


async def test_client_hints_make_the_fingerprint_and_new_devices_are_flagged(
        auth: Stub) -> None:
    user = new_user()
    first = await login(auth, user, client_hints=HINTS)
    again = await login(auth, user, client_hints=HINTS)
    phone = await login(auth, user, user_agent="TradeSage-iOS/3.2 (iPhone; iOS 18.1)")
    assert first.session.device_fingerprint == device_fingerprint(CHROME, HINTS)
    assert [first.new_device, again.new_device, phone.new_device] == [True, False, True]


async def test_revoke_other_sessions_keeps_only_the_current_one(auth: Stub, edge: Stub) -> None:
    user = new_user()
    ids = [(await login(auth, user)).session.id for _ in range(3)]
    reply = await edge.RevokeOtherSessions(api.RevokeOtherSessionsRequest(),
                                           metadata=user.as_session(ids[1]), timeout=10)
    assert reply.revoked_count == 2
    assert [s.id for s in await listed(edge, user, ids[1])] == [ids[1]]


async def test_a_retried_request_id_returns_the_first_session(auth: Stub, edge: Stub) -> None:
    user = new_user()
    first = await login(auth, user, request_id="login-1")
    retry = await login(auth, user, request_id="login-1")
    assert retry.session.id == first.session.id
    assert len(await listed(edge, user)) == 1


# Who sees and revokes what ---------------------------------------------------------------


async def test_other_users_sessions_are_not_found_and_not_revocable(
        auth: Stub, edge: Stub, redis: Redis) -> None:
    owner = new_user()
    stranger = new_user(owner.tenant_id, roles=["trader"])
    session = (await login(auth, owner)).session
    for call in (
        edge.GetSession(api.GetSessionRequest(name=session.name),
                        metadata=stranger.as_session(), timeout=10),
        edge.DeleteSession(api.DeleteSessionRequest(name=session.name),
                           metadata=stranger.as_session(), timeout=10),
    ):
        code, reason, metadata = await failure(call)
        assert (code, reason, metadata) == (
            grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND", {"sessionId": session.id})
    assert await listed(edge, stranger) == []
    assert await redis.exists(session_key(session.id))


@pytest.mark.parametrize("role", ["admin", "owner"])
async def test_admin_of_the_tenant_sees_and_revokes_any_session_of_it(
        auth: Stub, edge: Stub, role: str) -> None:
    user = new_user()
    admin = new_user(user.tenant_id, roles=[role])
    session = (await login(auth, user)).session
    stream = await EventStream(edge, user.as_session(session.id)).start()
    try:
        got = await edge.GetSession(api.GetSessionRequest(name=session.name),
                                    metadata=admin.as_session(), timeout=10)
        assert got.session.id == session.id and not got.session.current
        await edge.DeleteSession(api.DeleteSessionRequest(name=session.name),
                                 metadata=admin.as_session(), timeout=10)
        event = await stream.next_event()
        assert (event.type, event.reason) == (pb.SESSION_EVENT_TYPE_REVOKED, "revoked_by_admin")
    finally:
        stream.call.cancel()


async def test_admin_of_another_tenant_can_neither_see_nor_revoke(
        auth: Stub, edge: Stub, redis: Redis) -> None:
    user = new_user()
    foreign_admin = new_user(roles=["admin", "owner"])
    session = (await login(auth, user)).session
    for call in (
        edge.GetSession(api.GetSessionRequest(name=session.name),
                        metadata=foreign_admin.as_session(), timeout=10),
        edge.DeleteSession(api.DeleteSessionRequest(name=session.name),
                           metadata=foreign_admin.as_session(), timeout=10),
    ):
        assert (await failure(call))[0] == grpc.StatusCode.NOT_FOUND
    assert await redis.exists(session_key(session.id))


async def test_user_calls_without_identity_are_unauthenticated(edge: Stub) -> None:
    code, reason, _ = await failure(edge.ListSessions(api.ListSessionsRequest(), timeout=10))
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")


async def test_internal_rpcs_refuse_the_edge(edge: Stub) -> None:
    user = new_user()
    for call in (
        edge.CreateSession(api.CreateSessionRequest(user_id=user.user_id,
                                                    tenant_id=user.tenant_id),
                           metadata=user.as_session(), timeout=10),
        edge.TouchSession(api.TouchSessionRequest(name="sessions/" + "0" * 32), timeout=10),
        edge.RevokeUserSessions(api.RevokeUserSessionsRequest(
            user_id=user.user_id, tenant_id=user.tenant_id, reason="password_reset"),
            timeout=10),
    ):
        code, reason, metadata = await failure(call)
        assert (code, reason, metadata) == (
            grpc.StatusCode.PERMISSION_DENIED, "UNTRUSTED_CALLER", {"peer": "edge"})


# Limits ----------------------------------------------------------------------------------


async def test_limit_with_refuse_fails_the_next_sign_in(auth: Stub, edge: Stub) -> None:
    user = new_user()
    for _ in range(2):
        await login(auth, user, max_sessions=2,
                    session_limit_policy=pb.SESSION_LIMIT_POLICY_REFUSE)
    code, reason, metadata = await failure(login(auth, user, max_sessions=2))
    assert (code, reason, metadata) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED, "SESSION_LIMIT_REACHED", {"maxSessions": "2"})
    assert len(await listed(edge, user)) == 2


async def test_limit_with_evict_oldest_revokes_the_oldest_and_streams_it(
        auth: Stub, edge: Stub, redis: Redis) -> None:
    user = new_user()
    evict = {"max_sessions": 2, "session_limit_policy": pb.SESSION_LIMIT_POLICY_EVICT_OLDEST}
    oldest = (await login(auth, user, **evict)).session
    kept = (await login(auth, user, **evict)).session
    stream = await EventStream(edge, user.as_session(kept.id)).start()
    try:
        newest = await login(auth, user, **evict)
        assert list(newest.evicted_sessions) == [oldest.name]
        revoked, created = await stream.next_event(), await stream.next_event()
    finally:
        stream.call.cancel()
    assert (revoked.type, revoked.reason, revoked.session.id) == (
        pb.SESSION_EVENT_TYPE_REVOKED, "evicted", oldest.id)
    assert (created.type, created.session.id) == (
        pb.SESSION_EVENT_TYPE_CREATED, newest.session.id)
    assert not await redis.exists(session_key(oldest.id))
    code, _, _ = await failure(edge.GetSession(api.GetSessionRequest(name=oldest.name),
                                               metadata=user.as_session(), timeout=10))
    assert code == grpc.StatusCode.NOT_FOUND
    assert {s.id for s in await listed(edge, user)} == {kept.id, newest.session.id}


@pytest.mark.parametrize("policy", [pb.SESSION_LIMIT_POLICY_REFUSE,
                                    pb.SESSION_LIMIT_POLICY_EVICT_OLDEST])
async def test_concurrent_sign_ins_never_exceed_the_limit(
        auth: Stub, edge: Stub, redis: Redis, policy: int) -> None:
    user = new_user()
    outcomes = await asyncio.gather(
        *(login(auth, user, max_sessions=3, session_limit_policy=policy) for _ in range(10)),
        return_exceptions=True)
    created = [o for o in outcomes if isinstance(o, api.CreateSessionResponse)]
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(created) + len(refused) == 10
    if policy == pb.SESSION_LIMIT_POLICY_REFUSE:
        assert len(created) == 3
        assert {e.code() for e in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    else:
        assert len(created) == 10
    assert await redis.zcard(user_sessions_key(user.user_id)) == 3
    assert len(await listed(edge, user)) == 3


# TTL -------------------------------------------------------------------------------------


async def test_touch_slides_the_ttl(auth: Stub, redis: Redis) -> None:
    session = (await login(auth, new_user())).session
    assert DEFAULT_TTL - 60 < await redis.ttl(session_key(session.id)) <= DEFAULT_TTL
    await redis.expire(session_key(session.id), 30)
    await redis.hset(session_key(session.id), "last_seen_time_ms", 1000)
    touched = (await auth.TouchSession(api.TouchSessionRequest(name=session.name),
                                       timeout=10)).session
    assert DEFAULT_TTL - 60 < await redis.ttl(session_key(session.id)) <= DEFAULT_TTL
    assert touched.last_seen_time.ToMilliseconds() >= session.create_time.ToMilliseconds()
    lifetime = touched.expire_time.ToSeconds() - touched.last_seen_time.ToSeconds()
    assert abs(lifetime - DEFAULT_TTL) <= 2


async def test_touching_a_revoked_session_does_not_bring_it_back(
        auth: Stub, edge: Stub, redis: Redis) -> None:
    user = new_user()
    session = (await login(auth, user)).session
    await edge.DeleteSession(api.DeleteSessionRequest(name=session.name),
                             metadata=user.as_session(session.id), timeout=10)
    code, reason, _ = await failure(
        auth.TouchSession(api.TouchSessionRequest(name=session.name), timeout=10))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")
    assert not await redis.exists(session_key(session.id))


async def test_expired_sessions_leave_the_index_and_the_count(
        auth: Stub, edge: Stub, redis: Redis) -> None:
    user = new_user()
    gone = (await login(auth, user)).session
    kept = (await login(auth, user)).session
    await redis.pexpire(session_key(gone.id), 1)
    await asyncio.sleep(0.05)
    assert [s.id for s in await listed(edge, user)] == [kept.id]
    assert await redis.zrange(user_sessions_key(user.user_id), 0, -1) == [kept.id]
    # The expired one no longer counts against the limit either.
    await login(auth, user, max_sessions=2)


# Internal revocation ---------------------------------------------------------------------


async def test_revoke_user_sessions_keeps_the_exception_and_streams_the_reason(
        auth: Stub, edge: Stub) -> None:
    user = new_user()
    ids = [(await login(auth, user)).session.id for _ in range(3)]
    stream = await EventStream(edge, user.as_session(ids[0])).start()
    try:
        reply = await auth.RevokeUserSessions(api.RevokeUserSessionsRequest(
            user_id=user.user_id, tenant_id=user.tenant_id, reason="password_reset",
            except_session_id=ids[0]), timeout=10)
        reasons = [(await stream.next_event()).reason for _ in range(2)]
    finally:
        stream.call.cancel()
    assert reply.revoked_count == 2
    assert reasons == ["password_reset", "password_reset"]
    assert [s.id for s in await listed(edge, user)] == [ids[0]]


async def test_revoke_user_sessions_leaves_other_tenants_alone(auth: Stub, edge: Stub) -> None:
    user = new_user()
    await login(auth, user)
    reply = await auth.RevokeUserSessions(api.RevokeUserSessionsRequest(
        user_id=user.user_id, tenant_id=str(uuid.uuid4()), reason="password_reset"), timeout=10)
    assert reply.revoked_count == 0
    assert len(await listed(edge, user)) == 1


async def test_internal_delete_may_name_the_reason(auth: Stub, edge: Stub) -> None:
    user = new_user()
    session = (await login(auth, user)).session
    other = (await login(auth, user)).session
    stream = await EventStream(edge, user.as_session(other.id)).start()
    try:
        await auth.DeleteSession(api.DeleteSessionRequest(
            name=session.name, reason="refresh_token_reuse"),
            metadata=user.as_session(session.id), timeout=10)
        assert (await stream.next_event()).reason == "refresh_token_reuse"
    finally:
        stream.call.cancel()


# Streams ---------------------------------------------------------------------------------


async def test_stream_delivers_created_then_revoked_to_the_owner_only(
        auth: Stub, edge: Stub) -> None:
    user, bystander = new_user(), new_user()
    mine = await EventStream(edge, user.as_session()).start()
    theirs = await EventStream(edge, bystander.as_session()).start()
    try:
        session = (await login(auth, user)).session
        await edge.DeleteSession(api.DeleteSessionRequest(name=session.name),
                                 metadata=user.as_session(), timeout=10)
        created, revoked = await mine.next_event(), await mine.next_event()
        assert await theirs.nothing_within(0.5)
    finally:
        mine.call.cancel()
        theirs.call.cancel()
    assert (created.type, created.session.id, created.reason, created.new_device) == (
        pb.SESSION_EVENT_TYPE_CREATED, session.id, "login", True)
    assert (revoked.type, revoked.session.id, revoked.reason) == (
        pb.SESSION_EVENT_TYPE_REVOKED, session.id, "revoked_by_user")
    assert created.event_id != revoked.event_id


async def test_stream_ends_after_its_own_session_is_revoked_and_unsubscribes(
        auth: Stub, edge: Stub, redis: Redis) -> None:
    user = new_user()
    session = (await login(auth, user)).session
    stream = await EventStream(edge, user.as_session(session.id)).start()
    assert await subscribers(redis, user.user_id) == 1
    await edge.DeleteSession(api.DeleteSessionRequest(name=session.name),
                             metadata=user.as_session(session.id), timeout=10)
    event = await stream.next_event()
    assert (event.reason, event.session.current) == ("logout", True)
    assert await asyncio.wait_for(stream.call.read(), EVENT_WAIT) is grpc.aio.EOF
    assert await stream.call.code() == grpc.StatusCode.OK
    await until_unsubscribed(redis, user.user_id)


async def test_a_cancelled_stream_releases_its_subscription(edge: Stub, redis: Redis) -> None:
    user = new_user()
    stream = await EventStream(edge, user.as_session()).start()
    assert await subscribers(redis, user.user_id) == 1
    stream.call.cancel()
    await until_unsubscribed(redis, user.user_id)


async def subscribers(redis: Redis, user_id: str) -> int:
    counts = await redis.pubsub_numsub(session_events_channel(user_id))
    return int(counts[0][1])


async def until_unsubscribed(redis: Redis, user_id: str) -> None:
    for _ in range(100):
        if await subscribers(redis, user_id) == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the stream's pub/sub subscription was not released")


async def test_idle_stream_sends_heartbeats(mesh: Mesh, monkeypatch: pytest.MonkeyPatch) -> None:
    # The shared mesh beats every 15 s; a private replica on the same Valkey beats faster.
    monkeypatch.setenv("TRADESAGE_SESSION_HEARTBEAT_SECONDS", "0.2")
    config = ServiceConfig(service="session", listen=f"127.0.0.1:{free_port()}",
                           mesh_outbound="", database_url="", redis_url=mesh.redis_url,
                           grace_seconds=0, log_level="INFO")
    stop = asyncio.Event()
    server = asyncio.create_task(serve(SPEC, config, stop))
    try:
        async with grpc.aio.insecure_channel(config.listen) as channel:
            call = Stub(channel).StreamSessionEvents(
                api.StreamSessionEventsRequest(), metadata=new_user().as_session(),
                wait_for_ready=True, timeout=10)
            kinds = [(await call.read()).WhichOneof("event") for _ in range(4)]
            call.cancel()
        assert kinds == ["heartbeat"] * 4
    finally:
        stop.set()
        await server


# Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "code"), [
    ("sessions/" + "0" * 32, grpc.StatusCode.NOT_FOUND),
    ("sessions/not-a-session", grpc.StatusCode.NOT_FOUND),
    ("sessions/" + "A" * 32, grpc.StatusCode.NOT_FOUND),
    ("users/" + "0" * 32, grpc.StatusCode.INVALID_ARGUMENT),
    ("sessions/", grpc.StatusCode.INVALID_ARGUMENT),
    ("", grpc.StatusCode.INVALID_ARGUMENT),
])
async def test_unknown_and_invalid_names(edge: Stub, name: str, code: grpc.StatusCode) -> None:
    metadata = new_user().as_session()
    for call in (edge.GetSession(api.GetSessionRequest(name=name), metadata=metadata,
                                 timeout=10),
                 edge.DeleteSession(api.DeleteSessionRequest(name=name), metadata=metadata,
                                    timeout=10)):
        assert (await failure(call))[0] == code


@pytest.mark.parametrize("fields", [
    {"max_sessions": -1},
    {"session_limit_policy": 99},
    {"user_id": ""},
    {"request_id": "r" * 129},
])
async def test_invalid_create_requests(auth: Stub, fields: dict[str, object]) -> None:
    user = new_user()
    request = {"user_id": user.user_id, "tenant_id": user.tenant_id, **fields}
    code, reason, _ = await failure(
        auth.CreateSession(api.CreateSessionRequest(**request), timeout=10))  # type: ignore[arg-type]
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")


async def test_forged_page_token_and_bad_revoke_reason_are_invalid(
        auth: Stub, edge: Stub) -> None:
    user = new_user()
    for call in (
        edge.ListSessions(api.ListSessionsRequest(page_token="eyJjIjoieCJ9"),
                          metadata=user.as_session(), timeout=10),
        auth.RevokeUserSessions(api.RevokeUserSessionsRequest(
            user_id=user.user_id, tenant_id=user.tenant_id, reason="Password Reset!"),
            timeout=10),
    ):
        assert (await failure(call))[0] == grpc.StatusCode.INVALID_ARGUMENT
