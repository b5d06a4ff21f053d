"""Values as Elasticsearch's csv-spec harness sees them.

The REST spec tests (`EsqlSpecTestCase`) parse each expected cell with the column's
`CsvTestUtils.Type` converter, turn dates, IPs and unsigned longs back into their JSON form, and
then compare `expected.toString()` with `actual.toString()` where `actual` is the JSON value as
Jackson decodes it. This module reproduces those conversions and Java's `toString` so that a
value passes here exactly when it would pass in Elasticsearch's own suite.
"""

from __future__ import annotations

import ipaddress
import math
import re
import struct
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

# CsvTestUtils.Type names, and the short names and widenings its LOOKUP table adds.
TYPE_NAMES = frozenset(
    {
        "INTEGER",
        "LONG",
        "UNSIGNED_LONG",
        "DOUBLE",
        "FLOAT",
        "HALF_FLOAT",
        "SCALED_FLOAT",
        "KEYWORD",
        "TEXT",
        "IP",
        "IP_RANGE",
        "INTEGER_RANGE",
        "DOUBLE_RANGE",
        "DATE_RANGE",
        "VERSION",
        "NULL",
        "DATETIME",
        "DATE_NANOS",
        "BOOLEAN",
        "GEO_POINT",
        "CARTESIAN_POINT",
        "GEO_SHAPE",
        "CARTESIAN_SHAPE",
        "SEMANTIC_TEXT",
        "DENSE_VECTOR",
        "AGGREGATE_METRIC_DOUBLE",
        "EXPONENTIAL_HISTOGRAM",
        "TDIGEST",
        "HISTOGRAM",
    }
)
TYPE_ALIASES = {
    "SHORT": "INTEGER",
    "BYTE": "INTEGER",
    "COUNTER_INTEGER": "INTEGER",
    "COUNTER_LONG": "LONG",
    "COUNTER_DOUBLE": "DOUBLE",
    "COUNTER_FLOAT": "FLOAT",
    "BOOL": "BOOLEAN",
    "I": "INTEGER",
    "L": "LONG",
    "UL": "UNSIGNED_LONG",
    "D": "DOUBLE",
    "K": "KEYWORD",
    "S": "KEYWORD",
    "STRING": "KEYWORD",
    "TXT": "TEXT",
    "N": "NULL",
    "DATE": "DATETIME",
    "DT": "DATETIME",
    "V": "VERSION",
}


class SpecValueError(ValueError):
    """An expected cell that Elasticsearch's converter would reject (a broken spec, not a failure of Vigil)."""


def as_type(name: str | None) -> str | None:
    """`CsvTestUtils.Type.asType`: the canonical type for a header or `/_query` type name, or None."""
    if name is None:
        return None
    upper = name.strip().upper()
    upper = TYPE_ALIASES.get(upper, upper)
    return upper if upper in TYPE_NAMES else None


# --- Java's toString -------------------------------------------------------------------------


