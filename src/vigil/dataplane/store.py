"""The embedded data store: indices in one DuckDB file, partitioned by day of `@timestamp`.

Layout (docs/dataplane.md): each index has one table per UTC day of `@timestamp`
(`"logs/2024-01-05"`, `"logs/none"` for documents without one) and a view named like the
index that projects every mapped field from every partition (`UNION ALL`). DuckDB keeps min/max
statistics per table, so a filter on "@timestamp" turns partitions outside the range into empty
scans, and retention drops whole tables. Metadata (mappings, partitions, explicit document ids)
lives in `_vigil_*` tables of the same file, changed in the same transaction as the data: a
bulk request is acknowledged only after its transaction committed to DuckDB's write-ahead log.

Concurrency: one writer at a time (a lock), readers on their own cursors (MVCC snapshots).
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import orjson
import pyarrow as pa

from vigil.dataplane.catalog import FieldInfo, IndexInfo
from vigil.dataplane.columnar import ColumnarPlan, convert_batch, insert_converted
from vigil.dataplane.documents import RowBuilder
from vigil.dataplane.errors import (
    DocumentParsingError,
    IllegalArgumentError,
    IndexAlreadyExistsError,
    IndexNotFoundError,
    VersionConflictError,
)
from vigil.dataplane.mapping import FieldMapping, IndexMapping
from vigil.dataplane.names import is_data_stream_name, resolve_names, validate_index_name
from vigil.dataplane.typed import TypedPlan, convert_typed
from vigil.dataplane.types import duckdb_type
from vigil.errors import VigilError

logger = logging.getLogger("vigil.dataplane")

Kind = Literal["index", "data_stream"]
OpType = Literal["index", "create"]
_DAY_MS = 86_400_000
_NO_TIMESTAMP = "none"
TIMESTAMP_FIELD = "@timestamp"

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "UBIGINT": pa.uint64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("ms"),
}

# No extension is ever fetched at run time; json, parquet and icu are linked into the wheel.
_DUCKDB_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS _vigil_indices (name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, "
    "uuid VARCHAR NOT NULL, created_ms BIGINT NOT NULL, mapping VARCHAR NOT NULL, seq_no BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS _vigil_partitions (index_name VARCHAR NOT NULL, day INTEGER, "
    "table_name VARCHAR PRIMARY KEY)",
    # Only documents indexed with an explicit _id: auto-generated ids are unique by construction.
    "CREATE TABLE IF NOT EXISTS _vigil_ids (index_name VARCHAR NOT NULL, _id VARCHAR NOT NULL, "
    "version BIGINT NOT NULL, table_name VARCHAR NOT NULL)",
)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def new_document_id() -> str:
    """20 URL-safe characters, like Elasticsearch's auto-generated ids."""
    return base64.urlsafe_b64encode(os.urandom(15)).decode()


def new_document_ids(count: int) -> list[str]:
    text = base64.urlsafe_b64encode(os.urandom(15 * count)).decode()
    return [text[i : i + 20] for i in range(0, 20 * count, 20)]


@dataclass(slots=True)  # not frozen: a bulk request makes one per document, and frozen costs
class WriteOp:
    """One bulk action: write `source` to `index` (`error` set: the action already failed)."""

    op_type: OpType
    index: str
    doc_id: str | None
    source: Mapping[str, Any] | None
    error: VigilError | None = None
    raw: bytes | None = None  # the source as sent (bulk): parsed by DuckDB or, failing that, orjson
    action_name: str | None = None  # the bulk action as sent, when not op_type (update, delete)


@dataclass(slots=True)
class ItemResult:
    op_type: OpType
    index: str  # as Elasticsearch reports it: the concrete (backing) index
    doc_id: str | None
    status: int
    result: str | None = None  # "created" | "updated"
    version: int | None = None
    seq_no: int | None = None
    error: VigilError | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class IndexStats:
    name: str  # as _cat/indices lists it (a data stream's backing index)
    uuid: str
    docs: int
    size_bytes: int
    created_ms: int
    data_stream: str | None


@dataclass(slots=True)
class UniformOutcome:
    """A bulk request of one repeated action with generated ids, as written: the documents the
    columnar lane took have no result object (created, version 1); `results` holds the others."""

    op_type: OpType
    index: str  # the concrete (backing) index items name
    ids: list[str]  # per document
    seq_nos: list[int]  # per document; -1 where it failed
    results: dict[int, ItemResult]  # documents that failed, by position

    def items(self) -> list[ItemResult]:
        return [
            self.results.get(position)
            or ItemResult(self.op_type, self.index, doc_id, 201, "created", 1, self.seq_nos[position])
            for position, doc_id in enumerate(self.ids)
        ]


