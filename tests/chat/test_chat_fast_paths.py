"""What the chat performance work must keep true: the NDJSON wire format Kibana writes, and a
turn that stores nothing never waiting on the database's write lock."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import httpx
import pytest

from tests.chat.conftest import CHAT
from tests.support.clients import unique_name
from vigil.settings import Settings
from vigil.testing.fake_openai import FakeOpenAI, reply


def test_stream_lines_are_compact_json_like_kibanas(make_user, fake: FakeOpenAI, connector_id: str) -> None:
    user = make_user("editor")
    fake.script(reply('Isolate "host-7" — then rotate the café\'s keys.\nDone.'))
    body = {
        "connectorId": connector_id,
        "persist": False,
        "isStream": True,
        "messages": [{"role": "user", "content": "?"}],
    }
    response = user.client.post(CHAT, json=body)
    assert response.status_code == 200, response.text
    lines = response.content.split(b"\n")
    assert lines[-1] == b"" and all(lines[:-1])
    # JSON.stringify's shape: no spaces, non-ASCII as UTF-8, quotes and newlines escaped. Tokens
    # that arrived together may share a line (a client concatenates the payloads).
    assert lines[0] == b'{"payload":"Isolate","type":"content"}'
    assert all(line.startswith(b'{"payload":"') and line.endswith(b'","type":"content"}') for line in lines[:-1])
    assert "café".encode() in response.content and b'\\"host-7\\"' in response.content
    assert b"keys.\\nDone." in response.content
    text = "".join(json.loads(line)["payload"] for line in lines[:-1])
    assert text == 'Isolate "host-7" — then rotate the café\'s keys.\nDone.'


def test_a_turn_that_stores_nothing_does_not_wait_for_the_write_lock(
    make_user, fake: FakeOpenAI, connector_id: str, settings: Settings
) -> None:
    if settings.database_url:
        pytest.skip("SQLite only: PostgreSQL readers never wait for writers")
    user = make_user("editor")
    user.client.get("/api/status")  # authenticate once, outside the lock
    fake.script(reply("Read-only answer."))
    # Another writer holds SQLite's write lock for longer than the turn may take.
    holder = sqlite3.connect(settings.data_dir / "vigil.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(8, holder.rollback)
    release.start()
    try:
        started = time.monotonic()
        body = {"connectorId": connector_id, "persist": False, "messages": [{"role": "user", "content": "hi"}]}
        response = user.client.post(CHAT, json=body)
        elapsed = time.monotonic() - started
    finally:
        release.cancel()
        holder.rollback()
        holder.close()
    assert response.status_code == 200, response.text
    assert response.json()["data"] == "Read-only answer."
    assert elapsed < 4, f"the turn waited {elapsed:.1f} s for the write lock"


def test_configuration_changed_through_the_api_applies_to_the_next_turn(
    make_user, admin: httpx.Client, fake: FakeOpenAI, connector_id: str
) -> None:
    """Turns reuse their configuration reads (vigil.db.read_cache); a change made through this
    server must still show in the very next turn, and a deleted connector must stop answering."""
    user = make_user("editor")
    body = {"connectorId": connector_id, "persist": False, "messages": [{"role": "user", "content": "?"}]}
    prompt = admin.post(
        "/api/security_ai_assistant/prompts/_bulk_action",
        json={"create": [{"name": unique_name("sys"), "promptType": "system", "content": "Answer as a pirate."}]},
    ).json()["attributes"]["results"]["created"][0]
    for _ in range(2):  # the second turn is answered from the cache
        fake.script(reply("ok"))
        assert user.client.post(CHAT, json=body | {"promptId": prompt["id"]}).status_code == 200
    assert fake.chat_requests[-1].body["model"] == "fake-gpt"
    assert "Answer as a pirate." in fake.chat_requests[-1].body["messages"][0]["content"]

    connector = admin.get(f"/api/actions/connector/{connector_id}").json()
    changed = admin.put(
        f"/api/actions/connector/{connector_id}",
        json={"name": connector["name"], "config": connector["config"] | {"defaultModel": "other-model"}},
    )
    assert changed.status_code == 200, changed.text
    updated = admin.post(
        "/api/security_ai_assistant/prompts/_bulk_action",
        json={"update": [{"id": prompt["id"], "content": "Answer as a poet."}]},
    )
    assert updated.status_code == 200, updated.text
    fake.script(reply("ok"))
    assert user.client.post(CHAT, json=body | {"promptId": prompt["id"]}).status_code == 200
    assert fake.chat_requests[-1].body["model"] == "other-model"
    assert "Answer as a poet." in fake.chat_requests[-1].body["messages"][0]["content"]

    assert admin.delete(f"/api/actions/connector/{connector_id}").status_code in (200, 204)
    assert user.client.post(CHAT, json=body).status_code == 404
