"""ES|QL data types: names as the API and the messages spell them, and their DuckDB types.

Elasticsearch widens some mapping types when it reads them (``short``/``byte`` to integer,
``float``/``half_float``/``scaled_float`` to double); ``date_period`` and ``time_duration`` exist
only as constants (``1 day``, ``2 hours``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataType:
    name: str  # as messages print it: "datetime", "keyword", "integer"...
    output: str  # as `/_query` reports it in `columns`: "date", "keyword", "integer"...
    sql: str  # DuckDB type of one value

    def __str__(self) -> str:
        return self.name


KEYWORD = DataType("keyword", "keyword", "VARCHAR")
TEXT = DataType("text", "text", "VARCHAR")
LONG = DataType("long", "long", "BIGINT")
INTEGER = DataType("integer", "integer", "INTEGER")
DOUBLE = DataType("double", "double", "DOUBLE")
UNSIGNED_LONG = DataType("unsigned_long", "unsigned_long", "UBIGINT")
BOOLEAN = DataType("boolean", "boolean", "BOOLEAN")
DATETIME = DataType("datetime", "date", "TIMESTAMP")
IP = DataType("ip", "ip", "VARCHAR")
VERSION = DataType("version", "version", "VARCHAR")
NULL = DataType("null", "null", "INTEGER")
DATE_PERIOD = DataType("date_period", "date_period", "INTERVAL")
TIME_DURATION = DataType("time_duration", "time_duration", "INTERVAL")
UNSUPPORTED = DataType("unsupported", "unsupported", "VARCHAR")
# A column whose defining expression failed verification: later uses report nothing more.
UNRESOLVED = DataType("unresolved", "unsupported", "VARCHAR")

STRING_TYPES = frozenset({KEYWORD, TEXT})
INTEGRAL_TYPES = frozenset({INTEGER, LONG})
NUMERIC_TYPES = frozenset({INTEGER, LONG, DOUBLE, UNSIGNED_LONG})
TEMPORAL_AMOUNTS = frozenset({DATE_PERIOD, TIME_DURATION})
ALL_TYPES = (
    KEYWORD,
    TEXT,
    LONG,
    INTEGER,
    DOUBLE,
    UNSIGNED_LONG,
    BOOLEAN,
    DATETIME,
    IP,
    VERSION,
    NULL,
    DATE_PERIOD,
    TIME_DURATION,
    UNSUPPORTED,
)
# Types a stored field or a computed column can have (not the temporal-amount constants).
REPRESENTABLE = frozenset(ALL_TYPES) - TEMPORAL_AMOUNTS

_FROM_MAPPING = {
    "keyword": KEYWORD,
    "constant_keyword": KEYWORD,
    "wildcard": KEYWORD,
    "text": TEXT,
    "match_only_text": TEXT,
    "long": LONG,
    "integer": INTEGER,
    "short": INTEGER,
    "byte": INTEGER,
    "unsigned_long": UNSIGNED_LONG,
    "double": DOUBLE,
    "float": DOUBLE,
    "half_float": DOUBLE,
    "scaled_float": DOUBLE,
    "boolean": BOOLEAN,
    "date": DATETIME,
    "ip": IP,
    "version": VERSION,
}

# Names accepted by `::type` casts and the TO_* functions they stand for.
CAST_NAMES = {
    "bool": BOOLEAN,
    "boolean": BOOLEAN,
    "datetime": DATETIME,
    "date": DATETIME,
    "double": DOUBLE,
    "int": INTEGER,
    "integer": INTEGER,
    "ip": IP,
    "keyword": KEYWORD,
    "long": LONG,
    "string": KEYWORD,
    "text": TEXT,
    "unsigned_long": UNSIGNED_LONG,
    "version": VERSION,
}


def from_mapping(es_type: str) -> DataType:
    return _FROM_MAPPING.get(es_type, UNSUPPORTED)


def is_numeric(t: DataType) -> bool:
    return t in NUMERIC_TYPES


def is_string(t: DataType) -> bool:
    return t in STRING_TYPES


def widest_numeric(a: DataType, b: DataType) -> DataType:
    """The result type of arithmetic between two numeric types (integer < long < double)."""
    if DOUBLE in (a, b):
        return DOUBLE
    if UNSIGNED_LONG in (a, b):
        return UNSIGNED_LONG
    if LONG in (a, b):
        return LONG
    return INTEGER


def common_type(types: list[DataType]) -> DataType | None:
    """The type a list of values (CASE branches, COALESCE arguments) share, or None if none."""
    known = [t for t in types if t != NULL]
    if not known:
        return NULL
    first = known[0]
    if all(t == first for t in known):
        return first
    if all(t in STRING_TYPES for t in known):
        return KEYWORD if KEYWORD in known else TEXT
    if all(t in NUMERIC_TYPES for t in known):
        result = known[0]
        for t in known[1:]:
            result = widest_numeric(result, t)
        return result
    return None