class _UniformOps(Sequence[WriteOp]):
    """The ops of a uniform bulk, made only for the documents that need one (RowBuilder's)."""

    def __init__(self, op_type: OpType, index: str, sources: list[bytes]) -> None:
        self.op_type, self.target, self.sources = op_type, index, sources

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, position: int) -> WriteOp:  # type: ignore[override]
        return WriteOp(self.op_type, self.target, None, None, None, self.sources[position])


@dataclass
class _IndexState:
    name: str
    kind: Kind
    uuid: str
    created_ms: int
    mapping: IndexMapping
    seq_no: int = 0
    # table name -> day number since the epoch (None: documents without @timestamp)
    partitions: dict[str, int | None] = field(default_factory=dict)

    @property
    def write_index(self) -> str:
        if self.kind == "data_stream":
            created = datetime.fromtimestamp(self.created_ms / 1000, tz=UTC)
            return f".ds-{self.name}-{created:%Y.%m.%d}-000001"
        return self.name

    def info(self) -> IndexInfo:
        fields = {
            item.name: FieldInfo(item.name, item.es_type, item.name, item.multi_valued)
            for item in self.mapping.fields.values()
        }
        return IndexInfo(self.name, quote(self.name), fields)


def _partition_table(index: str, day: int | None) -> str:
    if day is None:
        return f"{index}/{_NO_TIMESTAMP}"
    return f"{index}/{date(1970, 1, 1) + timedelta(days=day):%Y-%m-%d}"


class StoreCatalog:
    """The Catalog of vigil.dataplane.catalog over the store's current indices (thread-safe reads)."""

    def __init__(self) -> None:
        self._infos: dict[str, IndexInfo] = {}
        self._aliases: dict[str, str] = {}

    def _publish(self, states: Iterable[_IndexState]) -> None:
        states = list(states)
        # Replaced whole, never mutated: readers on other threads see one consistent version.
        self._infos = {state.name: state.info() for state in states}
        self._aliases = {state.write_index: state.name for state in states if state.kind == "data_stream"}

    def resolve(self, expression: str) -> list[IndexInfo]:
        infos, aliases = self._infos, self._aliases
        names = resolve_names(expression, list(infos) + list(aliases), aliases.get)
        resolved: dict[str, IndexInfo] = {}
        for name in names:
            target = aliases.get(name, name)
            resolved.setdefault(target, infos[target])
        return list(resolved.values())

    def index(self, name: str) -> IndexInfo | None:
        return self._infos.get(self._aliases.get(name, name))

    def names(self) -> list[str]:
        return sorted(self._infos)


