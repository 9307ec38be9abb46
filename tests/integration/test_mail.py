"""The auth mail outbox against a real PostgreSQL and a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import logging
import threading
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from tradesage.auth.v1 import auth_resources_pb2 as pb

from mesh.ports import free_port
from services.auth import mail
from services.auth.domain.mail_templates import MailKind, verification_mail
from services.auth.mail import MailSender, MailSettings, MailStatus, SmtpServer
from services.auth.mail_converters import (
    list_outbox_response,
    mail_kind_from_proto,
    outbox_mail_to_proto,
)
from services.runtime.config import ConfigError
from services.runtime.database import create_pool, migrate
from services.runtime.errors import FailedPrecondition, InvalidArgument
from services.runtime.server import PLATFORM_MIGRATIONS

AUTH_MIGRATIONS = Path(mail.__file__).with_name("migrations")
TENANT = str(uuid.uuid4())
TOKEN = "Zq8-verification_token.42"


@dataclass
class Received:
    """One message as the SMTP server got it."""

    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    login: bytes | None


class Inbox:
    """An aiosmtpd handler that keeps every message; it runs on the controller's thread."""

    def __init__(self, *, delay: float = 0.0, refuse: str = "") -> None:
        self.delay = delay
        self.refuse = refuse
        self.messages: list[Received] = []
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse and address == self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        login = session.auth_data.login if session.authenticated else None
        with self._lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          message, login))
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def smtp_server(inbox: Inbox, **kwargs):
    """Run an aiosmtpd server on a free loopback port; yield its port."""
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def database_url(private_postgres: str) -> str:
    """Return the DSN of this module's own PostgreSQL server."""
    return private_postgres


@pytest.fixture(scope="module")
async def pool(database_url):
    pool = await create_pool(database_url)
    await migrate(pool, "platform", PLATFORM_MIGRATIONS)
    await migrate(pool, "auth", AUTH_MIGRATIONS)
    yield pool
    await pool.close()


@pytest.fixture(autouse=True)
async def empty_outbox(pool):
    await pool.execute("TRUNCATE auth.outbox_mail")


def smtp_settings(port: int, **overrides) -> MailSettings:
    base = MailSettings(smtp=SmtpServer.from_url(f"smtp://127.0.0.1:{port}"),
                        poll_seconds=0.1, send_timeout_seconds=5.0, retry_seconds=0.0)
    return replace(base, **overrides)


async def enqueue_one(pool, recipient: str = "ada@example.com", *, tenant_id: str = TENANT,
                      token: str = TOKEN) -> str:
    rendered = verification_mail(display_name="Ada", tenant_id=tenant_id, token=token,
                                 public_url="http://127.0.0.1:8080")
    async with pool.acquire() as connection, connection.transaction():
        return await mail.enqueue(connection, tenant_id=tenant_id, recipient=recipient,
                                  kind=rendered.kind, subject=rendered.subject,
                                  body=rendered.body)


async def row(pool, mail_id: str) -> asyncpg.Record:
    return await pool.fetchrow("SELECT * FROM auth.outbox_mail WHERE id = $1",
                               uuid.UUID(mail_id))


async def wait_for(predicate, timeout: float = 10.0):
    async with asyncio.timeout(timeout):
        while not (result := await predicate()):
            await asyncio.sleep(0.02)
        return result


