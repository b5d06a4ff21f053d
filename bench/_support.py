"""Helpers shared by the benchmark programs: a real server in a subprocess, a throwaway
PostgreSQL database, latency statistics and a description of the machine."""

from __future__ import annotations

import os
import platform
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DEFAULT_POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# --- statistics ----------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


@dataclass
class Timings:
    """Latencies of one operation, in milliseconds."""

    name: str
    samples: list[float] = field(default_factory=list)

    def add_ns(self, elapsed_ns: int) -> None:
        self.samples.append(elapsed_ns / 1e6)

    @property
    def n(self) -> int:
        return len(self.samples)

    def p(self, q: float) -> float:
        return percentile(sorted(self.samples), q)


# --- processes and ports -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def vigil_server(env: dict[str, str], workdir: Path, *, timeout: float = 60) -> Iterator[str]:
    """`python -m vigil serve` (one uvicorn worker) in a subprocess; yields its base URL.

    A subprocess, not a thread, so the benchmark client never competes for the server's GIL.
    The server's output goes to workdir/server.log.
    """
    port = free_port()
    full_env = {**os.environ, **env, "VIGIL_HOST": "127.0.0.1", "VIGIL_PORT": str(port)}
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "vigil", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=full_env,
            cwd=workdir,  # so no ./vigil.toml of the caller is picked up
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if httpx.get(f"{base_url}/api/status", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Vigil did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.1)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- PostgreSQL ----------------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def postgres_reachable(admin_url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(_libpq(admin_url), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(_libpq(url)) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


@contextmanager
def throwaway_postgres(admin_url: str, prefix: str) -> Iterator[str]:
    """A new database next to `admin_url`'s, dropped (even if still in use) when the block ends."""
    import psycopg

    name = f"{prefix}_{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- machine ---------------------------------------------------------------------------------------


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPU ({cpu}), {ram} RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
