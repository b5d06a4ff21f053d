"""Run ES|QL against the data store: parse, verify, compile to one SQL statement, execute, and
shape the rows as Elasticsearch returns them (dates as ISO strings, one-element multi-values as
plain values, warnings as ``Warning`` header texts)."""

from __future__ import annotations

import contextlib
import itertools
import math
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb

from vigil.esql import types as t
from vigil.esql.compiler import WARN_FUNCTION, Compiled, compile_plan
from vigil.esql.errors import EsqlExecutionError
from vigil.esql.ir import Call, walk
from vigil.esql.parser import parse
from vigil.esql.plan import Plan, step_expressions
from vigil.esql.verifier import verify

if TYPE_CHECKING:
    from vigil.dataplane.store import DataStore

MAX_RECORDED_FAILURES = 20
# A query still running after this long is cancelled: the store serves one statement at a time,
# so a runaway query (BUCKET asked for billions of buckets, say) would hold up every other reader
# and every write.
QUERY_TIME_LIMIT_SECONDS = 60.0


@dataclass(frozen=True)
class EsqlColumn:
    name: str
    type: str  # ES|QL type names as `/_query` returns them: keyword, long, date...


@dataclass(frozen=True)
class EsqlResult:
    columns: list[EsqlColumn]
    values: list[list[Any]]  # row-major, JSON-ready as Elasticsearch returns them
    warnings: list[str] = field(default_factory=list)  # texts of the `Warning` response headers
    took_ms: int = 0


def run_esql(
    store: DataStore,
    query: str,
    params: list[Any] | dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
    time_limit_seconds: float = QUERY_TIME_LIMIT_SECONDS,
) -> EsqlResult:
    """Run one ES|QL query. Raises EsqlParsingError / EsqlVerificationError (400s) on bad input,
    EsqlExecutionError (`task_cancelled_exception`) past the time limit."""
    started = time.perf_counter()
    now = now or datetime.now(UTC).replace(tzinfo=None)
    plan = verify(query, parse(query), store.catalog, params, now)
    _set_now(plan, now)
    compiled = compile_plan(plan)
    collector = _Collector(compiled)
    token = _register(collector)
    sql = compiled.sql.replace(f"{WARN_FUNCTION}(", f"{WARN_FUNCTION}({token}, ")
    try:
        with store.reader() as cursor:
            if compiled.warnings:
                _ensure_warn_function(store, cursor)
            deadline = threading.Timer(time_limit_seconds, cursor.interrupt)
            deadline.daemon = True
            deadline.start()
            try:
                rows = cursor.execute(sql).fetchall()
            except duckdb.InterruptException as exc:
                raise EsqlExecutionError(
                    f"ES|QL query cancelled: it ran longer than the limit of [{time_limit_seconds:g}s]",
                    "task_cancelled_exception",
                ) from exc
            except duckdb.Error as exc:
                raise _execution_error(exc) from exc
            finally:
                deadline.cancel()
    finally:
        _unregister(token)
    columns = [EsqlColumn(c.name, c.type.output) for c in compiled.columns]
    shapers = [_shaper(c.type, c.mv) for c in compiled.columns]
    values = [[shape(value) for shape, value in zip(shapers, row, strict=False)] for row in rows]
    took = int((time.perf_counter() - started) * 1000)
    return EsqlResult(columns, values, [*plan.warnings, *collector.messages()], took)


def explain_sql(store: DataStore, query: str, params: list[Any] | dict[str, Any] | None = None) -> str:
    """The SQL a query compiles to (for debugging and benchmarks)."""
    plan = verify(query, parse(query), store.catalog, params)
    return compile_plan(plan).sql


def _set_now(plan: Plan, now: datetime) -> None:
    for step in plan.steps:
        for expr in step_expressions(step):
            for node in walk(expr):
                if isinstance(node, Call) and node.fn.name == "now":
                    node.options["now"] = now


# --- warnings ------------------------------------------------------------------------------


