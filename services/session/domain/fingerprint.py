"""Device fingerprints: a stable hash of what a client says about itself.

The fingerprint names a device for "new device" notices, not a person: it must not change when
the browser updates itself, so version numbers and GREASE brands are left out. Two machines
with the same browser on the same platform share a fingerprint; that is accepted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

# The client hints that describe the device and stay put across browser updates.
STABLE_HINTS = ("sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform")
_VERSION = re.compile(r"\d+(?:[._]\d+)*")
_BRAND = re.compile(r'"([^"]*)"\s*(?:;\s*v\s*=\s*"[^"]*")?')
_SPACES = re.compile(r"\s+")


def device_fingerprint(user_agent: str, client_hints: Mapping[str, str],
                       device_id: str = "") -> str:
    """Return the hex SHA-256 fingerprint of a client, from its device id if it sent one."""
    if device_id:
        material = "device-id\n" + device_id
    else:
        hints = {k.lower(): v for k, v in client_hints.items()}
        parts = [normalize_user_agent(user_agent),
                 normalize_brands(hints.get("sec-ch-ua", "")),
                 *(_unquote(hints.get(name, "")) for name in STABLE_HINTS[1:])]
        material = "client\n" + "\n".join(parts)
    return hashlib.sha256(material.encode()).hexdigest()


def normalize_user_agent(user_agent: str) -> str:
    """Return the user agent without version numbers, lower-cased, spaces collapsed."""
    return _SPACES.sub(" ", _VERSION.sub("", user_agent)).strip().lower()


def normalize_brands(sec_ch_ua: str) -> str:
    """Return the brands of a `sec-ch-ua` header, sorted, without versions or GREASE brands."""
    brands = {b.strip().lower() for b in _BRAND.findall(sec_ch_ua)}
    return ",".join(sorted(b for b in brands if b and not _is_grease(b)))


def _is_grease(brand: str) -> bool:
    # Browsers add a made-up brand ("Not?A_Brand", "Not A(Brand") that changes between versions.
    letters = re.sub(r"[^a-z]", "", brand)
    return letters.startswith("not") and letters.endswith("brand")


def _unquote(value: str) -> str:
    return value.strip().strip('"').lower()
