"""Elasticsearch time units (`30m`, `1d`, `500ms`), as API key expirations are written."""

from __future__ import annotations

import re
from datetime import timedelta

from vigil.errors import BadRequest

_UNITS = {
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
    "ms": timedelta(milliseconds=1),
    "micros": timedelta(microseconds=1),
    "nanos": timedelta(microseconds=0.001),
}
_PATTERN = re.compile(r"^\s*(\d+)\s*(d|h|m|s|ms|micros|nanos)\s*$")


def parse_duration(text: str) -> timedelta:
    match = _PATTERN.match(text)
    if not match:
        raise BadRequest(
            f"failed to parse setting [expiration] with value [{text}] as a time value: "
            "unit is missing or unrecognized (use d, h, m, s, ms, micros or nanos)"
        )
    return int(match.group(1)) * _UNITS[match.group(2)]
