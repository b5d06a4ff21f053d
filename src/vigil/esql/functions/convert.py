"""Type conversion functions (TO_STRING, TO_LONG, ... and the ``::type`` casts that stand for them).

Conversions read whole multi-values and convert each value; a value that does not convert is
dropped with a warning naming it, as Elasticsearch does.
"""

from __future__ import annotations

from collections.abc import Callable

from vigil.esql import types as t
from vigil.esql.functions.registry import ANY, Emit, Function, p, register
from vigil.esql.ir import Call
from vigil.esql.types import DataType

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%gZ"
_PARSE_NUMBER = 'java.lang.NumberFormatException: For input string: "{}"'
_CANNOT_PARSE = "org.elasticsearch.xpack.esql.core.InvalidArgumentException: Cannot parse number [{}]"

# (sql over one value `v`, warning exception template or None when it cannot fail)
Conversion = tuple[Callable[[str], str], str | None]


def _out_of_range(target: str) -> str:
    return "org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{}] out of [" + target + "] range"


def _integer_conversion(source: DataType, target: DataType) -> Conversion | None:
    sql_type = target.sql
    name = target.name
    if source in (t.INTEGER, t.LONG, t.UNSIGNED_LONG):
        return (lambda v: f"TRY_CAST({v} AS {sql_type})"), _out_of_range(name)
    if source == t.DOUBLE:
        # Java narrows doubles by truncation toward zero.
        return (lambda v: f"TRY_CAST(trunc({v}) AS {sql_type})"), _out_of_range(name)
    if source == t.BOOLEAN:
        return (lambda v: f"CAST({v} AS {sql_type})"), None
    if source == t.DATETIME:
        return (lambda v: f"TRY_CAST(epoch_ms({v}) AS {sql_type})"), _out_of_range(name)
    if source in t.STRING_TYPES:
        return (
            lambda v: f"COALESCE(TRY_CAST({v} AS {sql_type}), TRY_CAST(trunc(TRY_CAST({v} AS DOUBLE)) AS {sql_type}))"
        ), (_CANNOT_PARSE if target == t.LONG else _PARSE_NUMBER)
    return None


def conversion(source: DataType, target: DataType) -> Conversion | None:
    """How one value of ``source`` becomes ``target`` (None: not supported)."""
    if source == target:
        return (lambda v: v), None
    if target in (t.KEYWORD, t.TEXT):
        if source == t.DATETIME:
            return (lambda v: f"strftime({v}, '{DATE_FORMAT}')"), None
        if source == t.BOOLEAN:
            return (lambda v: f"CASE WHEN {v} THEN 'true' ELSE 'false' END"), None
        if source == t.DOUBLE:
            return (lambda v: java_double_string(v)), None
        return (lambda v: f"CAST({v} AS VARCHAR)"), None
    if target in (t.INTEGER, t.LONG, t.UNSIGNED_LONG):
        return _integer_conversion(source, target)
    if target == t.DOUBLE:
        if t.is_numeric(source) or source == t.BOOLEAN:
            return (lambda v: f"CAST({v} AS DOUBLE)"), None
        if source == t.DATETIME:
            return (lambda v: f"CAST(epoch_ms({v}) AS DOUBLE)"), None
        if source in t.STRING_TYPES:
            return (lambda v: f"TRY_CAST({v} AS DOUBLE)"), _PARSE_NUMBER
        return None
    if target == t.BOOLEAN:
        if source in t.STRING_TYPES:
            return (lambda v: f"(lower({v}) = 'true')"), None
        if t.is_numeric(source):
            return (lambda v: f"({v} <> 0)"), None
        return None
    if target == t.DATETIME:
        if source in t.STRING_TYPES:
            return (
                # strict_date_optional_time: a `T` (not a space) before the time.
                (
                    lambda v: (
                        f"(CASE WHEN regexp_matches({v}, '{ISO_DATE_START}') "
                        f"THEN CAST(timezone('UTC', TRY_CAST({v} AS TIMESTAMPTZ)) AS TIMESTAMP) END)"
                    )
                ),
                "java.lang.IllegalArgumentException: failed to parse date field [{}] with format "
                "[strict_date_optional_time]",
            )
        if source in (t.INTEGER, t.LONG, t.UNSIGNED_LONG):
            return (lambda v: f"epoch_ms(CAST({v} AS BIGINT))"), _out_of_range("datetime")
        if source == t.DOUBLE:
            return (lambda v: f"epoch_ms(CAST(trunc({v}) AS BIGINT))"), _out_of_range("datetime")
        return None
    if target == t.IP:
        if source in t.STRING_TYPES:
            return (lambda v: ip_or_null(v)), "java.lang.IllegalArgumentException: '{}' is not an IP string literal."
        return None
    if target == t.VERSION:
        if source in t.STRING_TYPES:
            return (lambda v: v), None
        return None
    return None