class _Collector:
    """Failures recorded while one query runs, per failing expression, in first-seen order."""

    def __init__(self, compiled: Compiled) -> None:
        self.compiled = compiled
        self.lock = threading.Lock()
        self.failures: dict[int, list[str]] = {}

    def record(self, number: int, detail: str | None) -> None:
        with self.lock:
            seen = self.failures.setdefault(number, [])
            if len(seen) < MAX_RECORDED_FAILURES:
                warning = self.compiled.warnings[number]
                seen.append(warning.exception.replace("{}", detail if detail is not None else "null"))

    def messages(self) -> list[str]:
        """Elasticsearch's header texts: one summary per failing expression, then each distinct cause."""
        result: list[str] = []
        headers_seen: set[str] = set()
        for number in sorted(self.failures):
            warning = self.compiled.warnings[number]
            prefix = f"Line {warning.line}:{warning.column}: "
            summary = (
                f"{prefix}evaluation of [{warning.source}] failed, treating result as {warning.outcome}. "
                f"Only first {MAX_RECORDED_FAILURES} failures recorded."
            )
            for text in [summary, *(prefix + cause for cause in self.failures[number])]:
                if text not in headers_seen:
                    headers_seen.add(text)
                    result.append(text)
        return result


_COLLECTORS: dict[int, _Collector] = {}
_TOKENS = itertools.count(1)
_COLLECTORS_LOCK = threading.Lock()


def _register(collector: _Collector) -> int:
    token = next(_TOKENS)
    with _COLLECTORS_LOCK:
        _COLLECTORS[token] = collector
    return token


def _unregister(token: int) -> None:
    with _COLLECTORS_LOCK:
        _COLLECTORS.pop(token, None)


def _warn(token: int | None, number: int | None, detail: str | None) -> None:
    collector = _COLLECTORS.get(token) if token is not None else None
    if collector is not None and number is not None:
        collector.record(number, detail)


_REGISTERED: weakref.WeakSet[Any] = weakref.WeakSet()
_REGISTER_LOCK = threading.Lock()


def _ensure_warn_function(store: DataStore, cursor: duckdb.DuckDBPyConnection) -> None:
    """The SQL function is database-wide in DuckDB: create it once per store."""
    if store in _REGISTERED:
        return
    with _REGISTER_LOCK:
        if store in _REGISTERED:
            return
        # Created earlier through another handle on the same database: CatalogException.
        with contextlib.suppress(duckdb.CatalogException):
            cursor.create_function(  # type: ignore[call-overload]
                WARN_FUNCTION,
                _warn,
                ["BIGINT", "INTEGER", "VARCHAR"],
                "BOOLEAN",
                null_handling="special",
                side_effects=True,
            )
        _REGISTERED.add(store)


def _execution_error(exc: duckdb.Error) -> EsqlExecutionError:
    message = str(exc).split("\n", 1)[0]
    if isinstance(exc, duckdb.InvalidInputException) and "regular expression" in message.lower():
        return EsqlExecutionError(message, "parsing_exception")
    return EsqlExecutionError(message, "illegal_argument_exception")


# --- output shaping ------------------------------------------------------------------------


def _shaper(type_: t.DataType, mv: bool):  # type: ignore[no-untyped-def]
    scalar = _scalar_shaper(type_)

    if not mv:
        return scalar

    def shape(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            values = [scalar(v) for v in value if v is not None]
            if not values:
                return None
            return values[0] if len(values) == 1 else values
        return scalar(value)

    return shape


def _scalar_shaper(type_: t.DataType):  # type: ignore[no-untyped-def]
    if type_ == t.DOUBLE:

        def shape_double(value: Any) -> Any:
            if value is None:
                return None
            number = float(value)
            return None if math.isnan(number) or math.isinf(number) else number

        return shape_double
    if type_ in (t.LONG, t.INTEGER, t.UNSIGNED_LONG):
        return lambda value: None if value is None else int(value)
    return lambda value: value
