"""Constant values: literal and parameter typing, implicit string casts, temporal units.

Elasticsearch folds string constants into the type a function or comparison expects
(``hire_date > "1985-01-01"``, ``round(x, "2")``); failures are verification errors worded
like ``Cannot convert string [c] to [LONG], error [Cannot parse number [c]]``.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Any

from vigil.esql import types as t
from vigil.esql.types import DataType

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
ULONG_MAX = 2**64 - 1

# Temporal units of qualified literals (`1 day`, `3 hours`) -> (canonical unit, type).
_UNITS: dict[str, tuple[str, DataType]] = {}
for _names, _canonical, _type in (
    (("millisecond", "milliseconds", "ms"), "millisecond", t.TIME_DURATION),
    (("second", "seconds", "sec", "s"), "second", t.TIME_DURATION),
    (("minute", "minutes", "min"), "minute", t.TIME_DURATION),
    (("hour", "hours", "h"), "hour", t.TIME_DURATION),
    (("day", "days", "d"), "day", t.DATE_PERIOD),
    (("week", "weeks", "w"), "week", t.DATE_PERIOD),
    (("month", "months", "mo"), "month", t.DATE_PERIOD),
    (("quarter", "quarters", "q"), "quarter", t.DATE_PERIOD),
    (("year", "years", "yr", "y"), "year", t.DATE_PERIOD),
):
    for _name in _names:
        _UNITS[_name] = (_canonical, _type)


def temporal_unit(unit: str) -> tuple[str, DataType] | None:
    return _UNITS.get(unit.lower())


def integer_type(value: int) -> DataType:
    if INT_MIN <= value <= INT_MAX:
        return t.INTEGER
    if LONG_MIN <= value <= LONG_MAX:
        return t.LONG
    if 0 <= value <= ULONG_MAX:
        return t.UNSIGNED_LONG
    return t.DOUBLE


def value_type(value: Any) -> DataType | None:
    """The ES|QL type of a JSON parameter value (None: not a scalar)."""
    if value is None:
        return t.NULL
    if isinstance(value, bool):
        return t.BOOLEAN
    if isinstance(value, int):
        return integer_type(value)
    if isinstance(value, float):
        return t.DOUBLE
    if isinstance(value, str):
        return t.KEYWORD
    return None


_DATE = re.compile(
    r"^([+-]?\d{4,9})(?:-(\d{1,2})(?:-(\d{1,2})(?:[T ](\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$"
)


def parse_datetime(text: str) -> datetime:
    """strict_date_optional_time (UTC unless an offset is given) -> naive UTC datetime."""
    match = _DATE.match(text.strip())
    if not match:
        raise ValueError(f"failed to parse date field [{text}] with format [strict_date_optional_time]")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        value = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micros,
        )
    except ValueError:
        raise ValueError(f"failed to parse date field [{text}] with format [strict_date_optional_time]") from None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset_minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        from datetime import timedelta

        value -= timedelta(minutes=sign * offset_minutes)
    return value


def format_datetime(value: datetime) -> str:
    """Elasticsearch's output format: 2024-01-01T00:00:00.000Z."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def convert_string(value: str, target: DataType) -> Any:
    """Fold a string constant into ``target``; raises ValueError with Elasticsearch's cause."""
    if target == t.DATETIME:
        return parse_datetime(value)
    if target in (t.INTEGER, t.LONG, t.UNSIGNED_LONG):
        try:
            number = int(value.strip())
        except ValueError:
            try:
                number = int(float(value.strip()))
            except ValueError:
                raise ValueError(f"Cannot parse number [{value}]") from None
        return number
    if target == t.DOUBLE:
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"Cannot parse number [{value}]") from None
    if target == t.BOOLEAN:
        return value.strip().lower() == "true"
    if target == t.IP:
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError(f"'{value}' is not an IP string literal.") from None
    if target in (t.VERSION, t.KEYWORD, t.TEXT):
        return value
    if target in (t.DATE_PERIOD, t.TIME_DURATION):
        return parse_temporal_amount(value, target)
    raise ValueError(f"cannot convert to [{target.name}]")


def parse_temporal_amount(text: str, target: DataType) -> tuple[int, str]:
    match = re.fullmatch(r"\s*(-?\d+)\s*([A-Za-z]+)\s*", text)
    unit = temporal_unit(match.group(2)) if match else None
    if not match or unit is None or unit[1] != target:
        raise ValueError(f"Cannot parse [{text}] to {target.name.upper()}")
    return int(match.group(1)), unit[0]
