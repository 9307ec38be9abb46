"""Which registrations are acceptable: email shape and password policy."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from services.runtime.errors import FieldViolation, require

MIN_PASSWORD = 12
MAX_PASSWORD = 128
MAX_EMAIL = 254
MAX_DISPLAY_NAME = 100
# Deliberately loose: the verification mail (issue 3) is the real check of an address.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Registration:
    """A validated sign-up request."""

    tenant_id: str
    email: str
    password: str
    display_name: str


def validate_registration(tenant_id: str, email: str, password: str,
                          display_name: str) -> Registration:
    """Return the registration, or fail naming every bad field at once."""
    email, display_name = email.strip(), display_name.strip()
    violations = [
        *_tenant_violations(tenant_id),
        *email_violations(email),
        *password_violations(password, email),
    ]
    if len(display_name) > MAX_DISPLAY_NAME:
        violations.append(FieldViolation(
            "display_name", f"must be at most {MAX_DISPLAY_NAME} characters"))
    require(violations, "the registration has invalid fields")
    return Registration(str(uuid.UUID(tenant_id)), email, password, display_name)


def password_violations(password: str, email: str = "",
                        field: str = "password") -> list[FieldViolation]:
    """Return what is wrong with a new password (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        problems.append(f"must be at most {MAX_PASSWORD} characters")
    if not (any(c.isalpha() for c in password) and any(not c.isalpha() for c in password)):
        problems.append("must mix letters with digits or symbols")
    local_part = email.partition("@")[0].lower()
    if len(local_part) >= 4 and local_part in password.lower():
        problems.append("must not contain the email address")
    return [FieldViolation(field, p, "PASSWORD_POLICY") for p in problems]


def email_violations(email: str, field: str = "email") -> list[FieldViolation]:
    """Return what is wrong with an email address (empty when it looks like one)."""
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        return [FieldViolation(field, "must be an email address")]
    return []


def _tenant_violations(tenant_id: str) -> list[FieldViolation]:
    try:
        uuid.UUID(tenant_id)
    except ValueError:
        return [FieldViolation("tenant_id", "must be a tenant id (a UUID)")]
    return []