class DataStore:
    """Indices, their mappings and documents in one DuckDB database; see the module notes."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: Path | None) -> None:
        self._conn = connection
        self.path = path
        self._write_lock = threading.RLock()
        self._states: dict[str, _IndexState] = {}
        self.catalog = StoreCatalog()
        self._plans: dict[str, ColumnarPlan] = {}
        self._typed_plans: dict[str, tuple[IndexMapping, TypedPlan | None]] = {}
        self._columns: dict[str, dict[str, str]] = {}
        self._closed = False
        self._load()

    # ---- lifecycle ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | None) -> DataStore:
        """Open (creating if needed) the store at `path`; None keeps it in memory (tests)."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(path) if path is not None else ":memory:", config=_DUCKDB_CONFIG)
        # Timestamps are UTC everywhere; the session time zone must not shift them.
        connection.execute("SET TimeZone = 'UTC'")
        return cls(connection, path)

    def close(self) -> None:
        with self._write_lock:
            if not self._closed:
                self._closed = True
                with suppress(duckdb.Error):
                    self._conn.execute("CHECKPOINT")
                self._conn.close()

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for read-only SQL; safe to use from any thread; sees committed data.

        Reads hold the same lock as writes: DuckDB's Python binding has crashed the process
        (SIGSEGV while results became Python objects) with a query and a bulk write running on
        two threads; see duckdb/duckdb-python#435. DuckDB still runs each query on every core.
        """
        with self._write_lock:
            yield from self._cursor()

    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cursor = self._conn.cursor()
        try:
            cursor.execute("SET TimeZone = 'UTC'")
            yield cursor
        finally:
            cursor.close()

    def _load(self) -> None:
        with self._write_lock:
            for statement in _SCHEMA:
                self._conn.execute(statement)
            rows = self._conn.execute(
                "SELECT name, kind, uuid, created_ms, mapping, seq_no FROM _vigil_indices ORDER BY name"
            ).fetchall()
            for name, kind, index_uuid, created_ms, mapping, seq_no in rows:
                state = _IndexState(name, kind, index_uuid, created_ms, IndexMapping.from_json(orjson.loads(mapping)))
                state.seq_no = seq_no
                self._states[name] = state
            for index_name, day, table_name in self._conn.execute(
                "SELECT index_name, day, table_name FROM _vigil_partitions"
            ).fetchall():
                self._states[index_name].partitions[table_name] = day
            self.catalog._publish(self._states.values())

    # ---- indices -----------------------------------------------------------------------------
    def mapping(self, name: str) -> IndexMapping:
        state = self._state(name)
        return state.mapping

    def kind(self, name: str) -> Kind:
        return self._state(name).kind

    def _state(self, name: str) -> _IndexState:
        info = self.catalog.index(name)
        if info is None:
            raise IndexNotFoundError(name)
        return self._states[info.name]

    def create_index(self, name: str, mappings: Any = None, *, data_stream: bool = False) -> IndexInfo:
        """Create an empty index (or data stream) with an optional Elasticsearch `mappings` body."""
        validate_index_name(name)
        mapping = IndexMapping.from_es(mappings)
        with self._write_lock:
            existing = self._states.get(name)
            if existing is not None:
                raise IndexAlreadyExistsError(name, existing.uuid)
            state = self._new_state(name, mapping, data_stream)
            self._transaction(lambda: self._insert_state(state))
            self._states[name] = state
            self.catalog._publish(self._states.values())
            return state.info()

    def _new_state(self, name: str, mapping: IndexMapping, data_stream: bool) -> _IndexState:
        if data_stream and TIMESTAMP_FIELD not in mapping.fields:
            mapping = mapping.with_field(FieldMapping(TIMESTAMP_FIELD, "date"))
        return _IndexState(
            name,
            "data_stream" if data_stream else "index",
            base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
            int(time.time() * 1000),
            mapping,
        )

    def _insert_state(self, state: _IndexState) -> None:
        self._conn.execute(
            "INSERT INTO _vigil_indices VALUES (?, ?, ?, ?, ?, ?)",
            [state.name, state.kind, state.uuid, state.created_ms, orjson.dumps(state.mapping.to_json()).decode(), 0],
        )
        self._create_view(state)

    def delete_indices(self, expression: str) -> list[str]:
        """Delete what `expression` resolves to (concrete names must exist); returns the names."""
        with self._write_lock:
            names = [info.name for info in self.catalog.resolve(expression)]

            def drop() -> None:
                for name in names:
                    state = self._states[name]
                    self._conn.execute(f"DROP VIEW IF EXISTS {quote(name)}")
                    for table in state.partitions:
                        self._conn.execute(f"DROP TABLE IF EXISTS {quote(table)}")
                        self._columns.pop(table, None)
                    for table in ("_vigil_indices", "_vigil_partitions", "_vigil_ids"):
                        column = "name" if table == "_vigil_indices" else "index_name"
                        self._conn.execute(f"DELETE FROM {table} WHERE {column} = ?", [name])

            self._transaction(drop)
            for name in names:
                del self._states[name]
            self.catalog._publish(self._states.values())
            return names

    def stats(self, expression: str = "*") -> list[IndexStats]:
        infos = self.catalog.resolve(expression)
        result = []
        with self.reader() as cursor:
            sizes = dict(
                cursor.execute(
                    "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'main'"
                ).fetchall()
            )
            for info in infos:
                state = self._states.get(info.name)
                if state is None:
                    continue
                docs = cursor.execute(f"SELECT count(*) FROM {info.relation}").fetchone()
                # estimated_size counts rows; an honest byte figure needs DuckDB's storage info.
                size = sum(self._table_bytes(cursor, table) for table in state.partitions if table in sizes)
                result.append(
                    IndexStats(
                        state.write_index,
                        state.uuid,
                        int(docs[0]) if docs else 0,
                        size,
                        state.created_ms,
                        state.name if state.kind == "data_stream" else None,
                    )
                )
        return result

    @staticmethod
    def _table_bytes(cursor: duckdb.DuckDBPyConnection, table: str) -> int:
        row = cursor.execute(
            "SELECT coalesce(sum(count), 0) FROM (SELECT count(DISTINCT block_id) AS count "
            f"FROM pragma_storage_info({_sql_string(table)}) WHERE persistent)"
        ).fetchone()
        blocks = int(row[0]) if row else 0
        return blocks * 262_144

    # ---- writes ------------------------------------------------------------------------------
    def index_documents(
        self, index: str, documents: Iterable[Mapping[str, Any]], *, op_type: OpType = "index"
    ) -> list[ItemResult]:
        """Write documents with generated ids (`_id` keys in a document are not special here)."""
        return self.write([WriteOp(op_type, index, None, document) for document in documents])

    def write_uniform(self, op_type: OpType, index: str, sources: list[bytes]) -> UniformOutcome | None:
        """The fast form of `write` for a bulk whose every action is the same `op_type` into `index`
        with generated ids (what `vigil ingest` and most shippers send). None when the batch does
        not qualify (small batch, refused target): then call `write`."""
        if len(sources) < _COLUMNAR_MIN_DOCS:
            return None
        with self._write_lock:
            writer = _BatchWriter(self, _UniformOps(op_type, index, sources))
            try:
                state = writer._target(index, op_type)  # creates the index (in this batch) if new
            except VigilError:
                return None  # the general path fails every item with it
            return writer.run_uniform(state)

    def write(self, ops: Sequence[WriteOp]) -> list[ItemResult]:
        """Apply bulk operations in one transaction; every op gets its own result or error."""
        if not ops:
            return []
        with self._write_lock:
            return _BatchWriter(self, ops).run()

    def _columnar_plan(self, state: _IndexState) -> ColumnarPlan | None:
        """The conversion SQL for the index's current mapping (cached: mappings are immutable)."""
        plan = self._plans.get(state.name)
        if plan is None or plan.mapping is not state.mapping:
            try:
                plan = ColumnarPlan(state.mapping, require_timestamp=state.kind == "data_stream")
            except ValueError:
                return None
            self._plans[state.name] = plan
        return plan

    def _typed_plan(self, state: _IndexState) -> TypedPlan | None:
        """The typed lane's plan for the index's current mapping (None: the mapping does not fit it)."""
        if not TYPED_LANE:
            return None
        cached = self._typed_plans.get(state.name)
        if cached is None or cached[0] is not state.mapping:
            try:
                plan: TypedPlan | None = TypedPlan(state.mapping, require_timestamp=state.kind == "data_stream")
            except ValueError:
                plan = None
            cached = self._typed_plans[state.name] = (state.mapping, plan)
        return cached[1]

    def _transaction(self, work: Any) -> None:
        self._conn.execute("BEGIN TRANSACTION")
        try:
            work()
            self._conn.execute("COMMIT")
        except BaseException:
            self._columns.clear()  # may describe tables the rollback undid
            with suppress(duckdb.Error):
                self._conn.execute("ROLLBACK")
            raise

    # ---- schema helpers (called inside a transaction) -----------------------------------------
    def _table_columns(self, table: str) -> dict[str, str]:
        """Column -> DuckDB type of a partition (cached: asking DuckDB's catalog costs milliseconds)."""
        columns = self._columns.get(table)
        if columns is None:
            rows = self._conn.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ?",
                [table],
            ).fetchall()
            columns = self._columns[table] = {name: data_type for name, data_type in rows}
        return columns

    def _create_partition(self, state: _IndexState, table: str, day: int | None) -> None:
        columns = ['"_id" VARCHAR NOT NULL'] + [
            f"{quote(item.name)} {duckdb_type(item.es_type, item.multi_valued)}"
            for item in _sorted_fields(state.mapping)
        ]
        self._conn.execute(f"CREATE TABLE {quote(table)} ({', '.join(columns)})")
        self._conn.execute("INSERT INTO _vigil_partitions VALUES (?, ?, ?)", [state.name, day, table])
        self._columns.pop(table, None)

    def _align_partition(self, table: str, mapping: IndexMapping, needed: Iterable[str]) -> None:
        """Add missing columns and turn newly multi-valued ones into lists, before an insert."""
        existing = self._table_columns(table)
        for name in needed:
            item = mapping.fields[name]
            wanted = duckdb_type(item.es_type, item.multi_valued)
            have = _find_column(existing, name)
            if have is None:
                self._conn.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} {wanted}")
                existing[name] = wanted
            elif existing[have] != wanted:
                self._make_list(table, name, wanted)

    def _make_list(self, table: str, name: str, wanted: str) -> None:
        column = quote(name)
        self._conn.execute(
            f"ALTER TABLE {quote(table)} ALTER COLUMN {column} SET DATA TYPE {wanted} "
            f"USING CASE WHEN {column} IS NULL THEN NULL ELSE [{column}] END"
        )
        self._columns.pop(table, None)

    def _create_view(self, state: _IndexState) -> None:
        fields = _sorted_fields(state.mapping)
        selects = []
        for table in sorted(state.partitions):
            existing = self._table_columns(table)
            projections = ['"_id"']
            for item in fields:
                wanted = duckdb_type(item.es_type, item.multi_valued)
                have = _find_column(existing, item.name)
                if have is None:
                    projections.append(f"NULL::{wanted} AS {quote(item.name)}")
                else:
                    if existing[have] != wanted:  # an old partition written before the field was multi-valued
                        self._make_list(table, item.name, wanted)
                    projections.append(quote(item.name))
            selects.append(f"SELECT {', '.join(projections)} FROM {quote(table)}")
        if not selects:
            empty = ['NULL::VARCHAR AS "_id"'] + [
                f"NULL::{duckdb_type(item.es_type, item.multi_valued)} AS {quote(item.name)}" for item in fields
            ]
            selects.append(f"SELECT {', '.join(empty)} WHERE false")
        self._conn.execute(f"CREATE OR REPLACE VIEW {quote(state.name)} AS {' UNION ALL '.join(selects)}")

    # ---- retention ---------------------------------------------------------------------------
    def drop_partitions_before(self, cutoff: datetime) -> list[str]:
        """Drop every daily partition whose whole day is older than `cutoff`; returns the tables."""
        cutoff_day = int(cutoff.timestamp() * 1000) // _DAY_MS
        dropped: list[str] = []
        with self._write_lock:
            changed = [
                (state, [t for t, day in state.partitions.items() if day is not None and day < cutoff_day])
                for state in self._states.values()
            ]
            changed = [(state, tables) for state, tables in changed if tables]
            if not changed:
                return []

            def drop() -> None:
                for state, tables in changed:
                    remaining = {t: d for t, d in state.partitions.items() if t not in tables}
                    view_state = replace(state, partitions=remaining)
                    self._create_view(view_state)
                    for table in tables:
                        self._conn.execute(f"DROP TABLE {quote(table)}")
                        self._columns.pop(table, None)
                        self._conn.execute("DELETE FROM _vigil_partitions WHERE table_name = ?", [table])
                        self._conn.execute("DELETE FROM _vigil_ids WHERE table_name = ?", [table])

            self._transaction(drop)
            for state, tables in changed:
                for table in tables:
                    del state.partitions[table]
                    dropped.append(table)
            self.catalog._publish(self._states.values())
        return dropped


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sorted_fields(mapping: IndexMapping) -> list[FieldMapping]:
    return sorted(mapping.fields.values(), key=lambda item: item.name)