ISO_DATE_START = r"^[+-]?\d{4,}-\d{2}-\d{2}(T|$)"
IPV4_REGEX = r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"
IPV6_REGEX = r"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$"


def ip_or_null(v: str) -> str:
    return f"(CASE WHEN regexp_matches({v}, '{IPV4_REGEX}') OR regexp_matches({v}, '{IPV6_REGEX}') THEN {v} END)"


def java_double_string(v: str) -> str:
    """Java's Double.toString: shortest digits, a ``.0`` on integral values, and E notation
    (``1.5E20``, ``1.0E-5``) outside [1e-3, 1e7)."""
    scientific = f"printf('%.15E', {v})"
    # 1.500000000000000E+20 -> 1.5E20 (trailing zeros and the exponent's sign and zeros dropped).
    trimmed = f"regexp_replace(regexp_replace({scientific}, '\\.?0+E', 'E'), 'E\\+?(-?)0*(\\d)', 'E\\1\\2')"
    with_point = f"regexp_replace({trimmed}, '^(-?\\d+)E', '\\1.0E')"
    return (
        f"(CASE WHEN isnan({v}) THEN 'NaN' "
        f"WHEN isinf({v}) THEN (CASE WHEN {v} > 0 THEN 'Infinity' ELSE '-Infinity' END) "
        f"WHEN abs({v}) >= 1e7 OR (abs({v}) < 1e-3 AND {v} <> 0) THEN {with_point} "
        f"ELSE CAST({v} AS VARCHAR) END)"
    )


def _detail(value: str, type_: DataType) -> str:
    """A failing value as Java prints it in the warning (doubles as Double.toString)."""
    return java_double_string(value) if type_ == t.DOUBLE else f"CAST({value} AS VARCHAR)"


def emit_conversion(e: Emit, call: Call, target: DataType) -> str:
    arg = call.args[0]
    if arg.type == t.NULL:
        return "NULL"
    found = conversion(arg.type, target)
    assert found is not None
    convert, exception = found
    value = e.sql(arg)
    if arg.mv:
        if exception is None:
            return f"list_transform({value}, lambda x: {convert('x')})"
        warn = e.warn(call, exception, "BOOLEAN", detail_sql=_detail("x", arg.type))
        converted = f"list_transform({value}, lambda x: COALESCE({convert('x')}, CAST({warn} AS {target.sql})))"
        return f"list_filter({converted}, lambda x: x IS NOT NULL)"
    if exception is None:
        return convert(value)
    warn = e.warn(call, exception, target.sql, detail_sql=_detail(value, arg.type))
    return f"(CASE WHEN {value} IS NULL THEN NULL ELSE COALESCE({convert(value)}, {warn}) END)"


def _converter(name: str, target: DataType, accepted: frozenset[DataType], expected: str) -> None:
    def check(call: Call) -> str | None:
        return None

    register(
        Function(
            name,
            (p("field", accepted, expected),),
            lambda args, target=target: target,  # type: ignore[misc]
            lambda e, call, target=target: emit_conversion(e, call, target),  # type: ignore[misc]
            mv_input=True,
            returns_mv=lambda args: bool(args and args[0].mv),
            check=check,
        )
    )


