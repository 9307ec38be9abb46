"""Outbox mail proto messages <-> the outbox rows of `services.auth.mail`."""

from __future__ import annotations

from collections.abc import Sequence

from tradesage.auth.v1 import auth_resources_pb2 as pb
from tradesage.auth.v1 import auth_service_pb2 as api

from services.auth.domain.mail_templates import MailKind
from services.auth.mail import OutboxMail
from services.runtime.errors import FieldViolation, InvalidArgument
from services.runtime.timestamps import to_timestamp

_KIND_TO_PROTO = {
    MailKind.EMAIL_VERIFICATION: pb.MAIL_KIND_EMAIL_VERIFICATION,
    MailKind.PASSWORD_RESET: pb.MAIL_KIND_PASSWORD_RESET,
    MailKind.SECURITY_NOTICE: pb.MAIL_KIND_SECURITY_NOTICE,
    MailKind.ACCOUNT_LOCKED: pb.MAIL_KIND_ACCOUNT_LOCKED,
}
_KIND_FROM_PROTO = {value: kind for kind, value in _KIND_TO_PROTO.items()}


def mail_kind_from_proto(value: int) -> MailKind | None:
    """Return the kind a request filters on: None when unspecified; reject unknown values."""
    if value == pb.MAIL_KIND_UNSPECIFIED:
        return None
    kind = _KIND_FROM_PROTO.get(value)  # type: ignore[call-overload]
    if kind is None:
        raise InvalidArgument("kind is not a known mail kind", [
            FieldViolation("kind", f"unknown MailKind value {value}")])
    return kind


def outbox_mail_to_proto(mail: OutboxMail) -> pb.OutboxMail:
    """Return the API resource of an outbox mail."""
    return pb.OutboxMail(
        id=mail.id,
        tenant_id=mail.tenant_id,
        to=mail.recipient,
        subject=mail.subject,
        body=mail.body,
        kind=_KIND_TO_PROTO[mail.kind],
        create_time=to_timestamp(mail.create_time),
    )


def list_outbox_response(mails: Sequence[OutboxMail],
                         next_page_token: str) -> api.ListOutboxMailResponse:
    """Return the ListOutboxMail response of one page."""
    return api.ListOutboxMailResponse(
        mails=[outbox_mail_to_proto(mail) for mail in mails], next_page_token=next_page_token)
