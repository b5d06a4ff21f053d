"""A short-lived cache of configuration reads (connectors, prompts, anonymization rules, knowledge
base entries) that every chat turn makes and that rarely change.

Correctness rules:

- **Writes in this process** invalidate at once. Every statement a `Database` runs is watched
  (`watch_engine`): an INSERT/UPDATE/DELETE (or DDL) touching a table the cache depends on bumps
  a process-wide generation when it runs and again when its connection goes back to the pool
  (after the commit), and an entry is only served while the generation it was loaded under is
  still the current one. This holds whatever code path wrote (ORM, bulk, Core).
- **A load cannot store what it read before a write committed**: the caller takes `snapshot()`
  *before* opening the transaction it reads with, and `get_or_load` refuses to store when the
  generation moved meanwhile (the value is still returned, it is what this transaction sees).
- **Writes by other Vigil servers** sharing PostgreSQL are not seen: entries expire after
  `chat_config_cache_seconds` (default 2 s), the longest such a change can go unnoticed here.
  `0` turns the cache off (every turn reads the database, as before).

Values must be immutable snapshots (tuples, frozen dataclasses, strings, shared objects that are
never changed in place), never ORM rows attached to a session.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Engine, event

T = TypeVar("T")

# Tables whose rows feed a turn's setup. A write to any other table (conversations, messages,
# users, API keys) leaves the cache alone, so storing a turn does not empty it.
CONFIG_TABLES = frozenset(
    {
        "connectors",
        "prompts",
        "anonymization_fields",
        "anonymization_field_spaces",
        "kb_entries",
        "kb_spaces",
    }
)

_READ_ONLY = re.compile(r"\s*(SELECT|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|SHOW|SET|EXPLAIN)\b", re.I)
_DML_TARGET = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)

_lock = threading.Lock()
_generation = 0
_FLAG = "vigil_config_written"


def current_generation() -> int:
    return _generation


def bump_generation() -> None:
    global _generation
    with _lock:
        _generation += 1


def touches_config(statement: str) -> bool:
    """Could this statement change a table in CONFIG_TABLES? Unknown statements count as yes."""
    if _READ_ONLY.match(statement):
        return False
    target = _DML_TARGET.match(statement)
    if target is not None:
        return target.group(1).lower() in CONFIG_TABLES
    return True  # DDL, CTEs, anything unrecognised: assume the worst


def watch_engine(engine: Engine) -> None:
    """Bump the generation on writes to config tables through `engine`: when the statement runs
    (loads starting after it do not store) and when its connection is checked in, after the
    commit or rollback (loads that read the old rows before the commit do not store either)."""

    @event.listens_for(engine, "after_cursor_execute")
    def _after_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if touches_config(statement):
            conn.info[_FLAG] = True
            bump_generation()

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(_FLAG, False):
            bump_generation()


class ReadCache:
    """Values by key, each valid while the generation it was loaded under is current and its
    time-to-live has not passed. Thread-safe; bounded (least recently used entries go first)."""

    def __init__(self, ttl_seconds: float, max_entries: int = 4096) -> None:
        self.ttl = ttl_seconds
        self._max = max_entries
        self._entries: OrderedDict[Hashable, tuple[Any, int, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    @staticmethod
    def snapshot() -> int:
        """Take this before opening the transaction whose reads may be stored."""
        return current_generation()

    def get_or_load(
        self,
        key: Hashable,
        since: int,
        load: Callable[[], T],
        *,
        cacheable: Callable[[T], bool] | None = None,
    ) -> T:
        if not self.enabled:
            return load()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                value, generation, expires = entry
                if generation == _generation and expires > now:
                    self._entries.move_to_end(key)
                    return value  # type: ignore[no-any-return]
                del self._entries[key]
        value = load()
        if cacheable is not None and not cacheable(value):
            return value
        with self._lock:
            if since == _generation:  # nothing written since the reading transaction started
                self._entries[key] = (value, since, now + self.ttl)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