def _find_column(existing: Mapping[str, str], name: str) -> str | None:
    if name in existing:
        return name
    lowered = name.lower()
    return next((column for column in existing if column.lower() == lowered), None)


@dataclass
class _Pending:
    """Rows of one partition built by RowBuilder, waiting to be inserted."""

    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Converted:
    """One index's share of a batch converted by DuckDB (columnar.py)."""

    table: str  # temporary table holding the rows
    plan: ColumnarPlan
    days: dict[int | None, list[str]]  # partition day -> fields present


def parse_source(raw: bytes) -> Mapping[str, Any]:
    """A bulk source line as a document; DocumentParsingError (this item fails) otherwise."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DocumentParsingError(
            f"[1:{exc.colno}] failed to parse",
            {"type": "x_content_parse_exception", "reason": f"[1:{exc.colno}] {exc.msg}"},
        ) from None
    if not isinstance(document, dict):
        raise DocumentParsingError("[1:1] failed to parse: Malformed content, must start with an object")
    return document


# Below this many documents for an index, a batch skips the columnar lane (its set-up costs more).
_COLUMNAR_MIN_DOCS = 64
# Whether batches try the typed lane (typed.py) before the columnar lane; tests turn it off to
# compare the two.
TYPED_LANE = True
# Documents RowBuilder maps first in a batch into an index that holds none yet.
_BOOTSTRAP_DOCS = 100


class _BatchWriter:
    """One bulk request against the store: plan every op, convert (columnar lane, then RowBuilder
    for what it left), write everything in one transaction, then publish the new state."""

    def __init__(self, store: DataStore, ops: Sequence[WriteOp]) -> None:
        self.store = store
        self.ops = ops
        self.results: list[ItemResult | None] = [None] * len(ops)
        self.targets: dict[int, tuple[_IndexState, str]] = {}  # position -> (index, doc id) of a write
        self.created: dict[str, _IndexState] = {}  # indices this batch creates
        self.builders: dict[str, RowBuilder] = {}
        self.pending: dict[str, dict[int | None, _Pending]] = {}
        self.converted: dict[str, _Converted] = {}
        # explicit ids: (index, id) -> (version, table) as known now (store + this batch)
        self.known_ids: dict[tuple[str, str], tuple[int, str]] = {}
        self.replaced: dict[str, list[str]] = {}  # table -> ids whose old copy is deleted
        self.replaced_ids: dict[str, list[str]] = {}  # index -> ids whose _vigil_ids row is replaced
        self.id_rows: dict[tuple[str, str], tuple[int, str]] = {}
        self.versions: dict[int, tuple[int, bool]] = {}  # position -> (version, replaced an older copy)
        self._written: Counter[str] | None = None  # writes per index, once planning is done

    def run(self) -> list[ItemResult]:
        self.initial_seq_no = {name: state.seq_no for name, state in self.store._states.items()}
        self._load_explicit_ids()
        columnar: dict[str, list[int]] = {}
        sequential: list[int] = []
        targets: dict[tuple[str, OpType], _IndexState | VigilError] = {}
        for position, op in enumerate(self.ops):
            if op.error is not None:
                self.results[position] = ItemResult(
                    op.op_type, op.index, op.doc_id, op.error.status_code, error=op.error
                )
                continue
            key = (op.index, op.op_type)
            target = targets.get(key)
            if target is None:
                try:
                    target = targets[key] = self._target(op.index, op.op_type)
                except VigilError as exc:
                    target = targets[key] = exc
            if isinstance(target, VigilError):
                self.results[position] = ItemResult(op.op_type, op.index, op.doc_id, target.status_code, error=target)
                continue
            state = target
            self.targets[position] = (state, op.doc_id if op.doc_id is not None else "")
            if op.doc_id is None and op.raw is not None:
                columnar.setdefault(state.name, []).append(position)
            else:
                sequential.append(position)
        self._execute(columnar, sequential)
        return self._finish()

    def run_uniform(self, state: _IndexState) -> UniformOutcome:
        """Every op is the same action with a generated id into `state`: no per-op bookkeeping."""
        self.initial_seq_no = {state.name: state.seq_no}
        self._execute({state.name: list(range(len(self.ops)))}, [])
        seq_nos: list[int] = []
        results: dict[int, ItemResult] = {}
        counter = self.initial_seq_no[state.name]
        converted = self.versions
        if len(converted) == len(self.ops):  # every document written: consecutive sequence numbers
            seq_nos = list(range(counter, counter + len(self.ops)))
        else:
            for position in range(len(self.ops)):
                result = self.results[position]
                if result is not None:  # failed in RowBuilder
                    results[position] = result
                    seq_nos.append(-1)
                    continue
                if position not in converted:
                    raise AssertionError("an op was neither written nor failed")
                seq_nos.append(counter)
                counter += 1
        ids = [self.targets[position][1] for position in range(len(self.ops))]
        op_type = self.ops[0].op_type if self.ops else "create"
        return UniformOutcome(op_type, state.write_index, ids, seq_nos, results)

    def _execute(self, columnar: dict[str, list[int]], sequential: list[int]) -> None:
        try:
            # Conversions first, outside the transaction: a failed statement would abort it.
            slow = set(sequential)
            # Documents with ids are planned in order with the rest: an index they write to
            # cannot have its first documents mapped ahead of them.
            ordered = {self.targets[position][0].name for position in sequential if position in self.targets}
            for index, positions in columnar.items():
                if len(positions) < _COLUMNAR_MIN_DOCS:
                    slow.update(positions)
                else:
                    bootstrap = not self._state(index).partitions and index not in ordered
                    slow.update(self._convert_columnar(index, positions, bootstrap))
            for position in sorted(slow):
                self._plan(position)
            if any(self.pending.values()) or self.created or self.converted:
                self.store._transaction(self._apply)
        finally:
            for converted in self.converted.values():
                self.store._conn.execute(f"DROP TABLE IF EXISTS {converted.table}")
        self._publish()

    # ---- planning ----------------------------------------------------------------------------
    def _load_explicit_ids(self) -> None:
        wanted: dict[str, set[str]] = {}
        for op in self.ops:
            if op.doc_id is not None and op.error is None:
                info = self.store.catalog.index(op.index)
                if info is not None:
                    wanted.setdefault(info.name, set()).add(op.doc_id)
        for index, ids in wanted.items():
            rows = self.store._conn.execute(
                "SELECT _id, version, table_name FROM _vigil_ids WHERE index_name = ? AND _id IN "
                "(SELECT unnest(?::VARCHAR[]))",
                [index, sorted(ids)],
            ).fetchall()
            for doc_id, version, table in rows:
                self.known_ids[(index, doc_id)] = (version, table)

    def _target(self, name: str, op_type: OpType) -> _IndexState:
        existing = self.store._states.get(name) or self.created.get(name)
        if existing is None:
            info = self.store.catalog.index(name)  # a data stream's backing index name
            existing = self.store._states.get(info.name) if info else None
        if existing is None:
            validate_index_name(name)
            data_stream = is_data_stream_name(name)
            if data_stream and op_type != "create":
                # Elasticsearch's built-in templates make this a data stream, which takes creates only.
                raise IllegalArgumentError("only write ops with an op_type of create are allowed in data streams")
            existing = self.store._new_state(name, IndexMapping(), data_stream)
            self.created[name] = existing
        if existing.kind == "data_stream" and op_type != "create":
            raise IllegalArgumentError("only write ops with an op_type of create are allowed in data streams")
        return existing

    def _convert_columnar(self, index: str, positions: list[int], bootstrap: bool) -> set[int]:
        """Convert the index's share of the batch (typed lane, else columnar lane); returns the
        positions left to RowBuilder. `bootstrap`: the index holds no document yet and nothing
        else in the batch writes to it, so RowBuilder maps its first documents here, in order,
        and the rest of the batch is converted against that mapping (rather than all of it going
        through RowBuilder)."""
        state = self._state(index)
        mapping = state.mapping
        if isinstance(self.ops, _UniformOps):  # no targets yet: RowBuilder's documents need one
            self.targets.update(dict.fromkeys(positions, (state, "")))
        if bootstrap:
            first, positions = positions[:_BOOTSTRAP_DOCS], positions[_BOOTSTRAP_DOCS:]
            for position in first:
                self._plan(position)
            builder = self.builders.get(index)
            mapping = builder.mapping if builder is not None else state.mapping
        if len(positions) < _COLUMNAR_MIN_DOCS or not mapping.fields:
            return set(positions)
        if mapping is not state.mapping:  # plans for the mapping the first documents made
            require_timestamp = state.kind == "data_stream"
            try:
                plan: ColumnarPlan | None = ColumnarPlan(mapping, require_timestamp)
            except ValueError:
                plan = None
            try:
                typed: TypedPlan | None = TypedPlan(mapping, require_timestamp) if TYPED_LANE else None
            except ValueError:
                typed = None
        else:
            plan, typed = self.store._columnar_plan(state), self.store._typed_plan(state)
        if plan is None:
            return set(positions)
        ids = new_document_ids(len(positions))
        for position, doc_id in zip(positions, ids, strict=True):
            self.targets[position] = (state, doc_id)
        table = f"_vigil_converted_{len(self.converted)}"
        if isinstance(self.ops, _UniformOps):  # no op objects for a uniform batch
            sources = [self.ops.sources[position] for position in positions]
        else:
            sources = [self.ops[position].raw or b"" for position in positions]
        converted = None if typed is None else convert_typed(self.store._conn, typed, table, positions, ids, sources)
        slow, days = converted or convert_batch(self.store._conn, plan, table, positions, ids, sources)
        self.converted[index] = _Converted(table, plan, days)
        for position in positions:
            if position not in slow:
                self.versions[position] = (1, False)
        return slow

    def _plan(self, position: int) -> None:
        op = self.ops[position]
        state, doc_id = self.targets[position]
        if not doc_id:
            doc_id = op.doc_id if op.doc_id is not None else new_document_id()
            self.targets[position] = (state, doc_id)
        key = (state.name, doc_id)
        previous = self.known_ids.get(key) if op.doc_id is not None else None
        if previous is not None and op.op_type == "create":
            error = VersionConflictError(doc_id, previous[0])
            self.results[position] = ItemResult(op.op_type, state.write_index, doc_id, 409, error=error)
            return
        builder = self.builders.get(state.name)
        if builder is None:
            builder = self.builders[state.name] = RowBuilder(state.mapping)
        try:
            source = op.source if op.source is not None else parse_source(op.raw or b"")
            row = builder.build(source, doc_id)
            day = _day_of(row.get(TIMESTAMP_FIELD))
            if day is None and state.kind == "data_stream":
                raise DocumentParsingError("data stream timestamp field [@timestamp] is missing")
        except VigilError as exc:
            self.results[position] = ItemResult(op.op_type, state.write_index, doc_id, exc.status_code, error=exc)
            return
        row["_id"] = doc_id
        pending = self.pending.setdefault(state.name, {}).setdefault(day, _Pending())
        if previous is not None:
            self._replace(state.name, doc_id, previous[1])
            self.replaced_ids.setdefault(state.name, []).append(doc_id)
        pending.rows.append(row)
        version = previous[0] + 1 if previous else 1
        if op.doc_id is not None:
            table = _partition_table(state.name, day)
            self.known_ids[key] = (version, table)
            self.id_rows[key] = (version, table)
        self.versions[position] = (version, previous is not None)

    def _replace(self, index: str, doc_id: str, old_table: str) -> None:
        # The old copy may still be pending in this very batch: drop it there, else in its table.
        for pending in self.pending.get(index, {}).values():
            for position, row in enumerate(pending.rows):
                if row["_id"] == doc_id:
                    del pending.rows[position]
                    return
        self.replaced.setdefault(old_table, []).append(doc_id)

    def _finish(self) -> list[ItemResult]:
        """Results in request order; sequence numbers follow the order of the successful writes."""
        seq_no = dict(self.initial_seq_no)
        results: list[ItemResult] = []
        for position, op in enumerate(self.ops):
            result = self.results[position]
            if result is None:
                state, doc_id = self.targets[position]
                version, replaced = self.versions[position]
                number = seq_no.get(state.name, 0)
                seq_no[state.name] = number + 1
                result = ItemResult(
                    op.op_type,
                    state.write_index,
                    doc_id,
                    200 if replaced else 201,
                    result="updated" if replaced else "created",
                    version=version,
                    seq_no=number,
                )
            results.append(result)
        return results

    # ---- applying ----------------------------------------------------------------------------
    def _final_seq_no(self, state: _IndexState) -> int:
        # Called once planning is done (apply, publish): count each index's writes once.
        if self._written is None:
            self._written = Counter(self.targets[position][0].name for position in self.versions)
        return state.seq_no + self._written[state.name]

    def _apply(self) -> None:
        conn = self.store._conn
        for state in self.created.values():
            self.store._insert_state(state)
        for table, ids in self.replaced.items():
            if table in self._all_tables():
                conn.execute(f"DELETE FROM {quote(table)} WHERE _id IN (SELECT unnest(?::VARCHAR[]))", [ids])
        for index, ids in self.replaced_ids.items():
            conn.execute(
                "DELETE FROM _vigil_ids WHERE index_name = ? AND _id IN (SELECT unnest(?::VARCHAR[]))", [index, ids]
            )
        for index in {*self.pending, *self.converted}:
            self._apply_index(index)
        if self.id_rows:
            keys = list(self.id_rows)
            table = pa.table(
                {
                    "index_name": pa.array([k[0] for k in keys], pa.string()),
                    "_id": pa.array([k[1] for k in keys], pa.string()),
                    "version": pa.array([self.id_rows[k][0] for k in keys], pa.int64()),
                    "table_name": pa.array([self.id_rows[k][1] for k in keys], pa.string()),
                }
            )
            conn.register("_vigil_new_ids", table)
            try:
                conn.execute("INSERT INTO _vigil_ids BY NAME SELECT * FROM _vigil_new_ids")
            finally:
                conn.unregister("_vigil_new_ids")

    def _apply_index(self, index: str) -> None:
        conn = self.store._conn
        state = self._state(index)
        builder = self.builders.get(index)
        mapping = builder.mapping if builder is not None else state.mapping
        view_state = replace(state, mapping=mapping, partitions=dict(state.partitions))
        converted = self.converted.get(index)
        slow_days = {day: pending for day, pending in self.pending.get(index, {}).items() if pending.rows}
        for day in {*slow_days, *(converted.days if converted else {})}:
            table = _partition_table(index, day)
            if table not in view_state.partitions:
                self.store._create_partition(view_state, table, day)
                view_state.partitions[table] = day
            fast_columns = converted.days.get(day, []) if converted else []
            pending = slow_days.get(day)
            slow_columns = _batch_columns(pending.rows) if pending else []
            self.store._align_partition(table, mapping, dict.fromkeys([*fast_columns, *slow_columns]))
            if converted is not None and day in converted.days:
                insert_converted(conn, converted.table, table, day, fast_columns, mapping, converted.plan.mapping)
            if pending is not None:
                _insert_rows(conn, table, mapping, pending.rows, slow_columns)
        if mapping is not state.mapping or view_state.partitions != state.partitions:
            self.store._create_view(view_state)
        conn.execute(
            "UPDATE _vigil_indices SET mapping = ?, seq_no = ? WHERE name = ?",
            [orjson.dumps(mapping.to_json()).decode(), self._final_seq_no(state), index],
        )

    def _all_tables(self) -> set[str]:
        return {table for state in self.store._states.values() for table in state.partitions}

    def _state(self, index: str) -> _IndexState:
        return self.created.get(index) or self.store._states[index]

    def _publish(self) -> None:
        """After the commit: the in-memory state follows what is now durable."""
        store = self.store
        for name, state in self.created.items():
            store._states[name] = state
        for index in {*self.pending, *self.converted}:
            state = store._states[index]
            builder = self.builders.get(index)
            if builder is not None:
                state.mapping = builder.mapping
            state.seq_no = self._final_seq_no(state)
            days = {day for day, pending in self.pending.get(index, {}).items() if pending.rows}
            converted = self.converted.get(index)
            days.update(converted.days if converted else ())
            for day in days:
                state.partitions[_partition_table(index, day)] = day
        store.catalog._publish(store._states.values())


def _day_of(timestamp_ms: Any) -> int | None:
    if timestamp_ms is None:
        return None
    if type(timestamp_ms) is list:
        timestamp_ms = timestamp_ms[0]
    return int(timestamp_ms) // _DAY_MS


def _batch_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Fields present in at least one row (others stay NULL), in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        for name in row:
            if name != "_id" and name not in seen:
                seen[name] = None
    return list(seen)


def _arrow_type(item: FieldMapping) -> pa.DataType:
    base = _ARROW_TYPES[duckdb_type(item.es_type, False)]
    return pa.list_(base) if item.multi_valued else base


def _insert_rows(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    mapping: IndexMapping,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
) -> None:
    arrays = {"_id": pa.array([row["_id"] for row in rows], pa.string())}
    for name in columns:
        item = mapping.fields[name]
        values = [row.get(name) for row in rows]
        if item.multi_valued:  # rows written before the field became multi-valued hold scalars
            values = [v if v is None or type(v) is list else [v] for v in values]
        arrays[name] = pa.array(values, _arrow_type(item))
    batch = pa.table(arrays)
    conn.register("_vigil_batch", batch)
    try:
        conn.execute(f"INSERT INTO {quote(table)} BY NAME SELECT * FROM _vigil_batch")
    finally:
        conn.unregister("_vigil_batch")
