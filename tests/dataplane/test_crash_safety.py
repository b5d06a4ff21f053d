"""kill -9 of a real `vigil serve` during `_bulk` loses no acknowledged document."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from tests.support.server import free_port
from tests.test_crash_safety import start_server

pytestmark = pytest.mark.backend_independent


def _body(writer: int, batch: int, size: int) -> bytes:
    lines = []
    for n in range(size):
        doc_id = f"w{writer}-b{batch}-{n}"
        lines.append(orjson.dumps({"create": {"_index": "crash", "_id": doc_id}}))
        # Every 7th batch uses generated ids, so the columnar lane is killed mid-write too.
        if batch % 7 == 3:
            lines[-1] = orjson.dumps({"create": {"_index": "crash"}})
        lines.append(
            orjson.dumps(
                {"@timestamp": f"2024-01-{1 + batch % 28:02d}T00:00:00Z", "writer": writer, "batch": batch, "n": n}
            )
        )
    return b"\n".join(lines) + b"\n"


def test_acknowledged_bulk_documents_survive_kill_9(tmp_path: Path) -> None:
    port = free_port()
    server = start_server(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    acknowledged: list[tuple[int, int, int]] = []  # (writer, batch, documents) of acknowledged requests
    lock = threading.Lock()
    stop = threading.Event()

    def writer(number: int) -> None:
        with httpx.Client(base_url=base, auth=(ADMIN_USER, ADMIN_PASSWORD), timeout=30) as client:
            batch = 0
            while not stop.is_set():
                size = 200
                try:
                    response = client.post(
                        "/_bulk", content=_body(number, batch, size), headers={"content-type": "application/x-ndjson"}
                    )
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    result = response.json()
                    assert result["errors"] is False, result["items"][:3]
                    with lock:
                        acknowledged.append((number, batch, size))
                batch += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until enough batches were acknowledged (a slow machine needs longer)
        time.sleep(0.2)
        with lock:
            if len(acknowledged) >= 12:
                break
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    stop.set()
    for thread in threads:
        thread.join()
    assert len(acknowledged) >= 3, "too few bulk requests were acknowledged before the kill"

    server = start_server(tmp_path, port)
    try:
        with httpx.Client(base_url=base, auth=(ADMIN_USER, ADMIN_PASSWORD), timeout=30) as client:
            assert client.get("/crash/_mapping").status_code == 200
        import duckdb

        # The server holds the DuckDB file; stop it to read the file directly.
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        connection = duckdb.connect(str(tmp_path / "data.duckdb"), read_only=True)
        counts = dict(
            ((writer, batch), count)
            for writer, batch, count in connection.execute(
                'SELECT writer, batch, count(*) FROM "crash" GROUP BY ALL'
            ).fetchall()
        )
        connection.close()
        for writer_number, batch, size in acknowledged:
            assert counts.get((writer_number, batch)) == size, (writer_number, batch)
        # Nothing half-written either: every batch present is whole (a bulk request is one transaction).
        assert all(count == 200 for count in counts.values())
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
