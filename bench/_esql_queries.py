"""ES|QL query latency against the same query written by hand in DuckDB SQL, in the same run.

Both run in this process on the DuckDB file the ingest benchmark filled (after its server has
stopped): `run_esql` (parse, verify, compile, execute, rows as Elasticsearch returns them)
against `cursor.execute(sql).fetchall()` of the hand-written statement over the same relation
(the index's view over its daily partitions). The target is every query within 1.3x.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from vigil.dataplane.store import DataStore
from vigil.esql.executor import explain_sql, run_esql

# The events end at 2024-06-01 (bench/_esql_data.py): "the last 24 hours" is the day before.
LAST_DAY = "2024-05-31T00:00:00Z"
LAST_3_DAYS = "2024-05-29T00:00:00Z"
MESSAGE_REGEX = r"^(\S+) (\S+) HTTP/(\S+) (\d+) user=(\S+)$"


@dataclass(frozen=True)
class QueryPair:
    name: str
    esql: str
    sql: str  # `{rel}` is the index's relation


PAIRS = [
    QueryPair(
        "error count per service per hour, last 24 h",
        f'FROM {{index}} | WHERE @timestamp >= "{LAST_DAY}" AND http.response.status_code >= 500'
        " | STATS errors = COUNT(*) BY service.name, hour = DATE_TRUNC(1 hour, @timestamp)"
        " | SORT hour, service.name | LIMIT 10000",
        'SELECT count(*) AS errors, "service.name", date_trunc(\'hour\', "@timestamp") AS hour FROM {rel}'
        f' WHERE "@timestamp" >= TIMESTAMP \'{LAST_DAY[:10]} 00:00:00\' AND "http.response.status_code" >= 500'
        ' GROUP BY ALL ORDER BY hour, "service.name" LIMIT 10000',
    ),
    QueryPair(
        "top hosts by failed logins",
        'FROM {index} | WHERE event.category == "authentication" AND event.outcome == "failure"'
        " | STATS failures = COUNT(*) BY host.name | SORT failures DESC, host.name | LIMIT 10",
        'SELECT count(*) AS failures, "host.name" FROM {rel}'
        " WHERE \"event.category\" = 'authentication' AND \"event.outcome\" = 'failure'"
        ' GROUP BY ALL ORDER BY failures DESC, "host.name" LIMIT 10',
    ),
    QueryPair(
        "count distinct users",
        "FROM {index} | STATS users = COUNT_DISTINCT(user.name)",
        'SELECT count(DISTINCT "user.name") AS users FROM {rel}',
    ),
    QueryPair(
        "DISSECT messages of the last 3 days, count by method",
        f'FROM {{index}} | WHERE @timestamp >= "{LAST_3_DAYS}"'
        ' | DISSECT message "%{method} %{path} HTTP/%{version} %{status} user=%{user}"'
        " | STATS n = COUNT(*) BY method | SORT method",
        f"SELECT count(*) AS n, regexp_extract(message, '{MESSAGE_REGEX}', 1) AS method FROM {{rel}}"
        f" WHERE \"@timestamp\" >= TIMESTAMP '{LAST_3_DAYS[:10]} 00:00:00' GROUP BY ALL ORDER BY method",
    ),
    QueryPair(
        "GROK messages of the last 3 days, count by status",
        f'FROM {{index}} | WHERE @timestamp >= "{LAST_3_DAYS}"'
        ' | GROK message "%{WORD:method} %{NOTSPACE:path} HTTP/%{NUMBER:version} %{INT:status:int}'
        ' user=%{NOTSPACE:user}"'
        " | STATS n = COUNT(*) BY status | SORT status",
        f"SELECT count(*) AS n, TRY_CAST(regexp_extract(message, '{MESSAGE_REGEX}', 4) AS INTEGER) AS status"
        f" FROM {{rel}} WHERE \"@timestamp\" >= TIMESTAMP '{LAST_3_DAYS[:10]} 00:00:00' GROUP BY ALL ORDER BY status",
    ),
]


def _as_json(value: object) -> object:
    """A hand-SQL cell as ES|QL answers it (dates as ISO strings with milliseconds)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value


@dataclass
class QueryTiming:
    name: str
    esql_ms: float
    sql_ms: float
    rows: int
    same_rows: bool
    esql_cpu_ms: float = 0.0
    sql_cpu_ms: float = 0.0

    @property
    def ratio(self) -> float:
        return self.esql_ms / self.sql_ms if self.sql_ms else float("inf")

    @property
    def cpu_ratio(self) -> float:
        return self.esql_cpu_ms / self.sql_cpu_ms if self.sql_cpu_ms else float("inf")


def _p50_ms(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall and median CPU (this process, all DuckDB threads) milliseconds of `repeats` runs."""
    walls, cpus = [], []
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def time_queries(database: Path, index: str, repeats: int = 5, explain: Console | None = None) -> list[QueryTiming]:
    store = DataStore.open(database)
    try:
        info = store.catalog.index(index)
        if info is None:
            raise SystemExit(f"index [{index}] is not in {database}")
        timings = []
        for pair in PAIRS:
            esql = pair.esql.replace("{index}", index)
            sql = pair.sql.replace("{rel}", info.relation)

            def run_sql(sql: str = sql) -> list[tuple[object, ...]]:
                with store.reader() as cursor:
                    return cursor.execute(sql).fetchall()

            if explain is not None:
                explain.rule(pair.name)
                compiled = explain_sql(store, esql)
                explain.print(f"ES|QL: {esql}\n\ncompiled: {compiled}\n\nhand SQL: {sql}\n", markup=False)
            # Warm-up, and a check that both say the same: every row, in order, as JSON-ready values
            # (the hand SQL's timestamps and numbers are rendered as ES|QL renders them).
            esql_rows = run_esql(store, esql).values
            sql_rows = [[_as_json(v) for v in row] for row in run_sql()]
            esql_wall, esql_cpu = _p50_ms(lambda esql=esql: run_esql(store, esql), repeats)
            sql_wall, sql_cpu = _p50_ms(run_sql, repeats)
            timings.append(
                QueryTiming(pair.name, esql_wall, sql_wall, len(esql_rows), esql_rows == sql_rows, esql_cpu, sql_cpu)
            )
        return timings
    finally:
        store.close()


def report_queries(console: Console, timings: list[QueryTiming], repeats: int = 5) -> None:
    table = Table(title=f"ES|QL against hand-written DuckDB SQL (p50 of {repeats}, in-process; CPU = this process)")
    columns = ("query", "rows", "same result", "ES|QL ms", "SQL ms", "ratio", "ES|QL CPU ms", "SQL CPU ms", "CPU ratio")
    for column in (*columns, "target", "verdict"):
        table.add_column(column, justify="left" if column == "query" else "right")
    for timing in timings:
        table.add_row(
            timing.name,
            str(timing.rows),
            "yes" if timing.same_rows else "NO",
            f"{timing.esql_ms:.1f}",
            f"{timing.sql_ms:.1f}",
            f"{timing.ratio:.2f}x",
            f"{timing.esql_cpu_ms:.1f}",
            f"{timing.sql_cpu_ms:.1f}",
            f"{timing.cpu_ratio:.2f}x",
            "<= 1.3x",
            "PASS" if timing.ratio <= 1.3 and timing.same_rows else "FAIL",
        )
    console.print(table)
