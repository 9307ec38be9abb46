"""A user's preferences: one versioned JSON document, changed by compare-and-set.

Every device of a user reads the document with its version and writes back the version it
read; a write based on an older version is refused (ABORTED, with the current version), so a
device never overwrites a change it has not seen. An update mask of `settings.<key>` paths
changes only those keys (dots reach into nested objects); a masked key missing from the new
settings is removed. Without a mask (or with `settings`) the whole document is replaced.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.runtime.errors import Aborted, FieldViolation, InvalidArgument

MAX_SETTINGS_BYTES = 64 * 1024
MAX_DEPTH = 8
SETTINGS = "settings"


@dataclass(frozen=True)
class Preferences:
    """A user's settings at one version (version 0: never saved)."""

    user_id: str
    version: int
    settings: dict[str, Any]
    update_time: datetime | None = None


@dataclass(frozen=True)
class PreferenceChange:
    """A committed change, as pushed to the user's other devices."""

    preferences: Preferences
    changed_keys: tuple[str, ...]
    session_id: str
    change_time: datetime


def merged_settings(current: dict[str, Any], new: dict[str, Any],
                    paths: list[str]) -> dict[str, Any]:
    """Return the settings after applying `new` under the mask `paths` to `current`."""
    keys = [_settings_key(path) for path in paths]
    if not keys or any(key == () for key in keys):
        return copy.deepcopy(new)
    result = copy.deepcopy(current)
    for masked in keys:
        key = _spelled(masked, new, current)
        found, value = _lookup(new, key)
        if found:
            _assign(result, key, copy.deepcopy(value))
        else:
            _remove(result, key)
    return result


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    """Return the top-level keys whose values differ, sorted."""
    return tuple(sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k)))


def check_settings(settings: dict[str, Any]) -> None:
    """Fail if the settings are too large or nested too deeply to store."""
    size = len(json.dumps(settings, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_SETTINGS_BYTES:
        raise InvalidArgument(
            f"the preferences take {size} bytes; at most {MAX_SETTINGS_BYTES} are allowed",
            [FieldViolation("preferences.settings",
                            f"must be at most {MAX_SETTINGS_BYTES} bytes as JSON",
                            "PREFERENCES_TOO_LARGE")],
            reason="PREFERENCES_TOO_LARGE", metadata={"limitBytes": str(MAX_SETTINGS_BYTES)})
    if _depth(settings) > MAX_DEPTH:
        raise InvalidArgument("the preferences are nested too deeply", [FieldViolation(
            "preferences.settings", f"must be nested at most {MAX_DEPTH} levels deep")])


def check_version(version: int) -> None:
    """Fail for a version no read can have returned."""
    if version < 0:
        raise InvalidArgument("preferences.version must not be negative", [FieldViolation(
            "preferences.version", "must be the version last read (0 if never saved)")])


def version_conflict(expected: int, current: int) -> Aborted:
    """Return the error for a write based on a version that is no longer current."""
    return Aborted(
        f"the preferences changed since version {expected}; read version {current} and retry",
        reason="PREFERENCES_VERSION_CONFLICT",
        metadata={"expectedVersion": str(expected), "currentVersion": str(current)})


def _settings_key(path: str) -> tuple[str, ...]:
    path = path.strip()
    head, _, rest = path.partition(".")
    if head != SETTINGS or (path != SETTINGS and any(not p for p in rest.split("."))):
        raise InvalidArgument(f"{path} cannot be updated; use settings.<key> paths", [
            FieldViolation("update_mask", f"{path} cannot be updated", "FIELD_NOT_UPDATABLE")],
            reason="FIELD_NOT_UPDATABLE", metadata={"path": path})
    return tuple(rest.split(".")) if rest else ()


def _spelled(key: tuple[str, ...], *documents: dict[str, Any]) -> tuple[str, ...]:
    """Return `key` as the documents spell it.

    JSON FieldMask paths are lowerCamel and travel as snake_case, so a REST client's
    `settings.chartStyle` arrives as `settings.chart_style`; a part that no document has
    verbatim matches a key whose snake_case form it is.
    """
    spelled: list[str] = []
    nodes = list(documents)
    for part in key:
        names = [n for node in nodes if isinstance(node, dict) for n in node]
        if part not in names:
            part = next((n for n in names if _snake(n) == part), part)
        spelled.append(part)
        nodes = [node.get(part) for node in nodes if isinstance(node, dict)]
    return tuple(spelled)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _lookup(settings: dict[str, Any], key: tuple[str, ...]) -> tuple[bool, Any]:
    node: Any = settings
    for part in key:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _assign(settings: dict[str, Any], key: tuple[str, ...], value: Any) -> None:
    node = settings
    for part in key[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[key[-1]] = value


def _remove(settings: dict[str, Any], key: tuple[str, ...]) -> None:
    found, parent = _lookup(settings, key[:-1])
    if found and isinstance(parent, dict):
        parent.pop(key[-1], None)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0