def java_double_str(value: float) -> str:
    """`Double.toString` (JDK 19+: the shortest digits that round-trip, like Python's repr)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    digits_tuple = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits).rstrip("0") or "0"
    # value = 0.d1d2d3... * 10**point
    exponent = int(digits_tuple.exponent)
    point = len(digits_tuple.digits) + exponent
    if 1e-3 <= abs(value) < 1e7:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{sign}{digits}{'0' * (point - len(digits))}.0"
        return f"{sign}{digits[:point]}.{digits[point:]}"
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{point - 1}"


def java_str(value: Any) -> str:
    """`Object.toString` of what Jackson (or a csv-spec converter) produced for `value`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double_str(value)
    if isinstance(value, list):
        return "[" + ", ".join(java_str(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={java_str(item)}" for key, item in value.items()) + "}"
    return str(value)


# --- dates (proleptic Gregorian, years before 1 and after 9999 included, as java.time allows) ---

_DATE = re.compile(
    r"(?P<y>[+-]?\d{4,9})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:T(?P<h>\d{2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?)?"
    r"(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?"
)
_DAY_MS = 86_400_000


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 (Howard Hinnant's algorithm; Python's floor division handles year <= 0)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    days += 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    mp = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return year_of_era + era * 400 + (month <= 2), month, day


def parse_date_millis(text: str) -> int:
    """`strict_date_optional_time` in UTC, to epoch milliseconds (fractions below a millisecond dropped)."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise SpecValueError(f"cannot parse date [{text}]")
    parts = match.groupdict()
    year, month, day = int(parts["y"]), int(parts["mo"]), int(parts["d"])
    hour, minute, second = int(parts["h"] or 0), int(parts["mi"] or 0), int(parts["s"] or 0)
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 60):
        raise SpecValueError(f"cannot parse date [{text}]")
    if _civil_from_days(_days_from_civil(year, month, day)) != (year, month, day):
        raise SpecValueError(f"cannot parse date [{text}]: no such day")
    millis = _days_from_civil(year, month, day) * _DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000
    millis += int((parts["f"] or "0").ljust(9, "0")[:3])
    zone = parts["z"]
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        millis -= (1 if zone[0] == "+" else -1) * offset * 60_000
    return millis


def format_date_millis(millis: int) -> str:
    """`UTC_DATE_TIME_FORMATTER.formatMillis`: 2024-01-31T12:00:00.000Z (-0006-01-01... before year 0)."""
    days, rest = divmod(millis, _DAY_MS)
    year, month, day = _civil_from_days(days)
    seconds, ms = divmod(rest, 1000)
    if year < 0:
        year_text = f"-{-year:04d}"
    elif year > 9999:
        year_text = f"+{year}"
    else:
        year_text = f"{year:04d}"
    return (
        f"{year_text}-{month:02d}-{day:02d}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{ms:03d}Z"
    )


# --- IPs -------------------------------------------------------------------------------------


def canonical_ip(text: str) -> str:
    """`DocValueFormat.IP.format(parseIP(text))`: IPv4-mapped addresses print as IPv4, IPv6 compressed."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError as err:
        raise SpecValueError(f"invalid ip [{text}]") from err
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return address.compressed


# --- per-type converters (CsvTestUtils.Type.converter, then CsvAssert.rebuildExpected) -------


def _java_int(text: str, bits: int) -> int:
    if not re.fullmatch(r"[+-]?\d+", text):
        raise SpecValueError(f"not an integer [{text}]")
    number = int(text)
    if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        raise SpecValueError(f"out of range [{text}]")
    return number


def _java_double(text: str) -> float:
    # Java also accepts a trailing type suffix: 1.5d, 2f.
    cleaned = text[:-1] if re.fullmatch(r".*[0-9.][dDfF]", text) else text
    if cleaned in ("NaN", "Infinity", "+Infinity", "-Infinity"):
        return float(cleaned.replace("Infinity", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", cleaned):
        raise SpecValueError(f"not a double [{text}]")
    return float(cleaned)


def _unsigned_long(text: str) -> int:
    try:
        number = Decimal(text)
    except InvalidOperation as err:
        raise SpecValueError(f"not an unsigned long [{text}]") from err
    if number != number.to_integral_value() or not 0 <= number < 2**64:
        raise SpecValueError(f"not an unsigned long [{text}]")
    return int(number)


def _float32(text: str) -> float:
    return float(struct.unpack("f", struct.pack("f", _java_double(text)))[0])


def _float16(text: str) -> float:
    return float(struct.unpack("e", struct.pack("e", _java_double(text)))[0])


def _scaled_float(text: str) -> float:
    # ScaledFloatFieldMapper with the harness's fixed factor 100: truncate, then multiply by 1/100.
    try:
        scaled = int(Decimal(text) * 100)
    except InvalidOperation as err:
        raise SpecValueError(f"not a number [{text}]") from err
    return scaled * (1.0 / 100.0)


def _boolean(text: str) -> bool:
    if text == "true":
        return True
    if text == "false":
        return False
    raise SpecValueError(f"not a boolean [{text}]")


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "INTEGER": lambda s: _java_int(s, 32),
    "LONG": lambda s: _java_int(s, 64),
    "UNSIGNED_LONG": _unsigned_long,
    "DOUBLE": _java_double,
    "FLOAT": _float32,
    "HALF_FLOAT": _float16,
    "SCALED_FLOAT": _scaled_float,
    "BOOLEAN": _boolean,
    "NULL": lambda s: None,
    "DATETIME": lambda s: format_date_millis(parse_date_millis(s)),
    "IP": canonical_ip,
}


def convert_expected(type_name: str, text: str) -> Any:
    """One expected cell (already trimmed, not `null`) to the object the Java harness compares."""
    converter = _CONVERTERS.get(type_name)
    return converter(text) if converter else text
