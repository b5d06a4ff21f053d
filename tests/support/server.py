"""A real Vigil server on a free loopback port, run in a thread for the test session."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from vigil.settings import Settings
from vigil.web.app import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(settings: Settings) -> Iterator[str]:
    with running_app(create_app(settings)) as base_url:
        yield base_url


@contextmanager
def running_app(app: FastAPI) -> Iterator[str]:
    """Serves an app the caller built (and may look inside, e.g. at `app.state`)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base_url}/api/status", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("Vigil test server did not start")
        time.sleep(0.05)
    try:
        yield base_url
    finally:
        server.should_exit = True
        # Shutdown waits for background work (the knowledge base indexer finishes its batch); a
        # server thread still running when the interpreter exits can abort the whole test run.
        thread.join(timeout=150)
