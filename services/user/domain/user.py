"""What a user profile is, and which of its fields an update may change (AIP-134 FieldMask)."""

from __future__ import annotations

import functools
import locale
import re
import zoneinfo
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from urllib.parse import urlsplit

from services.runtime.errors import FieldViolation, InvalidArgument, NotFound
from services.runtime.names import resource_id, uuid_or_none

MAX_DISPLAY_NAME = 100
MAX_AVATAR_URL = 2048
MAX_LOCALE = 35  # RFC 5646 §4.4.1: enough for any well-formed tag without extensions
ME = "me"


class UserState(Enum):
    """The lifecycle state of an account."""

    ACTIVE = "active"
    LOCKED = "locked"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class Profile:
    """The fields of a user that the user (or a tenant admin) edits."""

    display_name: str = ""
    contact_phone: str = ""
    locale: str = ""
    time_zone: str = ""
    avatar_url: str = ""


@dataclass(frozen=True)
class User:
    """A person who works in one tenant."""

    id: str
    tenant_id: str
    email: str
    display_name: str
    email_verified: bool
    roles: tuple[str, ...]
    create_time: datetime
    update_time: datetime
    contact_phone: str = ""
    locale: str = ""
    time_zone: str = ""
    avatar_url: str = ""
    state: UserState = UserState.ACTIVE
    mfa_enabled: bool = False
    last_login_time: datetime | None = None

    def directory_entry(self) -> User:
        """Return what any member of the tenant may see of this user (no contact details)."""
        return replace(self, contact_phone="", locale="", time_zone="", mfa_enabled=False,
                       last_login_time=None)


def parse_user_name(name: str, caller_id: str | None = None) -> str:
    """Return the id in `users/{id}` ("users/me" is `caller_id`); ids that cannot exist are
    NOT_FOUND."""
    resource = resource_id(name, "users")
    if resource == ME and caller_id is not None:
        return caller_id
    canonical = uuid_or_none(resource)
    if canonical is None:
        raise user_not_found(resource)
    return canonical


def parse_child_name(name: str, child: str, caller_id: str | None = None) -> str:
    """Return the user id in `users/{id}/{child}` (e.g. child "preferences")."""
    parent, slash, last = name.rpartition("/")
    if not slash or last != child:
        raise InvalidArgument(f"name must look like users/{{id}}/{child}", [
            FieldViolation("name", f"must look like users/{{id}}/{child}")])
    return parse_user_name(parent, caller_id)


def user_not_found(user_id: str) -> NotFound:
    """Return the error for a user that does not exist (or that the caller may not see)."""
    return NotFound(f"user {user_id} does not exist", reason="USER_NOT_FOUND",
                    metadata={"userId": user_id})


# Profile updates ------------------------------------------------------------------------------

UPDATABLE_PATHS = ("display_name", "contact_phone", "locale", "time_zone", "avatar_url")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# RFC 5646 langtag (no grandfathered tags): language[-extlang]{0,3} [-script] [-region]
# *(-variant) *(-extension) [-privateuse].
_LANGTAG = re.compile(
    r"(?P<language>[a-z]{2,3})(?:-[a-z]{3}){0,3}"
    r"(?:-(?P<script>[a-z]{4}))?"
    r"(?:-(?P<region>[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?", re.IGNORECASE)
# ISO 639-1: every two-letter language subtag.
_ISO_639_1_CODES = """
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu
hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb
lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om
or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw
ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
"""
_ISO_639_1 = frozenset(_ISO_639_1_CODES.split())


