"""The auth mail templates: links, codes, expiry wording, and what never gets into a mail."""

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from services.auth.domain.mail_templates import (
    Mail,
    MailKind,
    SecurityEvent,
    account_locked_mail,
    describe_duration,
    describe_time,
    greeting_name,
    password_reset_mail,
    security_notice_mail,
    verification_mail,
)

TENANT = "6f1c2b8e-3d4a-4f5b-9c6d-7e8f9a0b1c2d"
TOKEN = "vT3-k9_Qx.Zr4~"
BASE = "https://trade.example.com/"


def _links(body: str) -> list[str]:
    return [line.strip() for line in body.splitlines() if line.strip().startswith("http")]


@pytest.mark.parametrize(("build", "kind", "page"), [
    (verification_mail, MailKind.EMAIL_VERIFICATION, "/verify-email"),
    (password_reset_mail, MailKind.PASSWORD_RESET, "/reset-password"),
])
def test_token_mails_carry_a_link_and_the_code(build, kind, page):
    mail = build(display_name="Ada Lovelace", tenant_id=TENANT, token=TOKEN, public_url=BASE)

    assert mail.kind is kind
    assert "\n" not in mail.subject and "TradeSage" in mail.subject
    assert mail.body.startswith("Hello Ada Lovelace,\n")
    [link] = _links(mail.body)
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"https://trade.example.com{page}"
    assert parse_qs(parts.query) == {"tenantId": [TENANT], "token": [TOKEN]}
    assert f"\n  {TOKEN}\n" in mail.body  # the code, on its own line, to type in


def test_token_is_url_encoded_in_the_link():
    mail = verification_mail(display_name="", tenant_id=TENANT, token="a+b/c=&d",
                             public_url="http://127.0.0.1:8080")
    [link] = _links(mail.body)
    assert "token=a%2Bb%2Fc%3D%26d" in link
    assert parse_qs(urlsplit(link).query)["token"] == ["a+b/c=&d"]


def test_expiry_is_stated():
    assert "expire in 24 hours" in verification_mail(
        display_name="A", tenant_id=TENANT, token=TOKEN, public_url=BASE).body
    assert "expire in 1 hour." in password_reset_mail(
        display_name="A", tenant_id=TENANT, token=TOKEN, public_url=BASE).body
    assert "expire in 15 minutes" in password_reset_mail(
        display_name="A", tenant_id=TENANT, token=TOKEN, public_url=BASE,
        expires_in=timedelta(minutes=15)).body


@pytest.mark.parametrize("token", ["", "has space", "new\nline", "x" * 513, "ünïcode"])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(ValueError):
        verification_mail(display_name="A", tenant_id=TENANT, token=token, public_url=BASE)


def test_display_name_cannot_inject_lines_and_is_bounded():
    mail = verification_mail(
        display_name="Eve\r\n\r\nClick http://evil.example/\x00 now" + "x" * 300,
        tenant_id=TENANT, token=TOKEN, public_url=BASE)
    first_line = mail.body.splitlines()[0]
    assert first_line.startswith("Hello Eve Click http://evil.example/ now")
    assert len(first_line) <= len("Hello ,") + 100
    assert _links(mail.body) == [_links(mail.body)[0]]  # still exactly one link line
    assert greeting_name("  \n\t ") == "there"


def test_repr_of_a_mail_hides_the_body_and_so_the_token():
    mail = password_reset_mail(display_name="A", tenant_id=TENANT, token=TOKEN, public_url=BASE)
    assert isinstance(mail, Mail)
    assert TOKEN not in repr(mail) and mail.subject in repr(mail)


def test_templates_take_no_password():
    # No template can put a password in a mail: none accepts one.
    for build in (verification_mail, password_reset_mail, security_notice_mail,
                  account_locked_mail):
        names = build.__code__.co_varnames[:build.__code__.co_kwonlyargcount]
        assert not [name for name in names if "password" in name.lower()], build.__name__


@pytest.mark.parametrize("event", list(SecurityEvent))
def test_security_notice_names_the_event_time_and_origin(event):
    mail = security_notice_mail(
        display_name="Ada", event=event, occurred_at=datetime(2026, 11, 27, 14, 3, tzinfo=UTC),
        public_url=BASE, tenant_id=TENANT, ip_address="203.0.113.7")
    assert mail.kind is MailKind.SECURITY_NOTICE
    assert "2026-11-27 14:03 UTC" in mail.body
    assert "from IP address 203.0.113.7" in mail.body
    [link] = _links(mail.body)
    assert parse_qs(urlsplit(link).query) == {"tenantId": [TENANT]}  # no token in a notice


def test_security_notice_without_ip_and_with_another_zone():
    mail = security_notice_mail(
        display_name="Ada", event=SecurityEvent.MFA_ENABLED,
        occurred_at=datetime(2026, 11, 27, 16, 3, tzinfo=timezone(timedelta(hours=2))),
        public_url=BASE, tenant_id=TENANT)
    assert "on 2026-11-27 14:03 UTC." in mail.body
    assert "IP address" not in mail.body
    assert "turned on" in mail.subject


def test_account_locked_mail_says_until_when():
    mail = account_locked_mail(display_name="Ada", locked_until=datetime(2026, 1, 2, 3, 4),
                               public_url=BASE, tenant_id=TENANT)
    assert mail.kind is MailKind.ACCOUNT_LOCKED
    assert "2026-01-02 03:04 UTC" in mail.body
    assert _links(mail.body)[0].startswith("https://trade.example.com/reset-password?")


@pytest.mark.parametrize(("duration", "words"), [
    (timedelta(hours=24), "24 hours"),
    (timedelta(days=2), "2 days"),
    (timedelta(days=7), "7 days"),
    (timedelta(hours=1), "1 hour"),
    (timedelta(hours=2), "2 hours"),
    (timedelta(minutes=90), "90 minutes"),
    (timedelta(minutes=1), "1 minute"),
    (timedelta(seconds=119), "1 minute"),
    (timedelta(0), "1 minute"),
])
def test_describe_duration(duration, words):
    assert describe_duration(duration) == words


def test_describe_time_takes_naive_as_utc():
    assert describe_time(datetime(2026, 5, 6, 7, 8, 59)) == "2026-05-06 07:08 UTC"
