"""The auth flows: register, verify, sign in, refresh, sign out, reset a password.

Each flow orders the steps that the stores, the guard and the session service perform; the
servicer only converts messages. Writes a client is told succeeded are committed first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import asyncpg
from tradesage.session.v1 import session_resources_pb2 as session_pb
from tradesage.session.v1 import session_service_pb2 as session_api

from services.auth import one_time_tokens as one_time
from services.auth.config import AuthSettings
from services.auth.domain import passwords
from services.auth.domain.registration import password_violations, validate_registration
from services.auth.domain.tokens import Principal
from services.auth.events import AuthEvents
from services.auth.lockout import LoginGuard
from services.auth.mfa import MfaService
from services.auth.oidc import OidcIdentity
from services.auth.session_client import SessionClient
from services.auth.store import Account, AccountStore
from services.auth.tokens import IssuedTokens, RefreshTokenReused, TokenService
from services.runtime.errors import DomainError, FailedPrecondition, Unauthenticated, require
from services.runtime.identity import Identity
from services.runtime.peers import PeerError
from services.runtime.plans import TenantLimits

_LIMIT_POLICIES = {
    "evict_oldest": session_pb.SESSION_LIMIT_POLICY_EVICT_OLDEST,
    "refuse": session_pb.SESSION_LIMIT_POLICY_REFUSE,
}

# Queue a mail in the caller's transaction: (connection, kind, account, token).
MailHook = Callable[[asyncpg.Connection, str, Account, str], Awaitable[None]]


@dataclass(frozen=True)
class Device:
    """Where a sign-in comes from, as the edge saw it."""

    user_agent: str = ""
    ip_address: str = ""
    client_hints: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SignedIn:
    """The outcome of a successful sign-in."""

    user_id: str
    tokens: IssuedTokens
    user_created: bool = False


class AuthFlows:
    """Every auth use case, over the stores and the session service."""

    def __init__(self, accounts: AccountStore, tokens: TokenService, guard: LoginGuard,
                 mfa: MfaService, sessions: SessionClient, settings: AuthSettings,
                 send_mail: MailHook, limits: TenantLimits,
                 events: AuthEvents | None = None) -> None:
        self._accounts = accounts
        self._tokens = tokens
        self._guard = guard
        self._mfa = mfa
        self._sessions = sessions
        self._settings = settings
        self._send_mail = send_mail
        self._limits = limits
        self._events = events or AuthEvents(None)

    async def register(self, tenant_id: str, email: str, password: str,
                       display_name: str) -> str:
        """Create the user and queue the verification mail in one transaction."""
        registration = validate_registration(tenant_id, email, password, display_name)
        password_hash = await asyncio.to_thread(passwords.hash_password, password)

        async def send_verification(connection: asyncpg.Connection, user_id: str) -> None:
            token = await one_time.create_token(connection, one_time.VERIFY_EMAIL, user_id,
                                                registration.tenant_id,
                                                self._settings.verify_email_ttl)
            account = Account(user_id, registration.tenant_id, registration.email,
                              registration.display_name, (), False, "", "", True)
            await self._send_mail(connection, one_time.VERIFY_EMAIL, account, token)

        limits = await self._limits.of(registration.tenant_id)
        return await self._accounts.register(registration, password_hash, limits,
                                             send_verification)

    async def resend_verification(self, tenant_id: str, email: str) -> None:
        """Mail a fresh verification link to an unverified account; silent otherwise."""
        account = await self._accounts.find(tenant_id, email)
        if account is None or account.email_verified:
            return  # no hint whether the address is registered or verified
        async with self._accounts.pool.acquire() as connection, connection.transaction():
            token = await one_time.create_token(connection, one_time.VERIFY_EMAIL,
                                                account.user_id, account.tenant_id,
                                                self._settings.verify_email_ttl)
            await self._send_mail(connection, one_time.VERIFY_EMAIL, account, token)

    async def verify_email(self, tenant_id: str, token: str) -> str:
        """Spend a verification token; return the verified user's id."""
        async with self._accounts.pool.acquire() as connection, connection.transaction():
            user_id = await one_time.consume_token(connection, one_time.VERIFY_EMAIL,
                                                   tenant_id, token)
            await self._accounts.mark_verified(connection, user_id)
        return user_id

    async def login(self, tenant_id: str, email: str, password: str, totp_code: str,
                    recovery_code: str, device: Device) -> SignedIn:
        """Check password (and second factor), open a session, issue tokens."""
        await self._guard.check_address(device.ip_address)
        account = await self._accounts.find(tenant_id, email)
        try:
            account = await self._authenticate(account, password, totp_code, recovery_code,
                                               device)
        except DomainError as failure:
            await self._audit(tenant_id, email, account, device, False, failure.reason)
            if account is not None:
                await self._events.login_failed(account.user_id, account.tenant_id,
                                                failure.reason, device.ip_address,
                                                device.user_agent)
            raise
        principal = await self._open_session(account, device)
        tokens = await self._tokens.issue(principal)
        await self._audit(tenant_id, email, account, device, True, "OK")
        await self._events.login_succeeded(account.user_id, account.tenant_id,
                                           principal.session_id, device.ip_address,
                                           device.user_agent)
        return SignedIn(account.user_id, tokens)

    async def login_federated(self, identity: OidcIdentity, device: Device) -> SignedIn:
        """Sign in with an identity an OIDC provider vouched for; link or create the user."""
        user_id = await self._accounts.federated_user(identity.tenant_id, identity.issuer,
                                                      identity.subject)
        created = False
        if user_id is None:
            if not identity.email or not identity.email_verified:
                raise FailedPrecondition("the provider did not vouch for an email address",
                                         reason="EMAIL_NOT_VERIFIED",
                                         metadata={"provider": identity.provider})
            user_id, created = await self._accounts.link_federated(
                identity.issuer, identity.subject, identity.tenant_id, identity.email,
                identity.name or identity.email)
        account = await self._accounts.get(user_id)
        if account is None or account.tenant_id != identity.tenant_id:
            raise Unauthenticated("this identity belongs to another tenant",
                                  reason="OIDC_EXCHANGE_FAILED")
        await self._guard.check_account(account.user_id)
        if not account.tenant_active:
            raise FailedPrecondition("the tenant is deactivated", reason="TENANT_UNAVAILABLE")
        principal = await self._open_session(account, device)
        tokens = await self._tokens.issue(principal)
        await self._audit(account.tenant_id, account.email, account, device, True,
                          f"OIDC:{identity.provider}")
        await self._events.login_succeeded(account.user_id, account.tenant_id,
                                           principal.session_id, device.ip_address,
                                           device.user_agent, provider=identity.provider)
        return SignedIn(account.user_id, tokens, created)

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        """Rotate a refresh token; a reused one ends its whole family and session."""
        try:
            grant = await self._tokens.redeem(refresh_token)
        except RefreshTokenReused as reused:
            owner = Identity(reused.grant.user_id, reused.grant.tenant_id, (),
                             reused.grant.session_id)
            await self._revoke_session(owner)
            await self._events.refresh_token_reused(owner.user_id, owner.tenant_id,
                                                    owner.session_id)
            raise Unauthenticated("this refresh token was already used; the session has been"
                                  " ended for safety", reason="REFRESH_TOKEN_REUSED") from None
        account = await self._accounts.get(grant.user_id)
        if account is None or not account.tenant_active:
            raise Unauthenticated("the account can no longer sign in",
                                  reason="INVALID_REFRESH_TOKEN")
        await self._sessions.touch(grant.session_id)  # fails if the session was revoked
        principal = Principal(account.user_id, account.tenant_id, account.roles,
                              grant.session_id)
        return await self._tokens.issue(principal, family_id=grant.family_id)

    async def logout(self, caller: Identity) -> str:
        """End the caller's session: its access tokens stop working at once."""
        await self._tokens.revoke_session(caller.session_id)
        await self._revoke_session(caller)
        await self._events.logged_out(caller.user_id, caller.tenant_id, caller.session_id)
        return caller.session_id

    async def request_password_reset(self, tenant_id: str, email: str) -> None:
        """Mail a reset link if the account exists; answer the same either way."""
        account = await self._accounts.find(tenant_id, email)
        if account is None:
            return  # no hint whether the address is registered
        async with self._accounts.pool.acquire() as connection, connection.transaction():
            token = await one_time.create_token(connection, one_time.RESET_PASSWORD,
                                                account.user_id, account.tenant_id,
                                                self._settings.reset_password_ttl)
            await self._send_mail(connection, one_time.RESET_PASSWORD, account, token)

    async def confirm_password_reset(self, tenant_id: str, token: str,
                                     new_password: str) -> int:
        """Set the new password and end every session of the user; return how many."""
        require(password_violations(new_password), "the new password is not acceptable")
        password_hash = await asyncio.to_thread(passwords.hash_password, new_password)
        async with self._accounts.pool.acquire() as connection, connection.transaction():
            user_id = await one_time.consume_token(connection, one_time.RESET_PASSWORD,
                                                   tenant_id, token)
            await self._accounts.set_password(connection, user_id, password_hash)
        await self._tokens.revoke_user(user_id)
        await self._guard.record_success(user_id)  # a reset also lifts a lockout
        revoked = await self._sessions.revoke_all(user_id, tenant_id, reason="password_reset")
        await self._events.password_reset(user_id, tenant_id, revoked)
        return revoked

    async def _authenticate(self, account: Account | None, password: str, totp_code: str,
                            recovery_code: str, device: Device) -> Account:
        if account is not None:
            await self._guard.check_account(account.user_id)
        encoded = account.password_hash if account else None
        if not await asyncio.to_thread(passwords.verify_password, encoded, password):
            await self._guard.record_failure(account.user_id if account else None,
                                             device.ip_address)
            raise Unauthenticated("email or password is wrong", reason="INVALID_CREDENTIALS")
        assert account is not None
        if await self._mfa.enabled(account.user_id):
            try:
                await self._mfa.verify(account.user_id, totp_code, recovery_code)
            except Unauthenticated as failure:
                if failure.reason != "MFA_REQUIRED":
                    await self._guard.record_failure(account.user_id, device.ip_address)
                raise
        self._check_may_sign_in(account)
        await self._guard.record_success(account.user_id)
        if passwords.needs_rehash(account.password_hash):
            new_hash = await asyncio.to_thread(passwords.hash_password, password)
            await self._accounts.set_password(self._accounts.pool, account.user_id, new_hash)
        return account

    def _check_may_sign_in(self, account: Account) -> None:
        if not account.tenant_active:
            raise FailedPrecondition("the tenant is deactivated", reason="TENANT_UNAVAILABLE",
                                     metadata={"tenantId": account.tenant_id})
        if self._settings.require_verified_email and not account.email_verified:
            raise FailedPrecondition("verify your email address first",
                                     reason="EMAIL_NOT_VERIFIED",
                                     metadata={"email": account.email})

    async def _open_session(self, account: Account, device: Device) -> Principal:
        session = await self._sessions.create(session_api.CreateSessionRequest(
            user_id=account.user_id, tenant_id=account.tenant_id, roles=list(account.roles),
            user_agent=device.user_agent, ip_address=device.ip_address,
            client_hints=dict(device.client_hints),
            max_sessions=(await self._limits.of(account.tenant_id)).max_sessions,
            session_limit_policy=_LIMIT_POLICIES[self._settings.session_limit_policy]))
        return Principal(account.user_id, account.tenant_id, account.roles, session.id)

    async def _revoke_session(self, owner: Identity) -> None:
        try:
            await self._sessions.revoke(owner, owner.session_id)
        except PeerError as error:
            if error.status != "NOT_FOUND":  # already gone: revoking is idempotent
                raise

    async def _audit(self, tenant_id: str, email: str, account: Account | None,
                     device: Device, success: bool, reason: str) -> None:
        await self._guard.audit(
            tenant_id=tenant_id, email=email, user_id=account.user_id if account else None,
            ip_address=device.ip_address, user_agent=device.user_agent, success=success,
            reason=reason)
