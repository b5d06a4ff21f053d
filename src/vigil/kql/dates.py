"""Date values in KQL: ISO-8601 text and Elasticsearch date math (``now-7d/d``).

A date value denotes a *period* as precise as it is written: ``2024-01-02`` is that whole UTC
day, ``2024-01-02T10:30`` that minute, ``now-7d/d`` a whole day; an instant such as ``now-1h``,
an epoch-millis number or a time with fractional seconds is a zero-length period. The SQL
compiler turns periods into comparisons (``=`` means "inside the period", see ``sql.py``).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

_ISO = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?)?"
    r"(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?)?)?"
)
_EPOCH_MILLIS = re.compile(r"-?\d{5,}")
_MATH_STEP = re.compile(r"([+-])(\d+)([yMwdhHms])|/([yMwdhHms])")
_FIXED_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "H": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}


@dataclass(frozen=True)
class DatePeriod:
    """``[start, end)`` in UTC; ``end`` is None for an exact instant."""

    start: datetime
    end: datetime | None


def parse_date(text: str, now: datetime) -> DatePeriod:
    """Parse ``2024-01-02``, ``2024-01-02T10:00:00+02:00``, ``now-7d/d``, ``2024-01-01||+1M``...

    Values without an offset are UTC, as in Elasticsearch without a ``time_zone``. Raises
    ValueError with a user-facing reason when ``text`` is not a date.
    """
    try:
        return _parse_date(text.strip(), now)
    except OverflowError:
        raise ValueError("date out of range") from None


def _parse_date(text: str, now: datetime) -> DatePeriod:
    if text.startswith("now"):
        return _apply_math(DatePeriod(now.astimezone(UTC), None), text[3:])
    iso, separator, math = text.partition("||")
    if not separator and _EPOCH_MILLIS.fullmatch(iso):
        return DatePeriod(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(iso)), None)
    if separator and not math:
        raise ValueError("expected date math after '||'")
    return _apply_math(_parse_iso(iso), math)


def _parse_iso(text: str) -> DatePeriod:
    match = _ISO.fullmatch(text)
    if match is None:
        raise ValueError("expected an ISO-8601 date")
    parts = match.groupdict()
    tz = _parse_offset(parts["tz"])
    year, month, day, hour, minute, second = (int(parts[name] or default) for name, default in _DEFAULTS)
    fraction = parts["fraction"]
    microsecond = int((fraction or "0").ljust(6, "0")[:6])
    # Raises ValueError for impossible dates such as 2024-13-40.
    start = datetime(year, month, day, hour, minute, second, microsecond, tzinfo=tz)
    precise = [name for name, _ in _DEFAULTS if parts[name] is not None][-1]
    end = None if fraction else _add(start, 1, _UNIT_OF_FIELD[precise])
    return DatePeriod(start.astimezone(UTC), end.astimezone(UTC) if end else None)


_DEFAULTS = (("year", "1"), ("month", "1"), ("day", "1"), ("hour", "0"), ("minute", "0"), ("second", "0"))
_UNIT_OF_FIELD = {"year": "y", "month": "M", "day": "d", "hour": "h", "minute": "m", "second": "s"}


def _parse_offset(text: str | None) -> timezone:
    if text is None or text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or "0")
    if hours > 23 or minutes > 59:
        raise ValueError("invalid UTC offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _apply_math(period: DatePeriod, math: str) -> DatePeriod:
    """Apply ``+1d``, ``-2h`` (shift the period) and ``/d`` (widen to the enclosing unit)."""
    pos = 0
    while pos < len(math):
        step = _MATH_STEP.match(math, pos)
        if step is None:
            raise ValueError(f"invalid date math at '{math[pos:]}' (expected e.g. -7d, +1h or /d)")
        sign, amount, unit, round_unit = step.groups()
        if round_unit:
            start = _floor(period.start, round_unit)
            period = DatePeriod(start, _add(start, 1, round_unit))
        else:
            count = int(amount) * (-1 if sign == "-" else 1)
            end = period.end
            period = DatePeriod(_add(period.start, count, unit), _add(end, count, unit) if end else None)
        pos = step.end()
    return period


def _add(moment: datetime, count: int, unit: str) -> datetime:
    if unit in _FIXED_UNITS:
        return moment + count * _FIXED_UNITS[unit]
    months = moment.month - 1 + count * (12 if unit == "y" else 1)
    year, month = moment.year + months // 12, months % 12 + 1
    if not 1 <= year <= 9999:
        raise ValueError("date out of range")
    # Clamp like Elasticsearch: Jan 31 + 1M is the last day of February.
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _floor(moment: datetime, unit: str) -> datetime:
    moment = moment.astimezone(UTC)
    if unit == "y":
        return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "M":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "w":  # weeks start on Monday, as in Elasticsearch
        return day - timedelta(days=moment.weekday())
    if unit == "d":
        return day
    if unit in ("h", "H"):
        return moment.replace(minute=0, second=0, microsecond=0)
    if unit == "m":
        return moment.replace(second=0, microsecond=0)
    return moment.replace(microsecond=0)
