"""Elasticsearch field types: their DuckDB columns, and how a JSON value is coerced into one.

Coercion follows Elasticsearch's defaults (`coerce: true`): numbers given as strings are parsed,
floats stored in integer fields are truncated, keyword fields keep numbers and booleans as their
JSON text. A value that cannot be coerced raises ValueError with Elasticsearch's wording of the
cause; the caller turns it into a `document_parsing_exception` for that document.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vigil.dataplane.catalog import EsType

# Physical DuckDB type of a single value of each supported Elasticsearch type.
DUCKDB_TYPES: dict[EsType, str] = {
    "keyword": "VARCHAR",
    "text": "VARCHAR",
    "match_only_text": "VARCHAR",
    "wildcard": "VARCHAR",
    "constant_keyword": "VARCHAR",
    "ip": "VARCHAR",
    "version": "VARCHAR",
    "long": "BIGINT",
    "integer": "INTEGER",
    "short": "INTEGER",
    "byte": "INTEGER",
    "unsigned_long": "UBIGINT",
    "double": "DOUBLE",
    "float": "DOUBLE",
    "half_float": "DOUBLE",
    "scaled_float": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "TIMESTAMP",
}
SUPPORTED_TYPES = frozenset(DUCKDB_TYPES)

# Types whose multi-values Elasticsearch returns as stored (text) or sorted and de-duplicated
# (keyword family, ip); every other type returns them sorted with duplicates kept.
_AS_GIVEN = frozenset({"text", "match_only_text"})
_DEDUPLICATED = frozenset({"keyword", "wildcard", "constant_keyword", "ip", "version"})

_INTEGER_RANGES: dict[EsType, tuple[int, int]] = {
    "long": (-(2**63), 2**63 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-(2**7), 2**7 - 1),
    "unsigned_long": (0, 2**64 - 1),
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# strict_date_optional_time as dynamic date detection recognises it: a full date, optionally a
# time. (Elasticsearch also accepts a bare year; Vigil does not detect "2024" as a date.)
_DATE_DETECTION = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_DATE_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def duckdb_type(es_type: EsType, multi_valued: bool) -> str:
    base = DUCKDB_TYPES[es_type]
    return f"{base}[]" if multi_valued else base


def looks_like_date(value: str) -> bool:
    return _DATE_DETECTION.match(value) is not None


def parse_date_millis(value: str) -> int:
    """strict_date_optional_time to epoch milliseconds (UTC when no offset is given)."""
    text = value.strip()
    partial = _DATE_PARTIAL.match(text)
    if partial:
        parsed = datetime(int(partial.group(1)), int(partial.group(2) or 1), 1, tzinfo=UTC)
    else:
        if text.endswith(("z", "Z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text.replace(",", "."))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
    delta = parsed - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _to_keyword(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise ValueError("unexpected value")


def _integer_coercer(es_type: EsType) -> Callable[[Any], int]:
    low, high = _INTEGER_RANGES[es_type]

    def coerce(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"Current token ({'VALUE_TRUE' if value else 'VALUE_FALSE'}) not numeric")
        if isinstance(value, int):
            number = value
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"[{value}] is not a valid number")
            number = int(value)
        elif isinstance(value, str):
            try:
                number = int(value)
            except ValueError:
                try:
                    as_float = float(value)
                except ValueError:
                    raise ValueError(f'For input string: "{value}"') from None
                if not math.isfinite(as_float):
                    raise ValueError(f'For input string: "{value}"') from None
                number = int(as_float)
        else:
            raise ValueError("unexpected value")
        if not low <= number <= high:
            raise ValueError(f"Value [{value}] is out of range for {es_type}")
        return number

    return coerce


def _to_double(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"Current token ({'VALUE_TRUE' if value else 'VALUE_FALSE'}) not numeric")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f'For input string: "{value}"') from None
    else:
        raise ValueError("unexpected value")
    if not math.isfinite(number):
        raise ValueError(f"[{value}] is not a valid number")
    return number


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value in ("false", ""):
        return False
    raise ValueError(f"Failed to parse value [{value}] as only [true] or [false] are allowed.")


def _to_date(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("unexpected value")
    if isinstance(value, int):
        return value  # epoch_millis
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return parse_date_millis(value)
        except ValueError:
            if value.lstrip("-").isdigit():
                return int(value)
            raise ValueError(
                f"failed to parse date field [{value}] with format [strict_date_optional_time||epoch_millis]"
            ) from None
    raise ValueError("unexpected value")


def _to_ip(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"'{value}' is not an IP string literal.")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"'{value}' is not an IP string literal.") from None
    # Elasticsearch shows IPv4-mapped IPv6 addresses as IPv4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _ip_sort_key(value: str) -> int:
    # Doc values hold IPs as 16-byte IPv6 addresses (IPv4 mapped), compared bytewise.
    address = ipaddress.ip_address(value)
    if isinstance(address, ipaddress.IPv4Address):
        return int(ipaddress.IPv6Address(f"::ffff:{address}"))
    return int(address)


def coercer(es_type: EsType) -> Callable[[Any], Any]:
    """The function turning one JSON scalar into the stored value (dates: epoch milliseconds)."""
    if es_type in _INTEGER_RANGES:
        return _integer_coercer(es_type)
    if es_type in ("double", "float", "half_float", "scaled_float"):
        return _to_double
    if es_type == "boolean":
        return _to_boolean
    if es_type == "date":
        return _to_date
    if es_type == "ip":
        return _to_ip
    return _to_keyword


def doc_values_order(es_type: EsType, values: list[Any]) -> list[Any]:
    """Order multi-values as Elasticsearch returns them from doc values (see module notes)."""
    if es_type in _AS_GIVEN:
        return values
    if es_type == "ip":
        return sorted(set(values), key=_ip_sort_key)
    if es_type in _DEDUPLICATED:
        return sorted(set(values))
    return sorted(values)
