"""AuthService: thin async adapters from RPCs to the auth flows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
from tradesage.auth.v1 import auth_resources_pb2 as resources_pb2
from tradesage.auth.v1 import auth_service_pb2 as api
from tradesage.auth.v1 import auth_service_pb2_grpc as api_grpc

from services.auth import mail
from services.auth.app import AuthFlows, Device
from services.auth.domain import passwords
from services.auth.keys import SigningKeyStore
from services.auth.lockout import LoginGuard
from services.auth.mail_converters import list_outbox_response, mail_kind_from_proto
from services.auth.mfa import MfaService
from services.auth.oidc import STATE_TTL_SECONDS, OidcClient
from services.auth.store import Account, AccountStore
from services.auth.tokens import IssuedTokens
from services.runtime.authz import PLATFORM_ADMIN
from services.runtime.errors import (
    FieldViolation,
    NotFound,
    Unauthenticated,
    require,
)
from services.runtime.identity import CLIENT_IP_KEY, Identity, require_identity
from services.runtime.names import uuid_or_none
from services.runtime.timestamps import to_timestamp


class AuthServicer(api_grpc.AuthServiceServicer):
    """Serve every auth RPC."""

    def __init__(self, flows: AuthFlows, accounts: AccountStore, keys: SigningKeyStore,
                 guard: LoginGuard, mfa: MfaService, oidc: OidcClient,
                 mail_settings: mail.MailSettings) -> None:
        self._flows = flows
        self._mail_settings = mail_settings
        self._oidc = oidc
        self._accounts = accounts
        self._keys = keys
        self._guard = guard
        self._mfa = mfa

    async def Register(self, request: api.RegisterRequest,
                       context: grpc.aio.ServicerContext) -> api.RegisterResponse:
        user_id = await self._flows.register(request.tenant_id, request.email,
                                             request.password, request.display_name)
        return api.RegisterResponse(user_id=user_id, email_verification_required=True)

    async def VerifyEmail(self, request: api.VerifyEmailRequest,
                          context: grpc.aio.ServicerContext) -> api.VerifyEmailResponse:
        user_id = await self._flows.verify_email(request.tenant_id, request.token)
        return api.VerifyEmailResponse(user_id=user_id)

    async def ResendVerificationEmail(
            self, request: api.ResendVerificationEmailRequest,
            context: grpc.aio.ServicerContext) -> api.ResendVerificationEmailResponse:
        await self._flows.resend_verification(request.tenant_id, request.email)
        return api.ResendVerificationEmailResponse()

    async def Login(self, request: api.LoginRequest,
                    context: grpc.aio.ServicerContext) -> api.LoginResponse:
        signed_in = await self._flows.login(
            request.tenant_id, request.email, request.password, request.totp_code,
            request.recovery_code, device_of(context))
        tokens = signed_in.tokens
        return api.LoginResponse(user_id=signed_in.user_id, **_token_fields(tokens))

    async def RefreshToken(self, request: api.RefreshTokenRequest,
                           context: grpc.aio.ServicerContext) -> api.RefreshTokenResponse:
        tokens = await self._flows.refresh(request.refresh_token)
        return api.RefreshTokenResponse(**_token_fields(tokens))

    async def Logout(self, request: api.LogoutRequest,
                     context: grpc.aio.ServicerContext) -> api.LogoutResponse:
        return api.LogoutResponse(session_id=await self._flows.logout(require_identity()))

    async def RequestPasswordReset(
            self, request: api.RequestPasswordResetRequest,
            context: grpc.aio.ServicerContext) -> api.RequestPasswordResetResponse:
        await self._flows.request_password_reset(request.tenant_id, request.email)
        return api.RequestPasswordResetResponse()

    async def ConfirmPasswordReset(
            self, request: api.ConfirmPasswordResetRequest,
            context: grpc.aio.ServicerContext) -> api.ConfirmPasswordResetResponse:
        revoked = await self._flows.confirm_password_reset(
            request.tenant_id, request.token, request.new_password)
        return api.ConfirmPasswordResetResponse(revoked_session_count=revoked)

    async def GetMe(self, request: api.GetMeRequest,
                    context: grpc.aio.ServicerContext) -> api.GetMeResponse:
        caller = require_identity()
        account = await self._accounts.get(caller.user_id)
        if account is None or account.tenant_id != caller.tenant_id:
            raise NotFound("the signed-in user no longer exists", reason="USER_NOT_FOUND")
        return api.GetMeResponse(principal=resources_pb2.Principal(
            user_id=account.user_id, tenant_id=account.tenant_id, email=account.email,
            display_name=account.display_name, roles=list(account.roles),
            session_id=caller.session_id, email_verified=account.email_verified,
            mfa_enabled=await self._mfa.enabled(account.user_id)))

    async def GetJwks(self, request: api.GetJwksRequest,
                      context: grpc.aio.ServicerContext) -> api.GetJwksResponse:
        keys = await self._keys.jwks()
        return api.GetJwksResponse(keys=[resources_pb2.JsonWebKey(**key) for key in keys])

    async def EnrollMfa(self, request: api.EnrollMfaRequest,
                        context: grpc.aio.ServicerContext) -> api.EnrollMfaResponse:
        caller = require_identity()
        account = await self._reauthenticate(caller, request.password)
        enrollment = await self._mfa.enroll(caller.user_id, account.email)
        return api.EnrollMfaResponse(secret=enrollment.secret,
                                     otpauth_uri=enrollment.otpauth_uri)

    async def ConfirmMfa(self, request: api.ConfirmMfaRequest,
                         context: grpc.aio.ServicerContext) -> api.ConfirmMfaResponse:
        codes = await self._mfa.confirm(require_identity().user_id, request.totp_code)
        return api.ConfirmMfaResponse(recovery_codes=codes)

    async def DisableMfa(self, request: api.DisableMfaRequest,
                         context: grpc.aio.ServicerContext) -> api.DisableMfaResponse:
        caller = require_identity()
        await self._reauthenticate(caller, request.password)
        await self._mfa.disable(caller.user_id, request.code)
        return api.DisableMfaResponse(mfa_enabled=False)

    async def RegenerateRecoveryCodes(
            self, request: api.RegenerateRecoveryCodesRequest,
            context: grpc.aio.ServicerContext) -> api.RegenerateRecoveryCodesResponse:
        codes = await self._mfa.regenerate_recovery_codes(require_identity().user_id,
                                                          request.totp_code)
        return api.RegenerateRecoveryCodesResponse(recovery_codes=codes)

    async def StartOidcLogin(self, request: api.StartOidcLoginRequest,
                             context: grpc.aio.ServicerContext) -> api.StartOidcLoginResponse:
        started = await self._oidc.start(request.provider, request.tenant_id,
                                         request.redirect_uri or None)
        expire = datetime.now(UTC) + timedelta(seconds=STATE_TTL_SECONDS)
        return api.StartOidcLoginResponse(authorization_url=started.authorization_url,
                                          state=started.state, expire_time=to_timestamp(expire))

    async def CompleteOidcLogin(
            self, request: api.CompleteOidcLoginRequest,
            context: grpc.aio.ServicerContext) -> api.CompleteOidcLoginResponse:
        identity = await self._oidc.complete(request.state, request.code)
        signed_in = await self._flows.login_federated(identity, device_of(context))
        return api.CompleteOidcLoginResponse(user_id=signed_in.user_id,
                                             user_created=signed_in.user_created,
                                             **_token_fields(signed_in.tokens))

    async def UnlockAccount(self, request: api.UnlockAccountRequest,
                            context: grpc.aio.ServicerContext) -> api.UnlockAccountResponse:
        caller = require_identity()
        user_id = uuid_or_none(request.user_id)
        require([] if user_id else [FieldViolation("user_id", "must be a user id")])
        account = await self._accounts.get(str(user_id))
        if account is None or account.tenant_id != caller.tenant_id:
            raise NotFound(f"user {request.user_id} does not exist", reason="USER_NOT_FOUND",
                           metadata={"userId": request.user_id})
        return api.UnlockAccountResponse(was_locked=await self._guard.unlock(account.user_id))

    async def ListOutboxMail(self, request: api.ListOutboxMailRequest,
                             context: grpc.aio.ServicerContext) -> api.ListOutboxMailResponse:
        caller = require_identity()
        mail.require_outbox_listing(self._mail_settings)
        # Tenant admins see their tenant's mail; platform operators see all of it.
        tenant_id = None if PLATFORM_ADMIN in caller.roles else caller.tenant_id
        mails, token = await mail.list_outbox_page(
            self._accounts.pool, tenant_id=tenant_id, recipient=request.to or None,
            kind=mail_kind_from_proto(request.kind), page_size=request.page_size,
            page_token=request.page_token)
        return list_outbox_response(mails, token)

    async def _reauthenticate(self, caller: Identity, password: str) -> Account:
        """Ask for the password again before changing how the account signs in."""
        account = await self._accounts.get(caller.user_id)
        encoded = account.password_hash if account else None
        if not await asyncio.to_thread(passwords.verify_password, encoded, password):
            raise Unauthenticated("the password is wrong", reason="INVALID_CREDENTIALS")
        return account


def device_of(context: grpc.aio.ServicerContext) -> Device:
    """Return the user agent, address and client hints the edge passed on."""
    metadata = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
    hints = {k: v for k, v in metadata.items() if k.startswith("sec-ch-")}
    return Device(metadata.get("user-agent", ""), metadata.get(CLIENT_IP_KEY, ""), hints)


def _token_fields(tokens: IssuedTokens) -> dict[str, object]:
    return {
        "access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
        "token_type": "Bearer", "session_id": tokens.session_id,
        "access_token_expire_time": to_timestamp(tokens.access_expire_time),
        "refresh_token_expire_time": to_timestamp(tokens.refresh_expire_time),
    }