def camel_to_snake(path: str) -> str:
    """Return a FieldMask path in snake_case (REST clients may send lowerCamel paths)."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", path).lower()


def profile_changes(paths: list[str], values: Profile) -> dict[str, str]:
    """Return the validated new values of the fields the mask names ("*" names them all).

    A named field left empty in `values` is cleared. Fails with FIELD_NOT_UPDATABLE for a path
    that is not an editable profile field, else naming every invalid value at once.
    """
    if not paths:
        raise InvalidArgument("name the fields to change in update_mask", [
            FieldViolation("update_mask", "must name at least one field")])
    normalized = [camel_to_snake(p.strip()) for p in paths]
    if "*" in normalized:
        normalized = list(UPDATABLE_PATHS)
    for path in normalized:
        if path not in UPDATABLE_PATHS:
            raise InvalidArgument(
                f"{path} cannot be updated; updatable: {', '.join(UPDATABLE_PATHS)}",
                [FieldViolation("update_mask", f"{path} cannot be updated",
                                "FIELD_NOT_UPDATABLE")],
                reason="FIELD_NOT_UPDATABLE", metadata={"path": path})
    changes: dict[str, str] = {}
    problems: list[InvalidArgument] = []
    for path in dict.fromkeys(normalized):
        try:
            changes[path] = _VALIDATORS[path](getattr(values, path))
        except InvalidArgument as problem:
            problems.append(problem)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidArgument("the profile has invalid fields",
                              [v for p in problems for v in p.violations])
    return changes


def normalize_display_name(value: str) -> str:
    """Return the trimmed display name, or fail if it is too long."""
    value = value.strip()
    if len(value) > MAX_DISPLAY_NAME:
        raise _invalid("user.display_name", f"must be at most {MAX_DISPLAY_NAME} characters")
    return value


def normalize_phone(value: str) -> str:
    """Return the phone number in E.164 form (spaces, dashes, dots, brackets removed)."""
    compact = re.sub(r"[\s\-.()]", "", value)
    if compact and not _E164.fullmatch(compact):
        raise _invalid("user.contact_phone", "must be an E.164 number such as +4915112345678")
    return compact


def normalize_locale(value: str) -> str:
    """Return the BCP 47 tag in canonical case (en-GB, zh-Hant-TW), or fail for unknown ones."""
    value = value.strip().replace("_", "-")
    if not value:
        return ""
    match = _LANGTAG.fullmatch(value) if len(value) <= MAX_LOCALE else None
    if match is None or match["language"].lower() not in _known_languages():
        raise InvalidArgument(
            f"{value!r} is not a known BCP 47 locale", [FieldViolation(
                "user.locale", "must be a BCP 47 tag such as en-GB", "INVALID_LOCALE")],
            reason="INVALID_LOCALE", metadata={"locale": value})
    return _canonical_case(value.split("-"))


def normalize_time_zone(value: str) -> str:
    """Return the IANA time zone name, or fail for a name zoneinfo does not know."""
    value = value.strip()
    if value and not is_time_zone(value):
        raise InvalidArgument(
            f"{value!r} is not an IANA time zone", [FieldViolation(
                "user.time_zone", "must be an IANA time zone such as Europe/Berlin",
                "INVALID_TIME_ZONE")],
            reason="INVALID_TIME_ZONE", metadata={"timeZone": value})
    return value


def is_time_zone(name: str) -> bool:
    """Return whether zoneinfo knows `name` as a time zone."""
    if name in _time_zones():
        return True
    if name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def normalize_avatar_url(value: str) -> str:
    """Return the avatar URL, which must be an absolute https URL without credentials."""
    value = value.strip()
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        ok = (parts.scheme == "https" and bool(parts.hostname) and not parts.username
              and len(value) <= MAX_AVATAR_URL and not any(c.isspace() for c in value))
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        ok = False
    if not ok:
        raise _invalid("user.avatar_url",
                       f"must be an https URL of at most {MAX_AVATAR_URL} characters")
    return value


_VALIDATORS = {
    "display_name": normalize_display_name,
    "contact_phone": normalize_phone,
    "locale": normalize_locale,
    "time_zone": normalize_time_zone,
    "avatar_url": normalize_avatar_url,
}


def _invalid(field: str, description: str) -> InvalidArgument:
    return InvalidArgument(f"{field} {description}", [FieldViolation(field, description)])


def _canonical_case(parts: list[str]) -> str:
    # RFC 5646 §2.1.1: script in title case, region upper case, everything else lower case;
    # after the first singleton (extensions, private use) everything is lower case.
    canonical, in_extension = [parts[0].lower()], False
    for index, part in enumerate(parts[1:], start=1):
        in_extension = in_extension or len(part) == 1
        after_language = all(len(p) == 3 and p.isalpha() for p in parts[1:index])
        if not in_extension and len(part) == 4 and part.isalpha() and after_language:
            canonical.append(part.title())
        elif not in_extension and len(part) == 2 and part.isalpha():
            canonical.append(part.upper())
        else:
            canonical.append(part.lower())
    return "-".join(canonical)


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def _known_languages() -> frozenset[str]:
    # Three-letter codes the C library has locales for (e.g. fil, haw, yue), plus ISO 639-1.
    three = {key.split("_")[0].split(".")[0].split("@")[0] for key in locale.locale_alias}
    return _ISO_639_1 | {code for code in three if len(code) == 3 and code.isalpha()}
