"""A Vigil server in its own process for the conformance run.

The kit sends Elasticsearch's tests as they are, and some of them ask for huge results
(`REPEAT("ab", 2147483647)`, billions of buckets). A server that crashes or stalls on one of
them must not take the run (or the pytest session) down with it: the server runs as a child
process, and `ServerProcess.ensure_alive` replaces it when it stops answering.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.esql.conformance.datasets import load_all
from tests.support.server import free_port

ADMIN_USER = "elastic"
ADMIN_PASSWORD = "conformance-admin-password"
START_TIMEOUT_SECONDS = 60
HEALTH_TIMEOUT_SECONDS = 5


class ServerProcess:
    """`python -m uvicorn vigil.web.app:create_app` on a fixed loopback port."""

    def __init__(self, work_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.restarts = 0
        self._work_dir = work_dir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=self._work_dir))  # a crash may leave a store half-written
        env = {
            **os.environ,
            "VIGIL_DATA_DIR": str(data_dir),
            "VIGIL_ADMIN_USERNAME": ADMIN_USER,
            "VIGIL_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "VIGIL_ENCRYPTION_KEY": "vigil-conformance-encryption-key-0123456789",
        }
        command = [sys.executable, "-m", "uvicorn", "vigil.web.app:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        self._process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self.healthy():
            if self._process.poll() is not None or time.monotonic() > deadline:
                code = self._process.poll()
                raise RuntimeError(f"the Vigil server for the conformance run did not start (exit {code})")
            time.sleep(0.2)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/status", timeout=HEALTH_TIMEOUT_SECONDS).status_code == 200
        except httpx.HTTPError:
            return False

    def ensure_alive(self, replace: bool = False) -> bool:
        """True if the server was replaced: because it crashed or stopped answering, or because
        `replace` asks for it (a query timed out and may still be running)."""
        if not replace and self._process is not None and self._process.poll() is None and self.healthy():
            return False
        self.stop()
        self.start()
        self.restarts += 1
        return True


@contextmanager
def server_process() -> Iterator[ServerProcess]:
    with tempfile.TemporaryDirectory(prefix="vigil-conformance-") as work_dir:
        server = ServerProcess(Path(work_dir))
        server.start()
        try:
            yield server
        finally:
            server.stop()


def recovery(server: ServerProcess, client: httpx.Client) -> Callable[[bool], bool]:
    """The `recover` hook of `run_tests`: replace a dead or stalled server and load the datasets again."""

    def recover(timed_out: bool) -> bool:
        if not server.ensure_alive(replace=timed_out):
            return False
        load_all(client)
        return True

    return recover
