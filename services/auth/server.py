"""Wiring of the auth service."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import asyncpg
from tradesage.auth.v1 import auth_service_pb2, auth_service_pb2_grpc

from services.auth import mail
from services.auth.app import AuthFlows, MailHook
from services.auth.config import AuthSettings
from services.auth.domain.mail_templates import password_reset_mail, verification_mail
from services.auth.events import AuthEvents, EventPublishingMfa
from services.auth.keys import SigningKeyStore
from services.auth.lockout import LoginGuard
from services.auth.oidc import OidcClient, load_oidc_providers
from services.auth.one_time_tokens import VERIFY_EMAIL
from services.auth.secret_box import SecretBox
from services.auth.servicer import AuthServicer
from services.auth.session_client import SessionClient
from services.auth.store import Account, AccountStore
from services.auth.tokens import TokenService
from services.runtime.plans import TenantLimits
from services.runtime.server import Mounted, Resources, ServiceSpec

log = logging.getLogger("tradesage.auth")
KEY_ROTATION_CHECK_SECONDS = 60.0


async def build(resources: Resources) -> Mounted:
    """Create the auth flows over PostgreSQL, Valkey and the session peer."""
    settings, mail_settings = AuthSettings.from_env(), mail.MailSettings.from_env()
    box, pool = SecretBox(settings.master_key), resources.db
    keys = SigningKeyStore(pool, box, settings)
    await keys.rotate()  # a key exists before the first login or JWKS fetch
    accounts, events = AccountStore(pool), AuthEvents(resources.cache)
    mfa = EventPublishingMfa(pool, box, accounts, events)
    guard = LoginGuard(pool, resources.cache, settings)
    flows = AuthFlows(accounts, TokenService(pool, keys, settings), guard, mfa,
                      SessionClient(resources.peers), settings,
                      _mail_hook(mail_settings, settings), TenantLimits(pool), events)
    oidc = OidcClient(load_oidc_providers(), resources.cache)
    return Mounted(
        servicers=[(auth_service_pb2_grpc.add_AuthServiceServicer_to_server,
                    AuthServicer(flows, accounts, keys, guard, mfa, oidc, mail_settings))],
        service_names=[auth_service_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name],
        background=[lambda: _rotate_keys(keys), mail.MailSender(pool, mail_settings).run],
        cleanup=[oidc.aclose],
    )


def _mail_hook(settings: mail.MailSettings, auth: AuthSettings) -> MailHook:
    async def send(connection: asyncpg.Connection, purpose: str, account: Account,
                   token: str) -> None:
        verify = purpose == VERIFY_EMAIL
        render = verification_mail if verify else password_reset_mail
        lifetime = auth.verify_email_ttl if verify else auth.reset_password_ttl
        message = render(display_name=account.display_name or account.email,
                         tenant_id=account.tenant_id, token=token, public_url=settings.public_url,
                         expires_in=timedelta(seconds=lifetime))
        await mail.enqueue(connection, tenant_id=account.tenant_id, recipient=account.email,
                           kind=message.kind, subject=message.subject, body=message.body)

    return send


async def _rotate_keys(keys: SigningKeyStore) -> None:
    while True:
        await asyncio.sleep(KEY_ROTATION_CHECK_SECONDS)
        try:
            await keys.rotate()
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("key rotation failed; will retry", extra={"error": str(error)})


SPEC = ServiceSpec(
    name="auth", build=build, needs_database=True, needs_redis=True,
    migrations=Path(__file__).with_name("migrations"))
