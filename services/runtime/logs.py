"""Structured JSON logging that never writes secrets."""

from __future__ import annotations

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

# Any log field whose name looks like one of these is masked, whatever logged it.
_SECRET_FIELD = re.compile(
    r"pass(word|wd)|pwd|secret|token|authorization|cookie|credential|totp|key", re.IGNORECASE)
_STANDARD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "taskName"}


class RedactSecrets(logging.Filter):
    """Mask values of extra fields whose names suggest a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in set(record.__dict__) - _STANDARD_FIELDS:
            if _SECRET_FIELD.search(name):
                setattr(record, name, "[redacted]")
        return True


def configure(service: str, level: str = "INFO") -> None:
    """Send JSON log lines to stderr, one object a line, tagged with the service name."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "asctime": "time", "name": "logger"},
        static_fields={"service": service},
    ))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