_NUMERIC_LIKE = frozenset({t.BOOLEAN, t.DATETIME, t.KEYWORD, t.TEXT, *t.NUMERIC_TYPES})
_converter("to_string", t.KEYWORD, ANY - {t.UNSUPPORTED}, "any")
register(
    Function(
        "to_str",
        (p("field", ANY, "any"),),
        lambda a: t.KEYWORD,
        lambda e, c: emit_conversion(e, c, t.KEYWORD),
        mv_input=True,
        returns_mv=lambda a: bool(a and a[0].mv),
    )
)
_converter("to_long", t.LONG, _NUMERIC_LIKE, "boolean or counter_integer or counter_long or date or numeric or string")
_converter("to_integer", t.INTEGER, _NUMERIC_LIKE, "boolean or counter_integer or date or numeric or string")
_converter("to_int", t.INTEGER, _NUMERIC_LIKE, "boolean or counter_integer or date or numeric or string")
_converter("to_unsigned_long", t.UNSIGNED_LONG, _NUMERIC_LIKE, "boolean or date or numeric or string")
_converter("to_ul", t.UNSIGNED_LONG, _NUMERIC_LIKE, "boolean or date or numeric or string")
_converter("to_ulong", t.UNSIGNED_LONG, _NUMERIC_LIKE, "boolean or date or numeric or string")
_converter(
    "to_double",
    t.DOUBLE,
    _NUMERIC_LIKE,
    "boolean or counter_double or counter_integer or counter_long or date or numeric or string",
)
_converter(
    "to_dbl",
    t.DOUBLE,
    _NUMERIC_LIKE,
    "boolean or counter_double or counter_integer or counter_long or date or numeric or string",
)
_converter(
    "to_boolean", t.BOOLEAN, frozenset({t.BOOLEAN, t.KEYWORD, t.TEXT, *t.NUMERIC_TYPES}), "boolean or numeric or string"
)
_converter(
    "to_bool", t.BOOLEAN, frozenset({t.BOOLEAN, t.KEYWORD, t.TEXT, *t.NUMERIC_TYPES}), "boolean or numeric or string"
)
_converter(
    "to_datetime",
    t.DATETIME,
    frozenset({t.DATETIME, t.KEYWORD, t.TEXT, *t.NUMERIC_TYPES}),
    "date_nanos or datetime or numeric or string",
)
_converter(
    "to_dt",
    t.DATETIME,
    frozenset({t.DATETIME, t.KEYWORD, t.TEXT, *t.NUMERIC_TYPES}),
    "date_nanos or datetime or numeric or string",
)
_converter("to_ip", t.IP, frozenset({t.IP, t.KEYWORD, t.TEXT}), "ip or string")
_converter("to_text", t.TEXT, ANY - {t.UNSUPPORTED}, "any")
_converter("to_version", t.VERSION, frozenset({t.VERSION, t.KEYWORD, t.TEXT}), "string or version")
_converter("to_ver", t.VERSION, frozenset({t.VERSION, t.KEYWORD, t.TEXT}), "string or version")


def _temporal_amount(name: str, target: DataType) -> None:
    from vigil.esql.functions.registry import const_value
    from vigil.esql.ir import Const

    def check(call: Call) -> str | None:
        arg = call.args[0]
        if not isinstance(arg, Const):
            return f"argument of [{call.source}] must be a constant, received [{arg.source}]"
        return None

    def emit(e: Emit, call: Call) -> str:
        value = const_value(call.args[0])
        return e.literal(value, target)

    register(
        Function(
            name,
            (p("field", frozenset({target, t.KEYWORD, t.TEXT}), f"{target.name} or string", constant=True),),
            lambda args: target,
            emit,
            check=check,
        )
    )


_temporal_amount("to_dateperiod", t.DATE_PERIOD)
_temporal_amount("to_timeduration", t.TIME_DURATION)
