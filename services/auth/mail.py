"""The mail outbox of the auth service and its SMTP delivery.

A mail is written to `auth.outbox_mail` by `enqueue`, on the caller's connection and so inside
the caller's transaction: it is queued if and only if the change that caused it commits.
`MailSender.run` (a background task of the server) claims due mail with `FOR UPDATE SKIP LOCKED`
and a lease, sends it over SMTP with aiosmtplib, and marks it sent, or backs off exponentially
and marks it failed after `max_attempts`. Several replicas can run senders side by side; each
mail is claimed by one of them at a time. Delivery is at least once: a sender that dies after the
SMTP server accepted a mail but before marking it sent leaves it to be sent again when the lease
ends (every copy carries the same Message-ID, derived from the outbox id).

Without an SMTP server (the embedded default) the sender marks queued mail `held` instead: it
stays in the outbox, where `list_outbox` (the ListOutboxMail RPC, and `python -m
services.auth.mail`) shows it. Bodies hold verification and reset tokens: nothing here logs a
body, a token or the SMTP password, and a body is emptied once its mail has left the queue.

Settings (environment):
  TRADESAGE_SMTP_URL             smtp://[user:pass@]host[:port] (plain, port 25),
                                 smtp+starttls://... (STARTTLS required, port 587) or
                                 smtps://... (implicit TLS, port 465); unset: hold mail
  TRADESAGE_MAIL_FROM            From header (default "TradeSage <no-reply@tradesage.local>")
  TRADESAGE_PUBLIC_URL           base URL of links in mails (default http://127.0.0.1:8080)
  TRADESAGE_MAIL_MAX_ATTEMPTS    attempts before a mail is marked failed (default 8)
  TRADESAGE_MAIL_RETRY_SECONDS   first retry delay, doubled each attempt up to 1 h (default 30)
  TRADESAGE_MAIL_POLL_SECONDS    how often the sender looks for due mail without a
                                 notification (default 5)
  TRADESAGE_SMTP_TIMEOUT_SECONDS limit on one delivery, connect to quit (default 30)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import aiosmtplib
import asyncpg

from services.auth.domain.mail_templates import MailKind
from services.runtime.config import ConfigError
from services.runtime.errors import FailedPrecondition, FieldViolation, InvalidArgument
from services.runtime.pagination import decode_token, encode_token

log = logging.getLogger("tradesage.auth.mail")

DEFAULT_FROM = "TradeSage <no-reply@tradesage.local>"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
NOTIFY_CHANNEL = "tradesage_auth_outbox"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000  # the ListOutboxMail contract caps page_size at 1000
_MAX_ERROR = 500
_DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
_SCHEMES: dict[str, Literal["none", "starttls", "tls"]] = {
    "smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}


class MailStatus(StrEnum):
    """Where a mail is in the outbox."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to deliver mail; `password` never appears in a repr."""

    host: str
    port: int
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """Parse `smtp://`, `smtp+starttls://` or `smtps://` `[user[:pass]@]host[:port]`."""
        parts = urlsplit(url)
        security = _SCHEMES.get(parts.scheme.lower())
        if security is None:
            raise ConfigError("TRADESAGE_SMTP_URL must start with smtp://, smtp+starttls:// or "
                              f"smtps://, not {parts.scheme or 'nothing'}://")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError("TRADESAGE_SMTP_URL has an invalid port") from None
        if not parts.hostname:
            raise ConfigError("TRADESAGE_SMTP_URL names no host")
        return cls(
            host=parts.hostname,
            port=port or _DEFAULT_PORTS[security],
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    def describe(self) -> str:
        """Return the server as a URL without the password, for logs."""
        scheme = next(name for name, value in _SCHEMES.items() if value == self.security)
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


@dataclass(frozen=True)
class MailSettings:
    """How the outbox is delivered; `smtp` None (the embedded default) holds every mail."""

    smtp: SmtpServer | None = None
    mail_from: str = DEFAULT_FROM
    public_url: str = DEFAULT_PUBLIC_URL
    max_attempts: int = 8
    retry_seconds: float = 30.0
    max_retry_seconds: float = 3600.0
    poll_seconds: float = 5.0
    send_timeout_seconds: float = 30.0
    batch_size: int = 8

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MailSettings:
        """Read the settings from the environment, raising ConfigError on a malformed one."""
        env = os.environ if env is None else env
        url = env.get("TRADESAGE_SMTP_URL", "").strip()
        settings = cls(
            smtp=SmtpServer.from_url(url) if url else None,
            mail_from=env.get("TRADESAGE_MAIL_FROM", "").strip() or DEFAULT_FROM,
            public_url=(env.get("TRADESAGE_PUBLIC_URL", "").strip()
                        or DEFAULT_PUBLIC_URL).rstrip("/"),
            max_attempts=int(_number(env, "TRADESAGE_MAIL_MAX_ATTEMPTS", 8, minimum=1)),
            retry_seconds=_number(env, "TRADESAGE_MAIL_RETRY_SECONDS", 30.0),
            poll_seconds=_number(env, "TRADESAGE_MAIL_POLL_SECONDS", 5.0, minimum=0.05),
            send_timeout_seconds=_number(env, "TRADESAGE_SMTP_TIMEOUT_SECONDS", 30.0,
                                         minimum=0.1),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ConfigError unless the From address and the public URL are usable."""
        if "@" not in self.sender_address or "\n" in self.mail_from or "\r" in self.mail_from:
            raise ConfigError(f"TRADESAGE_MAIL_FROM is not a mail address: {self.mail_from!r}")
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"TRADESAGE_PUBLIC_URL must be an http(s) URL: {self.public_url!r}")

    @property
    def holds_mail(self) -> bool:
        """Return whether mail stays in the outbox (no SMTP server configured)."""
        return self.smtp is None

    @property
    def sender_address(self) -> str:
        """Return the bare address of the From header (the SMTP envelope sender)."""
        return parseaddr(self.mail_from)[1]

    @property
    def lease_seconds(self) -> float:
        """Return how long a claimed mail is left to its sender before others may retry it."""
        return 2 * self.send_timeout_seconds + 10

    def retry_delay(self, attempts: int) -> float:
        """Return the wait after failed attempt number `attempts` (1, 2, ...): doubling."""
        return min(self.max_retry_seconds, self.retry_seconds * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class OutboxMail:
    """One row of the outbox; the body (which may hold a token) is kept out of repr."""

    id: str
    tenant_id: str
    recipient: str
    subject: str
    body: str = field(repr=False)
    kind: MailKind
    status: MailStatus
    attempts: int
    last_error: str | None
    create_time: datetime
    send_after: datetime
    sent_time: datetime | None


async def enqueue(connection: asyncpg.Connection, *, tenant_id: str, recipient: str,
                  kind: MailKind | str, subject: str, body: str) -> str:
    """Queue a mail on `connection` (inside the caller's transaction, if any); return its id.

    Senders are woken by a notification that PostgreSQL delivers only when the transaction
    commits, so a rolled-back change leaves neither a mail nor a wake-up behind.
    """
    kind = MailKind(kind)
    for name, value in (("recipient", recipient), ("subject", subject)):
        if not value.strip() or "\r" in value or "\n" in value:
            raise ValueError(f"a mail {name} must be one non-empty line")
    if "@" not in recipient:
        raise ValueError("a mail recipient must be an address")
    mail_id = uuid.uuid4()
    await connection.execute(
        """INSERT INTO auth.outbox_mail (id, tenant_id, recipient, subject, body_text, kind)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        mail_id, uuid.UUID(str(tenant_id)), recipient.strip(), subject, body, kind.value)
    await connection.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)
    return str(mail_id)


async def list_outbox(pool: asyncpg.Pool | asyncpg.Connection, *, tenant_id: str | None = None,
                      recipient: str | None = None, kind: MailKind | None = None,
                      limit: int = DEFAULT_PAGE_SIZE,
                      after: OutboxMail | tuple[datetime, str] | None = None) -> list[OutboxMail]:
    """Return up to `limit` mails, newest first, older than `after` (a mail or its position).

    `tenant_id` None lists every tenant; `recipient` matches case-insensitively.
    """
    conditions, args = [], []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if tenant_id is not None:
        conditions.append(f"tenant_id = {arg(uuid.UUID(str(tenant_id)))}")
    if recipient:
        conditions.append(f"lower(recipient) = lower({arg(recipient.strip())})")
    if kind is not None:
        conditions.append(f"kind = {arg(MailKind(kind).value)}")
    if after is not None:
        moment, last_id = (after.create_time, after.id) if isinstance(after, OutboxMail) else after
        conditions.append(f"(create_time, id) < ({arg(moment)}, {arg(uuid.UUID(str(last_id)))})")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = await pool.fetch(
        f"""SELECT * FROM auth.outbox_mail {where}
            ORDER BY create_time DESC, id DESC LIMIT {arg(max(0, limit))}""", *args)
    return [_outbox_mail(row) for row in rows]


async def list_outbox_page(pool: asyncpg.Pool, *, tenant_id: str | None = None,
                           recipient: str | None = None, kind: MailKind | None = None,
                           page_size: int = 0, page_token: str = "",
                           ) -> tuple[list[OutboxMail], str]:
    """Return one ListOutboxMail page and the next page token ("" on the last page)."""
    if page_size < 0:
        raise InvalidArgument("page_size must not be negative", [
            FieldViolation("page_size", "must be zero (default) or positive")])
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    cursor = decode_token(page_token)
    after = None
    if cursor is not None:
        try:
            after = (datetime.fromisoformat(cursor["t"]), str(uuid.UUID(cursor["id"])))
        except (KeyError, TypeError, ValueError):
            raise InvalidArgument("page_token is not valid", [FieldViolation(
                "page_token", "use a next_page_token returned by this method")]) from None
    mails = await list_outbox(pool, tenant_id=tenant_id, recipient=recipient, kind=kind,
                              limit=size + 1, after=after)
    if len(mails) <= size:
        return mails, ""
    last = mails[size - 1]
    return mails[:size], encode_token({"t": last.create_time.isoformat(), "id": last.id})


def require_outbox_listing(settings: MailSettings) -> None:
    """Raise FAILED_PRECONDITION/OUTBOX_DISABLED unless mail is held (the embedded default).

    With an SMTP server, mail goes to real inboxes; showing its tokens to an admin would let
    the admin take over accounts, so the contract keeps listing to the embedded mode.
    """
    if not settings.holds_mail:
        raise FailedPrecondition("the mail outbox is only listed when no SMTP server is "
                                 "configured (embedded mode)", reason="OUTBOX_DISABLED")


class MailSender:
    """Deliver the outbox: one per service replica, as a `Mounted.background` task."""

    def __init__(self, pool: asyncpg.Pool, settings: MailSettings) -> None:
        self._pool = pool
        self._settings = settings
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None

    async def run(self) -> None:
        """Deliver due mail until cancelled, woken by commits of `enqueue` or by the poll."""
        if self._settings.smtp is None:
            log.info("no SMTP server configured: mail is held in the outbox")
        else:
            log.info("delivering mail", extra={"smtp": self._settings.smtp.describe()})
        try:
            while True:
                self._wake.clear()
                try:
                    await self._listen()
                    await self.process_due()
                except Exception as error:  # a database outage must not end delivery for good
                    log.warning("outbox pass failed; retrying",
                                extra={"error": _describe(error)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._settings.poll_seconds)
        finally:
            await self._unlisten()

    async def process_due(self) -> int:
        """Handle every mail due now (send, or hold without SMTP); return how many."""
        if self._settings.smtp is None:
            return await self._hold_queued()
        handled = 0
        while claimed := await self._claim():
            outcomes = await asyncio.gather(*(self._deliver(row) for row in claimed),
                                            return_exceptions=True)
            handled += len(claimed)
            if errors := [outcome for outcome in outcomes if isinstance(outcome, Exception)]:
                raise errors[0]  # bookkeeping failed; the leases bring these mails back
        return handled

    async def _hold_queued(self) -> int:
        rows = await self._pool.fetch(
            """UPDATE auth.outbox_mail SET status = 'held'
               WHERE status = 'queued' RETURNING id, kind""")
        for row in rows:
            log.info("mail held in the outbox", extra={"mailId": str(row["id"]),
                                                       "kind": row["kind"]})
        return len(rows)

    async def _claim(self) -> list[asyncpg.Record]:
        # The lease (send_after moved ahead) keeps other senders off while this one delivers
        # without holding a transaction open; `attempts` doubles as the fencing token.
        return await self._pool.fetch(
            """WITH due AS (
                   SELECT id FROM auth.outbox_mail
                   WHERE status = 'queued' AND send_after <= clock_timestamp()
                   ORDER BY send_after, id LIMIT $1
                   FOR UPDATE SKIP LOCKED)
               UPDATE auth.outbox_mail m
               SET attempts = m.attempts + 1,
                   send_after = clock_timestamp() + make_interval(secs => $2)
               FROM due WHERE m.id = due.id
               RETURNING m.id, m.recipient, m.subject, m.body_text, m.kind, m.attempts""",
            self._settings.batch_size, self._settings.lease_seconds)

    async def _deliver(self, row: asyncpg.Record) -> None:
        mail_id, attempts = row["id"], row["attempts"]
        context = {"mailId": str(mail_id), "kind": row["kind"], "attempt": attempts}
        try:
            async with asyncio.timeout(self._settings.send_timeout_seconds):
                await self._send(row)
        except Exception as error:
            if isinstance(error, TimeoutError) and not str(error):
                error = TimeoutError(
                    f"no delivery within {self._settings.send_timeout_seconds:g} s (timeout)")
            permanent = _is_permanent(error)
            final = permanent or attempts >= self._settings.max_attempts
            delay = self._settings.retry_delay(attempts)
            await self._pool.execute(
                """UPDATE auth.outbox_mail
                   SET last_error = $3,
                       status = CASE WHEN $4 THEN 'failed' ELSE 'queued' END,
                       body_text = CASE WHEN $4 THEN '' ELSE body_text END,
                       send_after = clock_timestamp() + make_interval(secs => $5)
                   WHERE id = $1 AND attempts = $2 AND status = 'queued'""",
                mail_id, attempts, _describe(error), final, delay)
            log.warning("mail failed" if final else "mail not sent; will retry",
                        extra={**context, "error": _describe(error), "permanent": permanent,
                               **({} if final else {"retryInSeconds": delay})})
            return
        await self._pool.execute(
            """UPDATE auth.outbox_mail
               SET status = 'sent', sent_time = clock_timestamp(), body_text = '',
                   last_error = NULL
               WHERE id = $1 AND attempts = $2 AND status = 'queued'""", mail_id, attempts)
        log.info("mail sent", extra=context)

    async def _send(self, row: asyncpg.Record) -> None:
        smtp = self._settings.smtp
        assert smtp is not None
        message = EmailMessage()
        message["From"] = self._settings.mail_from
        message["To"] = row["recipient"]
        message["Subject"] = row["subject"]
        message["Date"] = formatdate(usegmt=True)
        domain = self._settings.sender_address.rpartition("@")[2] or "tradesage.local"
        message["Message-ID"] = f"<{row['id']}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(row["body_text"])
        await aiosmtplib.send(
            message, sender=self._settings.sender_address, recipients=[row["recipient"]],
            hostname=smtp.host, port=smtp.port, username=smtp.username, password=smtp.password,
            use_tls=smtp.security == "tls", start_tls=smtp.security == "starttls",
            timeout=self._settings.send_timeout_seconds)

    async def _listen(self) -> None:
        """Make sure a connection LISTENs for enqueue notifications; replace a lost one."""
        if self._listener is not None and not self._listener.is_closed():
            return
        await self._unlisten()
        connection = await self._pool.acquire()
        try:
            await connection.add_listener(NOTIFY_CHANNEL, self._notified)
        except BaseException:
            await self._pool.release(connection)
            raise
        self._listener = connection

    async def _unlisten(self) -> None:
        connection, self._listener = self._listener, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            if not connection.is_closed():
                await connection.remove_listener(NOTIFY_CHANNEL, self._notified)
        with contextlib.suppress(Exception):
            await self._pool.release(connection)

    def _notified(self, *_: Any) -> None:
        self._wake.set()


def _is_permanent(error: BaseException) -> bool:
    """Return whether retrying cannot help.

    That is when the server refused every recipient for good (5xx), or when the mail could not
    even be built (any error but an SMTP, network or timeout error).
    """
    if not isinstance(error, aiosmtplib.SMTPException | OSError | TimeoutError):
        return True
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= refusal.code < 600 for refusal in error.recipients)
    return isinstance(error, aiosmtplib.SMTPRecipientRefused) and 500 <= error.code < 600


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}"[:_MAX_ERROR] if text else type(error).__name__


