"""vigil.db.read_cache: cached configuration reads are dropped by writes to the tables they
depend on, never stored from a transaction that may have missed a write, and expire."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.db.migrate import upgrade
from vigil.db.read_cache import AUTH_TABLES, CONFIG_TABLES, ReadCache, written_table
from vigil.prompts.models import Prompt
from vigil.prompts.service import resolve_system_prompt
from vigil.settings import Settings

PRINCIPAL = Principal(user_id="u_cache", username="cache", roles=("editor",))


def _database(tmp_path: Path) -> Database:
    database = Database(Settings(data_dir=tmp_path, sqlite_synchronous="NORMAL"))
    upgrade(database)
    return database


def _prompt(**values: object) -> Prompt:
    defaults: dict[str, object] = {
        "namespace": "cache-space",
        "id": "p1",
        "name": "mine",
        "prompt_type": "system",
        "content": "first",
        "is_new_conversation_default": True,
        "owner_id": PRINCIPAL.user_id,
    }
    return Prompt(**(defaults | values))


def _cached_prompt(database: Database, cache: ReadCache) -> str:
    since = cache.snapshot()
    with database.session(readonly=True) as session:
        return cache.get_or_load(
            "prompt", since, lambda: resolve_system_prompt(session, PRINCIPAL, "cache-space", None)
        )


def test_written_table() -> None:
    assert written_table("SELECT * FROM prompts") == ""
    assert written_table("INSERT INTO prompts (id) VALUES (?)") == "prompts"
    assert written_table('UPDATE "connectors" SET name=?') == "connectors"
    assert written_table("DELETE FROM kb_entries WHERE id = ?") == "kb_entries"
    assert written_table("INSERT OR IGNORE INTO users (id) VALUES (1)") == "users"
    assert written_table("DROP TABLE prompts") is None  # unknown: counts as writing everything


def test_a_committed_write_is_seen_by_the_next_read(tmp_path: Path) -> None:
    database = _database(tmp_path)
    cache = ReadCache(60, CONFIG_TABLES)
    with database.session() as session:
        session.add(_prompt())
    assert _cached_prompt(database, cache) == "first"
    with database.session() as session:
        session.execute(select(Prompt)).all()  # reads leave the cache alone
    assert cache.get("prompt") == "first"
    with database.session() as session:
        session.get_one(Prompt, ("cache-space", "p1")).content = "second"
    assert cache.get("prompt") is None
    assert _cached_prompt(database, cache) == "second"


def test_a_write_to_another_group_keeps_the_entries(tmp_path: Path) -> None:
    database = _database(tmp_path)
    cache = ReadCache(60, AUTH_TABLES)
    cache.put("who", cache.snapshot(), "principal")
    with database.session() as session:
        session.add(_prompt(id="p2", name="other"))
    assert cache.get("who") == "principal"


def test_a_load_that_overlapped_a_write_is_not_stored(tmp_path: Path) -> None:
    database = _database(tmp_path)
    cache = ReadCache(60, CONFIG_TABLES)
    with database.session() as session:
        session.add(_prompt())
    since = cache.snapshot()
    with database.session(readonly=True) as reader:
        before = resolve_system_prompt(reader, PRINCIPAL, "cache-space", None)
        with database.session() as writer:  # commits while the reader's transaction is open
            writer.get_one(Prompt, ("cache-space", "p1")).content = "second"
        value = cache.get_or_load("prompt", since, lambda: before)
    assert value == "first"  # what the reading transaction saw ...
    assert cache.get("prompt") is None  # ... but not kept
    assert _cached_prompt(database, cache) == "second"


def test_entries_expire(tmp_path: Path) -> None:
    cache = ReadCache(0.05, CONFIG_TABLES)
    cache.put("key", cache.snapshot(), "value")
    assert cache.get("key") == "value"
    time.sleep(0.1)
    assert cache.get("key") is None


def test_zero_seconds_turns_the_cache_off() -> None:
    cache = ReadCache(0, CONFIG_TABLES)
    loads: list[int] = []
    for _ in range(2):
        cache.get_or_load("key", cache.snapshot(), lambda: loads.append(1) or "value")
    assert len(loads) == 2
