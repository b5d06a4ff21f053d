"""The server's own cost of `_bulk`, without HTTP: run_bulk on a DuckDB file in this process.

Generates the ECS-like events of bench/esql.py (bench/_esql_data.py), sends them as uniform
`_bulk` bodies (`{"create":{}}` before every document, as `vigil ingest` sends them) into a
fresh index, and reports CPU seconds (time.process_time, every thread of the process) per 100k
documents for the first batch (which maps the index) and for the following ones, next to the
wall time. CPU is what to compare between runs on a shared machine; run the old and the new code
back to back (PYTHONPATH=<checkout>/src).

Usage:  .venv/bin/python bench/bulk_inprocess.py [--docs 100000] [--batch 10000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import tempfile
import time
from pathlib import Path

from _esql_data import write_ndjson

from vigil.dataplane.bulk import run_bulk
from vigil.dataplane.store import DataStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000, help="documents per _bulk body")
    parser.add_argument("--profile", action="store_true", help="cProfile the batches after the first")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-bulk-"))
    try:
        source = workdir / "events.ndjson"
        write_ndjson(source, args.docs, 30)
        lines = source.read_bytes().splitlines()
        bodies = [
            b"".join(b'{"create":{}}\n' + line + b"\n" for line in lines[start : start + args.batch])
            for start in range(0, len(lines), args.batch)
        ]
        store = DataStore.open(workdir / "data.duckdb")
        try:
            cpu, wall = time.process_time(), time.perf_counter()
            run_bulk(store, bodies[0], "bench", None, time.monotonic())
            first_cpu, first_wall = time.process_time() - cpu, time.perf_counter() - wall
            profile = cProfile.Profile() if args.profile else None
            cpu, wall = time.process_time(), time.perf_counter()
            if profile:
                profile.enable()
            for body in bodies[1:]:
                answer = run_bulk(store, body, "bench", None, time.monotonic())
                if not answer.startswith(b'{"errors":false'):
                    raise SystemExit(f"documents failed: {answer[:500]!r}")
            if profile:
                profile.disable()
            rest_cpu, rest_wall = time.process_time() - cpu, time.perf_counter() - wall
        finally:
            store.close()
        rest_docs = len(lines) - len(bodies[0].splitlines()) // 2
        first_docs = len(lines) - rest_docs
        print(f"first batch ({first_docs:,} docs, maps the index): {first_cpu:.2f} CPU s, {first_wall:.2f} s wall")
        if rest_docs:
            print(
                f"next {rest_docs:,} docs: {rest_cpu * 100_000 / rest_docs:.2f} CPU s / 100k docs, "
                f"{rest_docs / rest_wall:,.0f} docs/s wall"
            )
        total_cpu = (first_cpu + rest_cpu) * 100_000 / len(lines)
        print(f"all {len(lines):,} docs: {total_cpu:.2f} CPU s / 100k docs")
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