def _outbox_mail(row: asyncpg.Record) -> OutboxMail:
    return OutboxMail(
        id=str(row["id"]), tenant_id=str(row["tenant_id"]), recipient=row["recipient"],
        subject=row["subject"], body=row["body_text"], kind=MailKind(row["kind"]),
        status=MailStatus(row["status"]), attempts=row["attempts"],
        last_error=row["last_error"], create_time=row["create_time"],
        send_after=row["send_after"], sent_time=row["sent_time"])


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < minimum:
        raise ConfigError(f"{name} must be a number of at least {minimum}, not {raw!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """List the outbox from the command line: `python -m services.auth.mail [options]`."""
    parser = argparse.ArgumentParser(
        prog="python -m services.auth.mail", description="List the auth mail outbox, newest first.")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""),
                        help="PostgreSQL URL (default: $DATABASE_URL)")
    parser.add_argument("--tenant", help="only this tenant id")
    parser.add_argument("--to", help="only mail to this address")
    parser.add_argument("--kind", choices=[kind.value for kind in MailKind])
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or pass --database-url")
    mails = asyncio.run(_fetch_for_cli(args))
    for mail in mails:
        if args.json:
            print(json.dumps({
                "id": mail.id, "tenantId": mail.tenant_id, "to": mail.recipient,
                "kind": mail.kind.value, "status": mail.status.value, "subject": mail.subject,
                "body": mail.body, "createTime": mail.create_time.isoformat(),
                "attempts": mail.attempts, "lastError": mail.last_error}))
        else:
            print(f"{mail.create_time:%Y-%m-%d %H:%M:%S} {mail.status.value:<6} "
                  f"{mail.kind.value} to {mail.recipient}  [{mail.id}]\n"
                  f"Subject: {mail.subject}\n\n{mail.body}\n{'=' * 72}")
    return 0


async def _fetch_for_cli(args: argparse.Namespace) -> list[OutboxMail]:
    connection = await asyncpg.connect(args.database_url)
    try:
        return await list_outbox(connection, tenant_id=args.tenant, recipient=args.to,
                                 kind=MailKind(args.kind) if args.kind else None,
                                 limit=args.limit)
    finally:
        await connection.close()


if __name__ == "__main__":
    sys.exit(main())
