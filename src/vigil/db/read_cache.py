"""A short-lived cache of configuration reads (connectors, prompts, anonymization rules, knowledge
base entries) that every chat turn makes and that rarely change.

Also the principals of recently verified credentials (vigil.auth.service).

Correctness rules:

- **Writes in this process** invalidate at once. Every statement a `Database` runs is watched
  (`watch_engine`): an INSERT/UPDATE/DELETE (or DDL) touching a table of a cache's `TableGroup`
  bumps the group's generation when it runs and again when its connection goes back to the pool
  (after the commit), and an entry is only served while the generation it was loaded under is
  still the current one. This holds whatever code path wrote (ORM, bulk, Core).
- **A load cannot store what it read before a write committed**: the caller takes `snapshot()`
  *before* opening the transaction it reads with, and `get_or_load` refuses to store when the
  generation moved meanwhile (the value is still returned, it is what this transaction sees).
- **Writes by other Vigil servers** sharing PostgreSQL are not seen: entries expire after
  their time-to-live (`chat_config_cache_seconds`, `auth_principal_cache_seconds`, default 2 s),
  the longest such a change can go unnoticed here. `0` turns a cache off.

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

_READ_ONLY = re.compile(r"\s*(SELECT|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|SHOW|SET|EXPLAIN)\b", re.I)
_DML_TARGET = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)
_FLAG = "vigil_read_cache_groups"


class TableGroup:
    """Tables whose rows a cache depends on, and a generation bumped on every write to them.
    A write to any other table leaves the group's caches alone (storing a turn, say)."""

    def __init__(self, tables: frozenset[str]) -> None:
        self.tables = tables
        self.generation = 0
        self._lock = threading.Lock()
        _GROUPS.append(self)

    def bump(self) -> None:
        with self._lock:
            self.generation += 1


_GROUPS: list[TableGroup] = []

# What a chat turn's setup reads (vigil.chat.engine).
CONFIG_TABLES = TableGroup(
    frozenset(
        {"connectors", "prompts", "anonymization_fields", "anonymization_field_spaces", "kb_entries", "kb_spaces"}
    )
)
# Who a credential is (vigil.auth.service).
AUTH_TABLES = TableGroup(frozenset({"users", "api_keys"}))


def written_table(statement: str) -> str | None:
    """The table a statement writes ("" when it writes nothing); None when it cannot be told
    (DDL, CTEs, anything unrecognised), which counts as a write to every table."""
    if _READ_ONLY.match(statement):
        return ""
    target = _DML_TARGET.match(statement)
    return target.group(1).lower() if target is not None else None


def watch_engine(engine: Engine) -> None:
    """Bump the groups a statement through `engine` writes to: when it runs (loads starting after
    it do not store) and when its connection is checked in, after the commit or rollback (loads
    that read the old rows before the commit do not store either)."""

    @event.listens_for(engine, "after_cursor_execute")
    def _after_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        table = written_table(statement)
        if table == "":
            return
        for group in _GROUPS:
            if table is None or table in group.tables:
                group.bump()
                conn.info.setdefault(_FLAG, set()).add(group)

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            for group in record.info.pop(_FLAG, ()):
                group.bump()


class ReadCache:
    """Values by key, each valid while the generation it was loaded under is current and its
    time-to-live has not passed. Thread-safe; bounded (least recently used entries go first)."""

    def __init__(self, ttl_seconds: float, tables: TableGroup, max_entries: int = 4096) -> None:
        self.ttl = ttl_seconds
        self.tables = tables
        self._max = max_entries
        self._entries: OrderedDict[Hashable, tuple[Any, int, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def snapshot(self) -> int:
        """Take this before opening the transaction whose reads may be stored."""
        return self.tables.generation

    def get(self, key: Hashable) -> Any | None:
        """The value stored under `key` if still valid, else None."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            value, generation, expires = entry
            if generation == self.tables.generation and expires > time.monotonic():
                self._entries.move_to_end(key)
                return value
            del self._entries[key]
            return None

    def put(self, key: Hashable, since: int, value: Any) -> None:
        """Stores `value`, read by a transaction that began after `snapshot()` returned `since`,
        unless a write to the group happened since."""
        if not self.enabled:
            return
        with self._lock:
            if since == self.tables.generation:
                self._entries[key] = (value, since, time.monotonic() + self.ttl)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)

    def get_or_load(
        self,
        key: Hashable,
        since: int,
        load: Callable[[], T],
        *,
        cacheable: Callable[[T], bool] | None = None,
    ) -> T:
        """`load()`'s value, from the cache while valid. Values are never None."""
        cached = self.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        value = load()
        if cacheable is None or cacheable(value):
            self.put(key, since, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
