"""AuthService: thin async adapters over registration, password checks and the session peer."""

from __future__ import annotations

import asyncio

import grpc
from tradesage.auth.v1 import auth_resources_pb2 as resources_pb2
from tradesage.auth.v1 import auth_service_pb2 as api
from tradesage.auth.v1 import auth_service_pb2_grpc as api_grpc
from tradesage.session.v1 import session_service_pb2 as session_api
from tradesage.session.v1 import session_service_pb2_grpc as session_grpc

from services.auth.domain import passwords
from services.auth.domain.registration import validate_registration
from services.auth.store import Account, AccountStore
from services.runtime.errors import Unauthenticated
from services.runtime.identity import CLIENT_IP_KEY, require_identity
from services.runtime.peers import Peers, call_metadata, peer_error


class AuthServicer(api_grpc.AuthServiceServicer):
    """Serve registration and login; methods not overridden here answer UNIMPLEMENTED."""

    def __init__(self, store: AccountStore, peers: Peers) -> None:
        self._store = store
        self._sessions = session_grpc.SessionServiceStub(peers.channel("session"))

    async def Register(self, request: api.RegisterRequest,
                       context: grpc.aio.ServicerContext) -> api.RegisterResponse:
        registration = validate_registration(
            request.tenant_id, request.email, request.password, request.display_name)
        # argon2 releases the GIL: hashing in a thread keeps the event loop serving.
        password_hash = await asyncio.to_thread(passwords.hash_password, registration.password)
        user_id = await self._store.register(registration, password_hash)
        return api.RegisterResponse(user_id=user_id, email_verification_required=True)

    async def Login(self, request: api.LoginRequest,
                    context: grpc.aio.ServicerContext) -> api.LoginResponse:
        account = await self._authenticate(request.tenant_id, request.email, request.password)
        metadata = dict(context.invocation_metadata() or ())
        try:
            reply = await self._sessions.CreateSession(session_api.CreateSessionRequest(
                user_id=account.user_id, tenant_id=account.tenant_id,
                user_agent=str(metadata.get("user-agent", "")),
                ip_address=_client_ip(metadata), roles=list(account.roles),
            ), metadata=call_metadata(), timeout=5.0)
        except grpc.aio.AioRpcError as error:
            raise peer_error(error) from None
        return api.LoginResponse(
            session_id=reply.session.id, user_id=account.user_id, token_type="Bearer")

    async def GetMe(self, request: api.GetMeRequest,
                    context: grpc.aio.ServicerContext) -> api.GetMeResponse:
        caller = require_identity()
        profile = await self._store.profile(caller.user_id, caller.tenant_id)
        if profile is None:
            raise Unauthenticated("the signed-in user no longer exists", reason="USER_GONE")
        return api.GetMeResponse(principal=resources_pb2.Principal(
            user_id=caller.user_id, tenant_id=caller.tenant_id, session_id=caller.session_id,
            email=str(profile["email"]), display_name=str(profile["display_name"]),
            roles=list(profile["roles"]), email_verified=bool(profile["email_verified"])))

    async def _authenticate(self, tenant_id: str, email: str, password: str) -> Account:
        account = await self._store.find(tenant_id, email)
        encoded = account.password_hash if account else None
        if not await asyncio.to_thread(passwords.verify_password, encoded, password):
            raise Unauthenticated("email or password is wrong", reason="INVALID_CREDENTIALS")
        assert account is not None
        if passwords.needs_rehash(account.password_hash):
            new_hash = await asyncio.to_thread(passwords.hash_password, password)
            await self._store.replace_hash(account.user_id, new_hash)
        return account


def _client_ip(metadata: dict[str, str | bytes]) -> str:
    return str(metadata.get(CLIENT_IP_KEY, ""))
