"""Processes for the chat benchmark: the fake OpenAI provider and Vigil, each in its own process
group (so nothing shares a GIL with the client and everything is killed on exit)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
from _support import free_port


@dataclass(frozen=True)
class ServerProcess:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (user + system, all its threads), from /proc: on
        a busy machine this, unlike wall time, barely depends on what else is running."""
        return process_cpu_seconds(self.pid)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime


def raise_open_file_limit() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit (children inherit it); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def exit_on_sigterm() -> None:
    """SIGTERM/SIGHUP raise SystemExit, so the `finally` blocks that stop the children run."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def _stop_group(process: subprocess.Popen[bytes], grace: float = 15) -> None:
    if process.poll() is not None:
        return
    try:
        # SIGINT, not SIGTERM: uvicorn shuts down gracefully on both but re-raises the signal at
        # the end, and only SIGINT (KeyboardInterrupt) lets `python -m cProfile` write its stats.
        os.killpg(process.pid, signal.SIGINT)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def _process(
    command: list[str], env: dict[str, str], workdir: Path, log_name: str, ready_url: str, timeout: float
) -> Iterator[subprocess.Popen[bytes]]:
    log_path = workdir / log_name
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killpg stops it and anything it forks
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if httpx.get(ready_url, timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[2]} did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.1)
            yield process
        finally:
            _stop_group(process)


@contextmanager
def fake_provider(workdir: Path, tokens: int, token_delay: float, *, timeout: float = 30) -> Iterator[ServerProcess]:
    """`python -m vigil.testing.fake_openai` answering every request with `tokens` tokens; yields
    its base URL (`http://127.0.0.1:PORT/v1`) and pid."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "vigil.testing.fake_openai",
        "--port",
        str(port),
        "--tokens",
        str(tokens),
        "--token-delay",
        str(token_delay),
    ]
    base = f"http://127.0.0.1:{port}/v1"
    with _process(command, {}, workdir, f"fake-{port}.log", f"{base}/models", timeout) as process:
        yield ServerProcess(base, process.pid)


@contextmanager
def vigil_process(
    env: dict[str, str], workdir: Path, *, profile: Path | None = None, timeout: float = 60
) -> Iterator[ServerProcess]:
    """`python -m vigil serve` (one uvicorn worker); yields its base URL and pid. With `profile`, the
    server runs under cProfile (event-loop thread only) and writes its stats there on exit."""
    port = free_port()
    prefix = [sys.executable, "-m", "cProfile", "-o", str(profile)] if profile else [sys.executable]
    command = [*prefix, "-m", "vigil", "serve", "--host", "127.0.0.1", "--port", str(port)]
    full_env = {**env, "VIGIL_HOST": "127.0.0.1", "VIGIL_PORT": str(port)}
    base = f"http://127.0.0.1:{port}"
    with _process(command, full_env, workdir, "server.log", f"{base}/api/status", timeout) as process:
        yield ServerProcess(base, process.pid)
