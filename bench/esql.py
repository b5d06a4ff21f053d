"""The data plane at scale: ingest rates through `_bulk` and `vigil ingest`, then ES|QL query
latency against the same queries written by hand in DuckDB SQL (bench/_esql_queries.py).

Generates N ECS-like events over D days as plain NDJSON (bench/_esql_data.py), then measures,
in this order and in the same run:

* baseline `read_json`: DuckDB's own NDJSON reader loading the file into a table of a fresh
  database file (auto-detected schema, no per-document checks): the ceiling for any ingest
  that goes through DuckDB;
* baseline `COPY`: DuckDB's `COPY ... FROM` the same file into a pre-created typed table;
* `_bulk`: this process posts 10k-document `_bulk` requests (2 in flight) to `vigil serve` in a
  subprocess, which holds the DuckDB file;
* `vigil ingest`: the CLI in a subprocess sends the same file to the same server.

Each line reports documents/s, MB/s, the server's CPU seconds per 100k documents where known,
and the ratio to `read_json`. Timings are never asserted; the load average is printed so a noisy
run can be recognised.

Usage:  .venv/bin/python bench/esql.py [--quick] [--docs N] [--days D]
                                       [--queries-only] [--database PATH] [--explain] [--repeats R]
        --quick: 100k events over 30 days (about a minute on 2 quiet cores);
        default: 10M events over 30 days (make bench; tens of minutes, several GB on disk).
        --queries-only: skip the ingest measurements; the events are written into the store in
          this process (the same `_bulk` code as the server) and only the queries are timed.
        --database PATH: with --queries-only, keep the store at PATH and reuse it when it exists
          (iterate on the ES|QL side without generating the events again).
        --explain: print each query's compiled SQL next to the hand-written SQL.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
from _esql_data import write_ndjson
from _esql_queries import report_queries, time_queries
from _support import machine_description, vigil_server
from rich.console import Console
from rich.table import Table

from vigil.dataplane.bulk import run_bulk
from vigil.dataplane.store import DataStore

ADMIN = ("elastic", "bench-admin-password")
BATCH = 10_000
console = Console(width=140)


@dataclass
class Rate:
    name: str
    docs: int
    seconds: float
    size_bytes: int
    cpu_seconds: float | None = None

    @property
    def docs_per_second(self) -> float:
        return self.docs / self.seconds if self.seconds > 0 else 0.0


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux /proc), to see the server's own cost per document."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def _server_pid(port: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in cmdline and str(port).encode() in cmdline:
            return int(entry.name)
    return None


def baseline_read_json(source: Path, workdir: Path, size: int, docs: int) -> Rate:
    database = workdir / "baseline_read_json.duckdb"
    connection = duckdb.connect(str(database))
    started, cpu = time.perf_counter(), time.process_time()
    connection.execute("CREATE TABLE events AS SELECT * FROM read_json(?, format = 'newline_delimited')", [str(source)])
    connection.execute("CHECKPOINT")
    rate = Rate("DuckDB read_json (baseline)", docs, time.perf_counter() - started, size, time.process_time() - cpu)
    connection.close()
    database.unlink()
    return rate


def baseline_copy(source: Path, workdir: Path, size: int, docs: int) -> Rate:
    database = workdir / "baseline_copy.duckdb"
    connection = duckdb.connect(str(database))
    connection.execute(
        "CREATE TABLE events AS SELECT * FROM read_json(?, format = 'newline_delimited') LIMIT 0", [str(source)]
    )
    started, cpu = time.perf_counter(), time.process_time()
    connection.execute(f"COPY events FROM '{source}' (FORMAT json)")
    connection.execute("CHECKPOINT")
    rate = Rate("DuckDB COPY into a typed table", docs, time.perf_counter() - started, size, time.process_time() - cpu)
    connection.close()
    database.unlink()
    return rate


def _bulk_bodies(source: Path, index: str) -> Iterator[bytes]:
    action = b'{"create":{"_index":"' + index.encode() + b'"}}\n'
    batch: list[bytes] = []
    with source.open("rb") as lines:
        for line in lines:
            batch.append(action + line)
            if len(batch) == BATCH:
                yield b"".join(batch)
                batch = []
    if batch:
        yield b"".join(batch)


def bulk_rate(base_url: str, source: Path, size: int, docs: int, server_pid: int | None) -> Rate:
    client = httpx.Client(base_url=base_url, auth=ADMIN, timeout=600)
    failures = 0

    def send(body: bytes) -> int:
        response = client.post("/_bulk", content=body, headers={"content-type": "application/x-ndjson"})
        response.raise_for_status()
        result = response.json()
        return sum(1 for item in result["items"] if "error" in next(iter(item.values())))

    cpu_before = _process_cpu_seconds(server_pid) if server_pid else None
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        in_flight = []
        for body in _bulk_bodies(source, "bench-bulk"):
            in_flight.append(pool.submit(send, body))
            if len(in_flight) >= 2:
                failures += in_flight.pop(0).result()
        for future in in_flight:
            failures += future.result()
    elapsed = time.perf_counter() - started
    cpu = _process_cpu_seconds(server_pid) - cpu_before if server_pid and cpu_before is not None else None
    client.close()
    if failures:
        console.print(f"[red]{failures} documents failed in _bulk[/red]")
    return Rate("_bulk (10k docs/request, 2 in flight)", docs, elapsed, size, cpu)


def cli_rate(base_url: str, source: Path, size: int, docs: int, server_pid: int | None) -> Rate:
    cpu_before = _process_cpu_seconds(server_pid) if server_pid else None
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "vigil", "ingest", str(source), "--index", "bench-cli", "--url", base_url,
         "--user", ADMIN[0], "--password", ADMIN[1], "--quiet"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        console.print(f"[red]vigil ingest failed:[/red] {completed.stderr[-2000:]}")
    cpu = _process_cpu_seconds(server_pid) - cpu_before if server_pid and cpu_before is not None else None
    return Rate("vigil ingest (CLI -> _bulk)", docs, elapsed, size, cpu)


def load_in_process(source: Path, database: Path, index: str) -> None:
    """The events into a fresh store through the `_bulk` code the server runs (no HTTP)."""
    store = DataStore.open(database)
    try:
        for body in _bulk_bodies(source, index):
            run_bulk(store, body, None, None, time.monotonic())
    finally:
        store.close()


def queries_only(args: argparse.Namespace, docs: int) -> None:
    database = Path(args.database) if args.database else None
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-esql-"))
    try:
        if database is None or not database.exists():
            target = database or workdir / "data.duckdb"
            source = workdir / "events.ndjson"
            started = time.perf_counter()
            write_ndjson(source, docs, args.days)
            load_in_process(source, target, "bench-bulk")
            console.print(f"loaded {docs:,} events over {args.days} days in {time.perf_counter() - started:.1f}s")
            database = target
        console.print(f"load average before the queries: {os.getloadavg()}")
        explain = console if args.explain else None
        report_queries(console, time_queries(database, "bench-bulk", args.repeats, explain), args.repeats)
        console.print(f"load average after: {os.getloadavg()}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report(rates: list[Rate]) -> None:
    baseline = rates[0].docs_per_second
    table = Table(title="Ingest")
    for column in ("path", "docs", "seconds", "docs/s", "MB/s", "server CPU s / 100k docs", "vs read_json"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for rate in rates:
        table.add_row(
            rate.name,
            f"{rate.docs:,}",
            f"{rate.seconds:.1f}",
            f"{rate.docs_per_second:,.0f}",
            f"{rate.size_bytes / rate.seconds / 1e6:.1f}" if rate.seconds else "-",
            f"{rate.cpu_seconds * 100_000 / rate.docs:.2f}" if rate.cpu_seconds is not None else "-",
            f"{rate.docs_per_second / baseline:.2f}x" if baseline else "-",
        )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100k events (default 10M)")
    parser.add_argument("--docs", type=int, help="number of events (overrides --quick)")
    parser.add_argument("--days", type=int, default=30, help="days the events span (default 30)")
    parser.add_argument("--queries-only", action="store_true", help="time only the ES|QL queries")
    parser.add_argument("--database", help="with --queries-only: store file to reuse (created if missing)")
    parser.add_argument("--explain", action="store_true", help="print compiled SQL next to the hand SQL")
    parser.add_argument("--repeats", type=int, default=5, help="runs per query after the warm-up (default 5)")
    args = parser.parse_args()
    docs = args.docs or (100_000 if args.quick else 10_000_000)
    console.print(f"machine: {machine_description()}; DuckDB {duckdb.__version__}")
    if args.queries_only:
        queries_only(args, docs)
        return
    console.print(f"load average before: {os.getloadavg()}")
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-esql-"))
    try:
        source = workdir / "events.ndjson"
        started = time.perf_counter()
        size = write_ndjson(source, docs, args.days)
        elapsed = time.perf_counter() - started
        console.print(f"generated {docs:,} events over {args.days} days: {size / 1e6:.0f} MB in {elapsed:.1f}s")
        rates = [baseline_read_json(source, workdir, size, docs), baseline_copy(source, workdir, size, docs)]
        env = {
            "VIGIL_DATA_DIR": str(workdir / "data"),
            "VIGIL_ADMIN_USERNAME": ADMIN[0],
            "VIGIL_ADMIN_PASSWORD": ADMIN[1],
            "VIGIL_ENCRYPTION_KEY": "bench-encryption-key-0123456789abcdefghij",
            "VIGIL_LOCAL_MODEL_ENABLED": "false",
            # Background embedding of the built-in knowledge base would compete for the CPU.
            "VIGIL_KNOWLEDGE_BASE_AUTO_SETUP": "false",
            "VIGIL_LOG_LEVEL": "warning",
        }
        with vigil_server(env, workdir) as base_url:
            server_pid = _server_pid(int(base_url.rsplit(":", 1)[1]))
            rates.append(bulk_rate(base_url, source, size, docs, server_pid))
            rates.append(cli_rate(base_url, source, size, docs, server_pid))
            report(rates)
        # The server has stopped: its DuckDB file can be opened here, for both sides of each query.
        explain = console if args.explain else None
        report_queries(
            console, time_queries(workdir / "data" / "data.duckdb", "bench-bulk", args.repeats, explain), args.repeats
        )
        console.print(f"load average after: {os.getloadavg()}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
