"""kill -9 in the middle of writes never leaves a half-written conversation, and loses nothing
that was acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, ENCRYPTION_KEY
from tests.support.clients import CONVERSATIONS, kibana_client
from tests.support.server import free_port
from vigil.conversations.models import Conversation, ConversationMessage
from vigil.db.engine import Database
from vigil.settings import Settings

INTERNAL = "/internal/elastic_assistant/current_user/conversations"


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.update(
        {
            "VIGIL_DATA_DIR": str(data_dir),
            "VIGIL_ADMIN_USERNAME": ADMIN_USER,
            "VIGIL_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "VIGIL_LOG_LEVEL": "warning",
            # PostgreSQL (the suite's second pass) needs the key every server of the store shares.
            "VIGIL_ENCRYPTION_KEY": ENCRYPTION_KEY,
        }
    )
    if os.environ.get("VIGIL_TEST_DATABASE_URL"):
        env["VIGIL_DATABASE_URL"] = os.environ["VIGIL_TEST_DATABASE_URL"]
    log_path = data_dir / "server.log"
    log = log_path.open("ab")  # a file, not a pipe: a full pipe would stall the server
    process = subprocess.Popen(
        [sys.executable, "-m", "vigil", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start:\n{log_path.read_text(errors='replace')[-3000:]}")


def test_kill_9_during_writes(tmp_path: Path, settings: Settings) -> None:
    port = free_port()
    server = start_server(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    acknowledged: dict[str, list[str]] = {}
    lock = threading.Lock()
    stop = threading.Event()

    with kibana_client(base, auth=(ADMIN_USER, ADMIN_PASSWORD)) as client:
        ids = [client.post(CONVERSATIONS, json={"title": f"crash {i}"}).json()["id"] for i in range(4)]
    for conversation_id in ids:
        acknowledged[conversation_id] = []

    def writer(conversation_id: str) -> None:
        with kibana_client(base, auth=(ADMIN_USER, ADMIN_PASSWORD)) as client:
            n = 0
            while not stop.is_set():
                content = f"{conversation_id}-{n}-" + "x" * 2000
                try:
                    response = client.post(
                        f"{INTERNAL}/{conversation_id}/messages",
                        json={
                            "messages": [
                                {"role": "user", "content": content, "timestamp": "2024-01-01T00:00:00Z"},
                                {
                                    "role": "assistant",
                                    "content": content,
                                    "timestamp": "2024-01-01T00:00:01Z",
                                },
                            ]
                        },
                        headers={"elastic-api-version": "1"},
                    )
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    with lock:
                        acknowledged[conversation_id].append(content)
                n += 1

    threads = [threading.Thread(target=writer, args=(cid,)) for cid in ids]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    stop.set()
    for thread in threads:
        thread.join()
    assert sum(len(v) for v in acknowledged.values()) > 0, "no write was acknowledged before the kill"

    server = start_server(tmp_path, port)
    try:
        with kibana_client(base, auth=(ADMIN_USER, ADMIN_PASSWORD)) as client:
            for conversation_id in ids:
                messages = client.get(f"{CONVERSATIONS}/{conversation_id}").json()["messages"]
                contents = [m["content"] for m in messages]
                # Messages arrive in pairs, whole, in order; every acknowledged append is there.
                assert len(contents) % 2 == 0
                assert contents[0::2] == contents[1::2]
                assert contents[0::2][: len(acknowledged[conversation_id])] == acknowledged[conversation_id]
                assert all(len(c.rsplit("-", 1)[1]) == 2000 for c in contents)
        db_settings = Settings(data_dir=tmp_path, database_url=os.environ.get("VIGIL_TEST_DATABASE_URL") or None)
        database = Database(db_settings)
        with database.session(readonly=True) as session:
            for conversation_id in ids:
                count = session.scalar(select(Conversation.message_count).where(Conversation.id == conversation_id))
                rows = session.scalar(
                    select(func.count()).where(ConversationMessage.conversation_id == conversation_id)
                )
                assert count == rows
        database.dispose()
    finally:
        server.kill()
        server.wait()
