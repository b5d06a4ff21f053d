"""Date functions: DATE_TRUNC, BUCKET, DATE_EXTRACT, DATE_FORMAT, DATE_PARSE, DATE_DIFF, NOW...

Dates are DuckDB TIMESTAMPs in UTC. Java DateTimeFormatter patterns are translated to strftime
and strptime formats; fixed-length intervals round relative to the epoch as Elasticsearch's
Rounding does, calendar ones (week from Monday, month, quarter, year) with date_trunc.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from vigil.esql import types as t
from vigil.esql.constants import parse_datetime
from vigil.esql.functions.registry import (
    DATETIME,
    STRING,
    Emit,
    Function,
    const_value,
    fixed,
    p,
    register,
    sql_string,
)
from vigil.esql.ir import Call, TExpr

DEFAULT_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
_FIXED_SECONDS = {"millisecond": 0.001, "second": 1, "minute": 60, "hour": 3600}


def interval_sql(amount: int, unit: str) -> str:
    if unit == "quarter":
        amount, unit = amount * 3, "month"
    if unit == "week":
        amount, unit = amount * 7, "day"
    return f"INTERVAL '{amount} {unit}'"


def truncate_sql(value: str, amount: int, unit: str) -> str:
    """Round ``value`` down to a multiple of ``amount unit`` (Elasticsearch's date rounding)."""
    if amount == 1 and unit in ("millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year"):
        return f"date_trunc('{unit}', {value})"
    if unit in _FIXED_SECONDS or unit == "day":
        millis = amount * (86_400_000 if unit == "day" else int(_FIXED_SECONDS[unit] * 1000))
        return f"make_timestamp(CAST(floor(epoch_ms({value}) / {millis}) AS BIGINT) * {millis} * 1000)"
    if unit == "week":
        return f"time_bucket(INTERVAL '{amount * 7} days', {value}, TIMESTAMP '1970-01-05')"
    months = amount * {"month": 1, "quarter": 3, "year": 12}[unit]
    # Calendar multiples count from the first day of year 1, as Elasticsearch's rounding does.
    return f"time_bucket(INTERVAL '{months} months', {value}, TIMESTAMP '0001-01-01')"


def _check_interval(call: Call) -> str | None:
    value = const_value(call.args[0])
    if isinstance(value, tuple) and value[0] <= 0:
        return "Zero or negative time interval is not supported"
    return None


def _emit_date_trunc(e: Emit, call: Call) -> str:
    amount, unit = const_value(call.args[0])
    return truncate_sql(e.arg(call, 1), amount, unit)


register(
    Function(
        "date_trunc",
        (
            p("interval", frozenset(t.TEMPORAL_AMOUNTS), "dateperiod or timeduration", constant=True),
            p("date", DATETIME, "date_nanos or datetime"),
        ),
        fixed(t.DATETIME),
        _emit_date_trunc,
        check=_check_interval,
    )
)


# --- BUCKET ---------------------------------------------------------------------------------

_PRIMARY = [
    (1, "day"),
    (12, "hour"),
    (3, "hour"),
    (1, "hour"),
    (30, "minute"),
    (10, "minute"),
    (5, "minute"),
    (1, "minute"),
    (30, "second"),
    (10, "second"),
    (5, "second"),
    (1, "second"),
    (100, "millisecond"),
    (50, "millisecond"),
    (10, "millisecond"),
    (1, "millisecond"),
]
_SECONDARY = [(1, "week"), (1, "month"), (1, "year")]


def _round(value: datetime, amount: int, unit: str) -> datetime:
    if unit == "week":
        start = datetime(value.year, value.month, value.day) - timedelta(days=value.weekday())
        return start
    if unit == "month":
        return datetime(value.year, value.month, 1)
    if unit == "year":
        return datetime(value.year, 1, 1)
    step = timedelta(days=amount) if unit == "day" else timedelta(seconds=amount * _FIXED_SECONDS[unit])
    epoch = datetime(1970, 1, 1)
    return epoch + ((value - epoch) // step) * step


def _fixed_step(amount: int, unit: str) -> timedelta | None:
    """The length of a bucket, for every unit but months and years (whose length varies)."""
    if unit == "week":
        return timedelta(days=7)
    if unit in ("month", "year"):
        return None
    return timedelta(days=amount) if unit == "day" else timedelta(seconds=amount * _FIXED_SECONDS[unit])


def _next(value: datetime, amount: int, unit: str) -> datetime:
    if unit == "month":
        return datetime(value.year + value.month // 12, value.month % 12 + 1, 1)
    if unit == "year":
        return datetime(value.year + 1, 1, 1)
    step = _fixed_step(amount, unit)
    assert step is not None
    return value + step


def pick_rounding(buckets: int, start: datetime, end: datetime) -> tuple[int, str]:
    """Elasticsearch's DateRoundingPicker: the finest unit giving at most ``buckets`` buckets."""

    def ok(amount: int, unit: str) -> bool:
        bucket = _round(start, amount, unit)
        step = _fixed_step(amount, unit)
        if step is not None:
            # Counted, not walked: a query may ask for billions of buckets.
            needed = max(-((bucket - end) // step), 1)
            return 1 <= needed <= buckets
        for _ in range(buckets):
            bucket = _next(bucket, amount, unit)
            if bucket >= end:
                return True
        return False

    best = None
    low, high = 0, len(_PRIMARY) - 1
    while low <= high:
        mid = (low + high) // 2
        if ok(*_PRIMARY[mid]):
            best = _PRIMARY[mid]
            low = mid + 1
        else:
            high = mid - 1
    if best is not None:
        return best
    for candidate in _SECONDARY:
        if ok(*candidate):
            return candidate
    return _SECONDARY[-1]


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return parse_datetime(str(value))


def _check_bucket(call: Call) -> str | None:
    field, buckets = call.args[0], call.args[1]
    rest = call.args[2:]
    if field.type == t.DATETIME:
        if buckets.type in t.TEMPORAL_AMOUNTS:
            if rest:
                return (
                    "function expects exactly two arguments when the first one is of type [DATETIME] and the second "
                    f"of type [{buckets.type.name.upper()}]"
                )
            return None
        if buckets.type not in t.INTEGRAL_TYPES:
            return (
                f"second argument of [{call.source}] must be [integral, date_period or time_duration], "
                f"found value [{buckets.source}] type [{buckets.type.name}]"
            )
        if len(rest) != 2:
            return (
                "function expects exactly four arguments when the first one is of type [DATETIME] and the second "
                f"of type [{buckets.type.name.upper()}]"
            )
        for ordinal, arg in zip(("third", "fourth"), rest, strict=True):
            if arg.type not in (t.DATETIME, t.KEYWORD, t.TEXT):
                return (
                    f"{ordinal} argument of [{call.source}] must be [datetime or string], "
                    f"found value [{arg.source}] type [{arg.type.name}]"
                )
        return None
    if t.is_numeric(field.type):
        if not t.is_numeric(buckets.type):
            return (
                f"second argument of [{call.source}] must be [numeric], found value [{buckets.source}] "
                f"type [{buckets.type.name}]"
            )
        if buckets.type == t.DOUBLE and rest:
            return (
                "function expects exactly two arguments when the first one is of type "
                f"[{field.type.name.upper()}] and the second of type [DOUBLE]"
            )
        if len(rest) == 1:
            return (
                "function expects exactly two or four arguments when the first one is of type "
                f"[{field.type.name.upper()}] and the second of type [{buckets.type.name.upper()}]"
            )
        for ordinal, arg in zip(("third", "fourth"), rest, strict=False):
            if not t.is_numeric(arg.type):
                return (
                    f"{ordinal} argument of [{call.source}] must be [numeric], found value [{arg.source}] "
                    f"type [{arg.type.name}]"
                )
        return None
    return (
        f"first argument of [{call.source}] must be [datetime or numeric], found value [{field.source}] "
        f"type [{field.type.name}]"
    )


def _emit_bucket(e: Emit, call: Call) -> str:
    try:
        return _bucket_sql(e, call)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        # A span or range that cannot give buckets (0 or negative counts, empty ranges).
        return e.warn(call, "java.lang.ArithmeticException: / by zero", call.type.sql)


def _bucket_sql(e: Emit, call: Call) -> str:
    field = call.args[0]
    value = e.arg(call, 0)
    span = const_value(call.args[1])
    if field.type == t.DATETIME:
        if isinstance(span, tuple):
            return truncate_sql(value, span[0], span[1])
        start = _as_datetime(const_value(call.args[2]))
        end = _as_datetime(const_value(call.args[3]))
        return truncate_sql(value, *pick_rounding(int(span), start, end))
    if len(call.args) == 4:
        low, high = float(const_value(call.args[2])), float(const_value(call.args[3]))
        precise = (high - low) / int(span)
        if precise <= 0 or not math.isfinite(precise):
            raise ValueError("no bucket width")
        power = math.pow(10, math.ceil(math.log10(precise)))
        width = power / 2 if precise < power / 2 else power
    else:
        width = float(span)
        if width <= 0:
            raise ValueError("no bucket width")
    return f"(floor(CAST({value} AS DOUBLE) / {width!r}) * {width!r})"


def _bucket_type(args: list[TExpr]) -> t.DataType:
    return t.DATETIME if args[0].type == t.DATETIME else t.DOUBLE


_BUCKET_SPAN = frozenset({*t.NUMERIC_TYPES, *t.TEMPORAL_AMOUNTS})
_BUCKET_RANGE = frozenset({*t.NUMERIC_TYPES, t.DATETIME, t.KEYWORD, t.TEXT})
register(
    Function(
        "bucket",
        (
            p("field", frozenset({*t.NUMERIC_TYPES, t.DATETIME}), "datetime or numeric"),
            p("buckets", _BUCKET_SPAN, "integral, date_period or time_duration", constant=True),
            p("from", _BUCKET_RANGE, "datetime or string", optional=True, constant=True),
            p("to", _BUCKET_RANGE, "datetime or string", optional=True, constant=True),
        ),
        _bucket_type,
        _emit_bucket,
        grouping=True,
        check=_check_bucket,
    ),
    "bin",
)


# --- DATE_EXTRACT ---------------------------------------------------------------------------

_CHRONO = {
    "year": "year({v})",
    "year_of_era": "year({v})",
    "month_of_year": "month({v})",
    "day_of_month": "day({v})",
    "day_of_year": "dayofyear({v})",
    "day_of_week": "isodow({v})",
    "hour_of_day": "hour({v})",
    "clock_hour_of_day": "(CASE WHEN hour({v}) = 0 THEN 24 ELSE hour({v}) END)",
    "hour_of_ampm": "(hour({v}) % 12)",
    "clock_hour_of_ampm": "(CASE WHEN hour({v}) % 12 = 0 THEN 12 ELSE hour({v}) % 12 END)",
    "ampm_of_day": "(CASE WHEN hour({v}) < 12 THEN 0 ELSE 1 END)",
    "minute_of_hour": "minute({v})",
    "minute_of_day": "(hour({v}) * 60 + minute({v}))",
    "second_of_minute": "second({v})",
    "second_of_day": "(hour({v}) * 3600 + minute({v}) * 60 + second({v}))",
    "milli_of_second": "(millisecond({v}) % 1000)",
    "milli_of_day": "(epoch_ms({v}) - epoch_ms(date_trunc('day', {v})))",
    "micro_of_second": "(microsecond({v}) % 1000000)",
    "nano_of_second": "((microsecond({v}) % 1000000) * 1000)",
    "epoch_day": "CAST(floor(epoch_ms({v}) / 86400000) AS BIGINT)",
    "aligned_week_of_year": "((dayofyear({v}) - 1) // 7 + 1)",
    "aligned_week_of_month": "((day({v}) - 1) // 7 + 1)",
    "aligned_day_of_week_in_year": "((dayofyear({v}) - 1) % 7 + 1)",
    "aligned_day_of_week_in_month": "((day({v}) - 1) % 7 + 1)",
    "proleptic_month": "(year({v}) * 12 + month({v}) - 1)",
    "era": "(CASE WHEN year({v}) > 0 THEN 1 ELSE 0 END)",
    "quarter_of_year": "quarter({v})",
    "week_of_week_based_year": "week({v})",
    "week_based_year": "isoyear({v})",
}


def _emit_date_extract(e: Emit, call: Call) -> str:
    part = const_value(call.args[0])
    value = e.arg(call, 1)
    if isinstance(part, str) and part.lower() in _CHRONO:
        return f"CAST({_CHRONO[part.lower()].format(v=value)} AS BIGINT)"
    # A non-constant part: look it up row by row among the supported fields.
    cases = " ".join(f"WHEN '{name}' THEN CAST({sql.format(v=value)} AS BIGINT)" for name, sql in _CHRONO.items())
    return f"(CASE lower({e.arg(call, 0)}) {cases} END)"


def _check_date_extract(call: Call) -> str | None:
    part = const_value(call.args[0])
    if isinstance(part, str) and part.lower() not in _CHRONO:
        names = ", ".join(n.upper() for n in _CHRONO)
        return f"first argument of [{call.source}] must be one of [{names}], found value [{call.args[0].source}]"
    return None


register(
    Function(
        "date_extract",
        (p("datePart", STRING, "string"), p("date", DATETIME, "date_nanos or datetime")),
        fixed(t.LONG),
        _emit_date_extract,
        check=_check_date_extract,
    )
)


# --- DATE_FORMAT / DATE_PARSE ---------------------------------------------------------------

_JAVA_TO_STRFTIME = [
    ("yyyy", "%Y"),
    ("uuuu", "%Y"),
    ("YYYY", "%G"),
    ("yy", "%y"),
    ("uu", "%y"),
    ("y", "%Y"),
    ("u", "%Y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "%-m"),
    ("LLLL", "%B"),
    ("LLL", "%b"),
    ("LL", "%m"),
    ("dd", "%d"),
    ("d", "%-d"),
    ("DDD", "%j"),
    ("D", "%-j"),
    ("HH", "%H"),
    ("H", "%-H"),
    ("hh", "%I"),
    ("h", "%-I"),
    ("kk", "%H"),
    ("mm", "%M"),
    ("m", "%-M"),
    ("ss", "%S"),
    ("s", "%-S"),
    ("SSSSSSSSS", "%n"),
    ("SSSSSS", "%f"),
    ("SSS", "%g"),
    ("EEEE", "%A"),
    ("EEE", "%a"),
    ("EE", "%a"),
    ("E", "%a"),
    ("a", "%p"),
    ("XXX", "Z"),
    ("XX", "Z"),
    ("X", "Z"),
    ("Z", "+0000"),
    ("xxx", "+00:00"),
    ("VV", "Z"),
    ("z", "UTC"),
    ("ww", "%V"),
    ("e", "%u"),
]


def java_to_strftime(pattern: str, parsing: bool = False) -> str:
    """Translate a Java DateTimeFormatter pattern to a strftime/strptime format (raises ValueError)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                raise ValueError(f"Pattern ends with an incomplete string literal: {pattern}")
            literal = pattern[i + 1 : end] if end > i + 1 else "'"
            out.append(literal.replace("%", "%%"))
            i = end + 1
            continue
        if ch.isalpha():
            for java, strf in _JAVA_TO_STRFTIME:
                if pattern.startswith(java, i):
                    if parsing:
                        strf = strf.replace("%-", "%")
                        if java in ("Z", "xxx", "XXX", "XX", "X"):
                            strf = "%z"
                    out.append(strf)
                    i += len(java)
                    break
            else:
                raise ValueError(f"Unknown pattern letter: {ch}")
            continue
        out.append("%%" if ch == "%" else ch)
        i += 1
    return "".join(out)


def _format_arg(call: Call) -> tuple[str | None, int]:
    """(Java pattern or None for the default, index of the date argument)."""
    if len(call.args) == 2:
        value = const_value(call.args[0])
        return (str(value) if value is not None else None), 1
    return None, 0


def _check_format(call: Call) -> str | None:
    if len(call.args) == 2:
        value = const_value(call.args[0])
        if value is not None:
            try:
                java_to_strftime(str(value))
            except ValueError as exc:
                return f"Invalid format [{value}] for [{call.source}]: {exc}"
    return None


def _emit_date_format(e: Emit, call: Call) -> str:
    pattern, index = _format_arg(call)
    value = e.arg(call, index)
    if len(call.args) == 2 and pattern is None and call.args[0].type != t.NULL:
        return "NULL"  # non-constant format: not supported, null
    strf = java_to_strftime(pattern or DEFAULT_FORMAT)
    return f"strftime({value}, {sql_string(strf)})"


register(
    Function(
        "date_format",
        (
            p("dateFormat", frozenset({t.KEYWORD, t.TEXT, t.DATETIME}), "string"),
            p("date", DATETIME, "date_nanos or datetime", optional=True),
        ),
        fixed(t.KEYWORD),
        _emit_date_format,
        check=_check_format,
    )
)


def _emit_date_parse(e: Emit, call: Call) -> str:
    if len(call.args) == 1:
        value = e.arg(call, 0)
        parsed = f"CAST(timezone('UTC', TRY_CAST({value} AS TIMESTAMPTZ)) AS TIMESTAMP)"
        pattern_text = "strict_date_optional_time"
    else:
        pattern = const_value(call.args[0])
        if not isinstance(pattern, str):
            return "CAST(NULL AS TIMESTAMP)"  # a null or computed pattern: not supported, null
        value = e.arg(call, 1)
        pattern_text = pattern
        strp = java_to_strftime(pattern_text, parsing=True)
        if "%z" in strp:
            # An offset in the text: parse as TIMESTAMPTZ and keep the UTC instant.
            parsed = f"CAST(timezone('UTC', try_strptime({value}, {sql_string(strp)})) AS TIMESTAMP)"
        else:
            parsed = f"CAST(try_strptime({value}, {sql_string(strp)}) AS TIMESTAMP)"
    warn = e.warn(
        call,
        "java.lang.IllegalArgumentException: failed to parse date field [{}] with format [" + pattern_text + "]",
        detail_sql=value,
    )
    return f"(CASE WHEN {value} IS NULL THEN NULL ELSE COALESCE({parsed}, {warn}) END)"


register(
    Function(
        "date_parse",
        (p("datePattern", STRING, "string"), p("dateString", STRING, "string", optional=True)),
        fixed(t.DATETIME),
        _emit_date_parse,
        check=_check_format,
    )
)


# --- DATE_DIFF ------------------------------------------------------------------------------

_DIFF_UNITS = {
    "year": "year",
    "years": "year",
    "yy": "year",
    "yyyy": "year",
    "quarter": "quarter",
    "quarters": "quarter",
    "qq": "quarter",
    "q": "quarter",
    "month": "month",
    "months": "month",
    "mm": "month",
    "m": "month",
    "dayofyear": "day",
    "dy": "day",
    "y": "day",
    "day": "day",
    "days": "day",
    "dd": "day",
    "d": "day",
    "week": "week",
    "weeks": "week",
    "wk": "week",
    "ww": "week",
    "weekday": "day",
    "weekdays": "day",
    "dw": "day",
    "hour": "hour",
    "hours": "hour",
    "hh": "hour",
    "minute": "minute",
    "minutes": "minute",
    "mi": "minute",
    "n": "minute",
    "second": "second",
    "seconds": "second",
    "ss": "second",
    "s": "second",
    "millisecond": "millisecond",
    "milliseconds": "millisecond",
    "ms": "millisecond",
    "microsecond": "microsecond",
    "microseconds": "microsecond",
    "mcs": "microsecond",
    "nanosecond": "nanosecond",
    "nanoseconds": "nanosecond",
    "ns": "nanosecond",
}


def _check_date_diff(call: Call) -> str | None:
    unit = const_value(call.args[0])
    if isinstance(unit, str) and unit.lower() not in _DIFF_UNITS:
        return (
            f"first argument of [{call.source}] must be one of [YEAR, QUARTER, MONTH, DAYOFYEAR, DAY, WEEK, WEEKDAY, "
            f"HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND, NANOSECOND], found value [{call.args[0].source}]"
        )
    return None


def _emit_date_diff(e: Emit, call: Call) -> str:
    unit = _DIFF_UNITS.get(str(const_value(call.args[0]) or "").lower(), "day")
    start, end = e.arg(call, 1), e.arg(call, 2)
    if unit == "nanosecond":
        diff = f"(date_sub('microsecond', {start}, {end}) * 1000)"
    else:
        diff = f"date_sub('{unit}', {start}, {end})"
    warn = e.warn(
        call,
        "org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{}] out of [integer] range",
        detail_sql=f"CAST({diff} AS VARCHAR)",
    )
    return f"(CASE WHEN {diff} BETWEEN -2147483648 AND 2147483647 THEN CAST({diff} AS INTEGER) ELSE {warn} END)"


register(
    Function(
        "date_diff",
        (
            p("unit", STRING, "string"),
            p("startTimestamp", DATETIME, "date_nanos or datetime"),
            p("endTimestamp", DATETIME, "date_nanos or datetime"),
        ),
        fixed(t.INTEGER),
        _emit_date_diff,
        check=_check_date_diff,
    )
)


def _emit_now(e: Emit, call: Call) -> str:
    now = call.options.get("now")
    return e.literal(now, t.DATETIME) if now is not None else "CAST(now() AS TIMESTAMP)"


register(Function("now", (), fixed(t.DATETIME), _emit_now))
register(
    Function("day_name", (p("date", DATETIME, "datetime"),), fixed(t.KEYWORD), lambda e, c: f"dayname({e.arg(c, 0)})")
)
register(
    Function(
        "month_name", (p("date", DATETIME, "datetime"),), fixed(t.KEYWORD), lambda e, c: f"monthname({e.arg(c, 0)})"
    )
)