@contextlib.asynccontextmanager
async def running(sender: MailSender):
    task = asyncio.create_task(sender.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_queued_mail_is_delivered_over_smtp(pool, caplog):
    caplog.set_level(logging.DEBUG, logger="tradesage.auth.mail")
    inbox = Inbox()
    with smtp_server(inbox) as port:
        # A long poll: only the notification sent on commit can wake the sender in time.
        async with running(MailSender(pool, smtp_settings(port, poll_seconds=60))):
            await asyncio.sleep(0.2)  # the sender is idle and listening
            mail_id = await enqueue_one(pool)
            sent = await wait_for(lambda: _with_status(pool, mail_id, "sent"), timeout=5)

    [received] = inbox.messages
    assert received.mail_from == "no-reply@tradesage.local"
    assert received.rcpt_tos == ["ada@example.com"]
    message = received.message
    assert message["To"] == "ada@example.com"
    assert message["From"] == "TradeSage <no-reply@tradesage.local>"
    assert message["Subject"] == "Confirm your email address for TradeSage"
    assert message["Message-ID"] == f"<{mail_id}@tradesage.local>"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert body.startswith("Hello Ada,")
    assert f"token={TOKEN}" in body and f"tenantId={TENANT}" in body
    assert sent["attempts"] == 1 and sent["sent_time"] is not None
    assert sent["last_error"] is None
    assert sent["body_text"] == ""  # the token does not outlive delivery in the database
    assert_no_token_logged(caplog)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_credentials_from_the_url_are_used(pool):
    def authenticate(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password)
                          == (b"mailer", b"p@ss:word"), auth_data=auth_data)

    inbox = Inbox()
    with smtp_server(inbox, authenticator=authenticate, auth_required=True,
                     auth_require_tls=False) as port:
        url = f"smtp://mailer:p%40ss%3Aword@127.0.0.1:{port}"
        settings = replace(smtp_settings(port), smtp=SmtpServer.from_url(url))
        assert "p@ss" not in repr(settings) and "p@ss" not in settings.smtp.describe()
        mail_id = await enqueue_one(pool)
        assert await MailSender(pool, settings).process_due() == 1

    assert (await row(pool, mail_id))["status"] == "sent"
    assert [m.login for m in inbox.messages] == [b"mailer"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_wrong_credentials_are_retried_not_dropped(pool):
    inbox = Inbox()
    with smtp_server(inbox, authenticator=lambda *_: AuthResult(success=False, handled=False),
                     auth_required=True, auth_require_tls=False) as port:
        settings = replace(smtp_settings(port, retry_seconds=60),
                           smtp=SmtpServer.from_url(f"smtp://mailer:bad@127.0.0.1:{port}"))
        mail_id = await enqueue_one(pool)
        await MailSender(pool, settings).process_due()

    stored = await row(pool, mail_id)
    assert (stored["status"], stored["attempts"]) == ("queued", 1)
    assert "SMTPAuthenticationError" in stored["last_error"]
    assert inbox.messages == []


async def test_unreachable_server_backs_off_then_fails(pool):
    settings = smtp_settings(free_port(), max_attempts=3, retry_seconds=60)
    sender = MailSender(pool, settings)
    mail_id = await enqueue_one(pool)

    assert await sender.process_due() == 1
    first = await row(pool, mail_id)
    assert (first["status"], first["attempts"]) == ("queued", 1)
    assert first["last_error"] and "connect" in first["last_error"].lower()
    waited = await pool.fetchval("SELECT $1::timestamptz - now()", first["send_after"])
    assert 50 < waited.total_seconds() <= 60
    assert await sender.process_due() == 0  # not due again until the backoff has passed

    delays = []
    for attempt in (2, 3):
        await pool.execute("UPDATE auth.outbox_mail SET send_after = now()")  # time passes
        assert await sender.process_due() == 1
        stored = await row(pool, mail_id)
        assert stored["attempts"] == attempt
        delays.append(await pool.fetchval(
            "SELECT extract(epoch FROM send_after - now())::float8 FROM auth.outbox_mail"))
    assert 110 < delays[0] <= 120  # doubled after the second attempt

    failed = await row(pool, mail_id)
    assert failed["status"] == "failed" and failed["sent_time"] is None
    assert failed["last_error"] and failed["body_text"] == ""
    await pool.execute("UPDATE auth.outbox_mail SET send_after = now()")
    assert await sender.process_due() == 0  # failed is final


async def test_a_silent_server_times_out(pool):
    async def silent(reader, writer):
        await reader.read()  # accept the connection, never greet

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        mail_id = await enqueue_one(pool)
        settings = smtp_settings(port, send_timeout_seconds=0.3, retry_seconds=60)
        started = asyncio.get_running_loop().time()
        assert await MailSender(pool, settings).process_due() == 1
        assert asyncio.get_running_loop().time() - started < 2
    finally:
        server.close()
    stored = await row(pool, mail_id)
    assert (stored["status"], stored["attempts"]) == ("queued", 1)
    assert "timeout" in stored["last_error"].lower() or "timed out" in stored["last_error"]


async def test_a_refused_recipient_fails_without_retries(pool):
    inbox = Inbox(refuse="nobody@example.com")
    with smtp_server(inbox) as port:
        refused = await enqueue_one(pool, "nobody@example.com")
        accepted = await enqueue_one(pool, "ada@example.com")
        assert await MailSender(pool, smtp_settings(port)).process_due() == 2

    stored = await row(pool, refused)
    assert (stored["status"], stored["attempts"]) == ("failed", 1)
    assert "550" in stored["last_error"]
    assert (await row(pool, accepted))["status"] == "sent"
    assert [m.rcpt_tos for m in inbox.messages] == [["ada@example.com"]]


async def test_a_mail_whose_sender_died_is_sent_after_the_lease(pool):
    inbox = Inbox()
    with smtp_server(inbox) as port:
        settings = smtp_settings(port)
        mail_id = await enqueue_one(pool)
        # A sender claims the mail and dies before delivering it.
        [claimed] = await MailSender(pool, settings)._claim()
        assert str(claimed["id"]) == mail_id
        survivor = MailSender(pool, settings)
        assert await survivor.process_due() == 0  # leased to the dead sender
        await pool.execute("UPDATE auth.outbox_mail SET send_after = now()")  # lease ends
        assert await survivor.process_due() == 1

    stored = await row(pool, mail_id)
    assert (stored["status"], stored["attempts"]) == ("sent", 2)
    assert len(inbox.messages) == 1


async def test_two_senders_send_each_mail_exactly_once(database_url, pool):
    inbox = Inbox(delay=0.01)
    ids = set()
    for n in range(40):
        ids.add(await enqueue_one(pool, f"user{n}@example.com"))
    other_pool = await create_pool(database_url)  # a second replica
    try:
        with smtp_server(inbox) as port:
            settings = smtp_settings(port, batch_size=3)
            counts = await asyncio.gather(MailSender(pool, settings).process_due(),
                                          MailSender(other_pool, settings).process_due())
    finally:
        await other_pool.close()

    assert sum(counts) == 40 and min(counts) > 0, counts
    message_ids = [m.message["Message-ID"] for m in inbox.messages]
    assert len(message_ids) == 40
    assert {mid.strip("<>").partition("@")[0] for mid in message_ids} == ids
    assert await pool.fetchval(
        "SELECT count(*) FROM auth.outbox_mail WHERE status = 'sent' AND attempts = 1") == 40


async def test_two_running_senders_deliver_a_burst_once(database_url, pool):
    inbox = Inbox()
    other_pool = await create_pool(database_url)
    try:
        with smtp_server(inbox) as port:
            settings = smtp_settings(port, batch_size=2, poll_seconds=60)
            async with running(MailSender(pool, settings)), \
                    running(MailSender(other_pool, settings)):
                await asyncio.sleep(0.2)
                ids = {await enqueue_one(pool, f"burst{n}@example.com") for n in range(15)}
                await wait_for(lambda: _count(pool, "sent", 15))
    finally:
        await other_pool.close()
    assert sorted(m.message["Message-ID"] for m in inbox.messages) == sorted(
        f"<{mail_id}@tradesage.local>" for mail_id in ids)


async def test_without_smtp_mail_is_held_and_listed(pool, caplog):
    settings = MailSettings()
    assert settings.holds_mail
    mail.require_outbox_listing(settings)  # allowed in the embedded default
    other_tenant = str(uuid.uuid4())
    first = await enqueue_one(pool, "ada@example.com")
    second = await enqueue_one(pool, "Bob@Example.com", token="bob-token")
    third = await enqueue_one(pool, "carol@example.com", tenant_id=other_tenant)

    caplog.set_level(logging.DEBUG, logger="tradesage.auth.mail")
    async with running(MailSender(pool, replace(settings, poll_seconds=0.05))):
        await wait_for(lambda: _count(pool, "held", 3))
    assert_no_token_logged(caplog)
    assert [r.message for r in caplog.records].count("mail held in the outbox") == 3

    everything = await mail.list_outbox(pool, tenant_id=None, limit=10)
    assert [m.id for m in everything] == [third, second, first]  # newest first
    assert {m.status for m in everything} == {MailStatus.HELD}
    assert all(m.attempts == 0 and m.sent_time is None for m in everything)
    assert "token=bob-token" in everything[1].body  # held mail keeps its body: that is the point
    assert "bob-token" not in repr(everything[1])

    tenant_only = await mail.list_outbox(pool, tenant_id=TENANT, limit=10)
    assert [m.id for m in tenant_only] == [second, first]
    by_address = await mail.list_outbox(pool, tenant_id=TENANT, recipient="bob@example.COM",
                                        limit=10)
    assert [m.id for m in by_address] == [second]
    assert await mail.list_outbox(pool, kind=MailKind.PASSWORD_RESET) == []
    older = await mail.list_outbox(pool, limit=10, after=everything[0])
    assert [m.id for m in older] == [second, first]


async def test_outbox_pages_and_proto(pool):
    ids = [await enqueue_one(pool, f"p{n}@example.com") for n in range(5)]
    await MailSender(pool, MailSettings()).process_due()

    seen, token = [], ""
    for _ in range(5):
        page, token = await mail.list_outbox_page(pool, page_size=2, page_token=token)
        seen.extend(page)
        if not token:
            break
    assert [m.id for m in seen] == ids[::-1]
    with pytest.raises(InvalidArgument):
        await mail.list_outbox_page(pool, page_token="bm90LWEtdG9rZW4")
    with pytest.raises(InvalidArgument):
        await mail.list_outbox_page(pool, page_size=-1)

    response = list_outbox_response(seen[:1], "next")
    [proto] = response.mails
    assert response.next_page_token == "next"
    assert proto == outbox_mail_to_proto(seen[0])
    assert (proto.id, proto.tenant_id, proto.to) == (ids[-1], TENANT, "p4@example.com")
    assert proto.kind == pb.MAIL_KIND_EMAIL_VERIFICATION
    assert proto.subject == seen[0].subject and TOKEN in proto.body
    assert proto.create_time.ToDatetime().timestamp() == pytest.approx(
        seen[0].create_time.timestamp(), abs=1e-6)
    assert mail_kind_from_proto(pb.MAIL_KIND_UNSPECIFIED) is None
    assert mail_kind_from_proto(pb.MAIL_KIND_PASSWORD_RESET) is MailKind.PASSWORD_RESET
    with pytest.raises(InvalidArgument):
        mail_kind_from_proto(99)


async def test_listing_is_refused_when_mail_goes_to_smtp():
    with pytest.raises(FailedPrecondition) as raised:
        mail.require_outbox_listing(MailSettings(smtp=SmtpServer("127.0.0.1", 25)))
    assert raised.value.reason == "OUTBOX_DISABLED"


async def test_enqueue_in_a_rolled_back_transaction_leaves_nothing(pool):
    class Abandon(Exception):
        pass

    async with pool.acquire() as connection:
        with pytest.raises(Abandon):
            async with connection.transaction():
                await mail.enqueue(connection, tenant_id=TENANT, recipient="ada@example.com",
                                   kind="email_verification", subject="s", body="b")
                raise Abandon
    assert await pool.fetchval("SELECT count(*) FROM auth.outbox_mail") == 0
    assert await mail.list_outbox(pool) == []


async def test_enqueue_refuses_header_injection(pool):
    async with pool.acquire() as connection:
        for recipient, subject in (("ada@example.com\nBcc: eve@example.com", "s"),
                                   ("ada@example.com", "s\r\nBcc: eve@example.com"),
                                   ("not-an-address", "s"), ("ada@example.com", " ")):
            with pytest.raises(ValueError):
                await mail.enqueue(connection, tenant_id=TENANT, recipient=recipient,
                                   kind=MailKind.SECURITY_NOTICE, subject=subject, body="b")
        with pytest.raises(ValueError):
            await mail.enqueue(connection, tenant_id=TENANT, recipient="ada@example.com",
                               kind="newsletter", subject="s", body="b")


async def test_migration_can_run_again(pool):
    await pool.execute((AUTH_MIGRATIONS / "002_outbox.sql").read_text())
    assert await migrate(pool, "auth", AUTH_MIGRATIONS) == []


async def test_cli_lists_the_outbox(database_url, pool, capsys):
    await enqueue_one(pool)
    await MailSender(pool, MailSettings()).process_due()
    assert await asyncio.to_thread(
        mail.main, ["--database-url", database_url, "--json", "--tenant", TENANT]) == 0
    [line] = capsys.readouterr().out.splitlines()
    listed = json.loads(line)
    assert listed["status"] == "held" and listed["to"] == "ada@example.com"
    assert TOKEN in listed["body"]


def test_settings_from_the_environment():
    default = MailSettings.from_env({})
    assert default.smtp is None and default.holds_mail
    assert default.mail_from == "TradeSage <no-reply@tradesage.local>"
    assert default.sender_address == "no-reply@tradesage.local"
    assert default.public_url == "http://127.0.0.1:8080"

    settings = MailSettings.from_env({
        "TRADESAGE_SMTP_URL": "smtp+starttls://user%40corp:s3cr%3At@mail.example.com",
        "TRADESAGE_MAIL_FROM": "Acme <ops@acme.example>",
        "TRADESAGE_PUBLIC_URL": "https://trade.acme.example/",
        "TRADESAGE_MAIL_MAX_ATTEMPTS": "3",
        "TRADESAGE_MAIL_RETRY_SECONDS": "2",
    })
    assert settings.smtp == SmtpServer("mail.example.com", 587, "starttls", "user@corp", "s3cr:t")
    assert "s3cr" not in repr(settings)
    assert settings.smtp.describe() == "smtp+starttls://user@corp@mail.example.com:587"
    assert settings.public_url == "https://trade.acme.example"
    assert settings.sender_address == "ops@acme.example"
    assert [settings.retry_delay(n) for n in (1, 2, 3)] == [2, 4, 8]
    assert replace(settings, retry_seconds=1000).retry_delay(10) == 3600  # capped
    assert SmtpServer.from_url("smtps://relay.example") == SmtpServer("relay.example", 465, "tls")
    assert SmtpServer.from_url("smtp://127.0.0.1:2525").port == 2525


@pytest.mark.parametrize("env", [
    {"TRADESAGE_SMTP_URL": "http://mail.example.com"},
    {"TRADESAGE_SMTP_URL": "smtp://"},
    {"TRADESAGE_SMTP_URL": "smtp://host:notaport"},
    {"TRADESAGE_MAIL_FROM": "nobody"},
    {"TRADESAGE_PUBLIC_URL": "ftp://x"},
    {"TRADESAGE_MAIL_MAX_ATTEMPTS": "0"},
    {"TRADESAGE_MAIL_RETRY_SECONDS": "-1"},
])
def test_malformed_settings_fail_fast(env):
    with pytest.raises(ConfigError):
        MailSettings.from_env(env)


def assert_no_token_logged(caplog) -> None:
    assert caplog.records
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        assert TOKEN not in text and "bob-token" not in text and "Hello" not in text


async def _with_status(pool, mail_id: str, status: str) -> asyncpg.Record | None:
    stored = await row(pool, mail_id)
    return stored if stored["status"] == status else None


async def _count(pool, status: str, expected: int) -> bool:
    return await pool.fetchval(
        "SELECT count(*) FROM auth.outbox_mail WHERE status = $1", status) == expected
