"""Coarse locations from IP addresses, when a local MaxMind database is configured.

Optional by design: without TRADESAGE_GEOIP_DB, or without the `maxminddb` package (which
`geoip2` brings along), every lookup answers an empty location and nothing else changes.
"""

from __future__ import annotations

import importlib
import ipaddress
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from services.session.domain.session import Location

log = logging.getLogger("tradesage.session.geo")


class Locator(Protocol):
    """Turns an IP address into a coarse location."""

    def locate(self, ip_address: str) -> Location:
        """Return where `ip_address` is, or an empty Location when unknown."""
        ...


class NoLocator:
    """The locator used when no GeoIP database is configured or readable."""

    def locate(self, ip_address: str) -> Location:
        """Return an empty Location."""
        return Location()


class MaxMindLocator:
    """Look addresses up in a MaxMind City or Country database (memory-mapped, microseconds)."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def locate(self, ip_address: str) -> Location:
        """Return the country, region and city of a public address."""
        if not is_public(ip_address):
            return Location()
        try:
            record = self._reader.get(ip_address)
        except ValueError:
            return Location()
        return location_from_record(record) if isinstance(record, Mapping) else Location()


def open_locator(path: str) -> Locator:
    """Return a MaxMind locator for `path`, or a NoLocator when that is not possible."""
    if not path:
        return NoLocator()
    if not Path(path).is_file():
        log.warning("GeoIP database not found; locations stay empty", extra={"path": path})
        return NoLocator()
    try:
        maxminddb = importlib.import_module("maxminddb")
    except ImportError:
        log.warning("install geoip2 or maxminddb to use TRADESAGE_GEOIP_DB; locations stay empty")
        return NoLocator()
    return MaxMindLocator(maxminddb.open_database(path))


def location_from_record(record: Mapping[str, Any]) -> Location:
    """Return the Location in a MaxMind City/Country record (English names)."""
    subdivisions = record.get("subdivisions") or [{}]
    return Location(
        country_code=str((record.get("country") or {}).get("iso_code", "")),
        region=_english_name(subdivisions[0]),
        city=_english_name(record.get("city") or {}),
    )


def is_public(ip_address: str) -> bool:
    """Tell whether `ip_address` is a global address a GeoIP database can know."""
    try:
        return ipaddress.ip_address(ip_address).is_global
    except ValueError:
        return False


def _english_name(entry: Mapping[str, Any]) -> str:
    return str((entry.get("names") or {}).get("en", ""))
