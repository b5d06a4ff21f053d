"""The fast lane of ingest: documents that already fit their index's mapping, converted by DuckDB.

Per-document Python (documents.RowBuilder) is exact but costs tens of microseconds a document.
Most documents of a log stream have exactly the fields of the mapping with values of the right
JSON kind, so this module hands a whole batch of raw JSON lines to DuckDB: one SQL statement
parses each line once (`json_transform` level by level), checks that every key is mapped and
every value converts, and produces typed columns, multi-values in doc-values order.

It is deliberately conservative: any row it is not sure about (an unmapped key, a value that
needs Elasticsearch's coercion from a string, a date not in full ISO form with a zone, an IPv6
address, a keyword given as a float...) is reported back as "slow" and goes through RowBuilder,
which decides exactly as it always does — new fields, coercion, or the error. So the two lanes
cannot disagree: this one only takes what it converts identically.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb
import orjson
import pyarrow as pa

from vigil.dataplane.catalog import EsType
from vigil.dataplane.mapping import IndexMapping

_DAY_MS = 86_400_000
_KEYWORDS = frozenset({"keyword", "text", "match_only_text", "wildcard", "constant_keyword", "version"})
_AS_GIVEN = frozenset({"text", "match_only_text"})
_INTEGER_CASTS = {
    "long": "BIGINT",
    "integer": "INTEGER",
    "short": "SMALLINT",
    "byte": "TINYINT",
    "unsigned_long": "UBIGINT",
}
_DOUBLES = frozenset({"double", "float", "half_float", "scaled_float"})
_IPV4 = r"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$"
# Full ISO date-times with a zone: what shippers send, and what DuckDB and Python read alike.
_ISO_ZONED = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
SOURCE_TABLE = "_vigil_source"
_TRAILING_COMMA = re.compile(rb",\s*[]}]")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


_INTEGER = r"-?(0|[1-9][0-9]*)"
# The same patterns around a JSON string's quotes (these values never hold escapes).
_QUOTED_ISO_ZONED = '"' + _ISO_ZONED[1:-1] + '"'
_QUOTED_IPV4 = '"' + _IPV4[1:-1] + '"'
_NUMBER = r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"


def _convert(es_type: EsType, x: str) -> str:
    """SQL turning the JSON text `x` of one value into the stored value, or NULL when RowBuilder
    must decide. The JSON kind is read from the text's first character and a pattern, which
    costs far less than parsing every value again."""
    t = f"CAST({x} AS VARCHAR)"
    is_string = f"left({t}, 1) = '\"'"
    is_integer = f"regexp_full_match({t}, {_sql_string(_INTEGER)})"
    # A JSON string without escapes is its text between the quotes; with escapes, DuckDB unescapes.
    unquoted = f"(CASE WHEN contains({t}, '\\') THEN {x}->>'$' ELSE {t}[2:-2] END)"
    if es_type in _KEYWORDS:
        # Integers and booleans keep their JSON text, as Elasticsearch keeps it. Floats would be
        # re-printed by DuckDB (1e20 -> 100000000000000000000.0): left to RowBuilder.
        return f"CASE WHEN {is_string} THEN {unquoted} WHEN {is_integer} OR {t} IN ('true', 'false') THEN {t} END"
    if es_type in _INTEGER_CASTS:
        return f"CASE WHEN {is_integer} THEN TRY_CAST({t} AS {_INTEGER_CASTS[es_type]}) END"
    if es_type in _DOUBLES:
        number = f"TRY_CAST({t} AS DOUBLE)"
        return f"CASE WHEN regexp_full_match({t}, {_sql_string(_NUMBER)}) AND isfinite({number}) THEN {number} END"
    if es_type == "boolean":
        return f"CASE {t} WHEN 'true' THEN true WHEN 'false' THEN false END"
    if es_type == "date":
        zoned = f"regexp_full_match({t}, {_sql_string(_QUOTED_ISO_ZONED)})"
        parsed = f"CAST(date_trunc('millisecond', TRY_CAST({t}[2:-2] AS TIMESTAMPTZ)) AS TIMESTAMP)"
        return f"CASE WHEN {zoned} THEN {parsed} WHEN {is_integer} THEN epoch_ms(TRY_CAST({t} AS BIGINT)) END"
    if es_type == "ip":
        return f"CASE WHEN regexp_full_match({t}, {_sql_string(_QUOTED_IPV4)}) THEN {t}[2:-2] END"
    raise ValueError(f"no fast conversion for [{es_type}]")


def _json_path_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _order(es_type: EsType, values: str) -> str:
    if es_type in _AS_GIVEN:
        return values
    if es_type in _KEYWORDS:
        return f"list_sort(list_distinct({values}))"
    return f"list_sort({values})"


def field_tree(mapping: IndexMapping) -> dict[str, object]:
    """The mapping's source fields as nested dicts of object keys, each leaf the field's full
    name (multi-fields left out: they are read from their parent's value)."""
    tree: dict[str, object] = {}
    for item in mapping.fields.values():
        if item.source:
            continue
        node = tree
        parts = item.name.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError("a leaf and an object share a path")  # mapping forbids it
            node = child
        node[parts[-1]] = item.name
    return tree


class ColumnarPlan:
    """The conversion SQL for one mapping (built once per mapping version, reused per batch).

    Three statements, each materialised so DuckDB evaluates every expression once per row:
    `levels` parses each object level into a struct of JSON values, `values` converts each
    field and checks that every key is mapped, `final` keeps the rows where every value
    converted (with their partition day).
    """

    def __init__(self, mapping: IndexMapping, require_timestamp: bool) -> None:
        self.mapping = mapping
        tree = field_tree(mapping)
        # One parse for the values (a struct of JSON leaves) and one for the keys of every object.
        objects: list[tuple[str, list[str]]] = []  # (JSON path, SQL of its children's values)
        self._raw: dict[str, str] = {}
        structure = self._walk(tree, "$", "s", objects)
        paths = "[" + ", ".join(_sql_string(path) for path, _ in objects) + "]"
        self.levels_sql = (
            f"SELECT pos, _id, json_transform(src, {_sql_string(orjson.dumps(structure).decode())}) AS s, "
            f"json_keys(src, {paths}) AS k FROM {SOURCE_TABLE}"
        )
        # Every key of an object must be mapped: as many keys as mapped children with a value.
        # (A key holding null, a duplicate key, or [] -- a scalar, an array or {} where an object
        # is mapped -- fail the check and go to RowBuilder, which decides exactly.)
        key_checks = []
        for number, (_, children) in enumerate(objects, start=1):
            present = f"k[{number}]"
            mapped = " + ".join(f"({child} IS NOT NULL)::INTEGER" for child in children)
            check = f"len({present}) > 0 AND len({present}) = {mapped}"
            key_checks.append(check if number == 1 else f"({present} IS NULL OR ({check}))")
        self._key_checks = key_checks
        values = ["pos", "_id"]
        checks = ["_keys_ok"]
        finals = ["pos", "_id"]
        self.field_names = []
        for number, item in enumerate(mapping.fields.values()):
            name = _quote(item.name)
            x = self._raw[item.source_path]
            self.field_names.append(item.name)
            if item.multi_valued:
                elements = f"list_filter(CAST({x} AS JSON[]), lambda e: e IS NOT NULL)"
                converted = f"list_transform({elements}, lambda e: {_convert(item.es_type, 'e')})"
                values.append(
                    f"CASE WHEN {x} IS NULL THEN NULL WHEN json_type({x}) = 'ARRAY' THEN {converted} "
                    f"ELSE [{_convert(item.es_type, x)}] END AS {name}"
                )
                values.append(
                    f"CASE WHEN {x} IS NULL THEN 0 WHEN json_type({x}) = 'ARRAY' THEN len({elements}) "
                    f"ELSE 1 END AS _n{number}"
                )
                checks.append(f"coalesce(list_count({name}), 0) = _n{number}")
                if item.es_type == "ip":  # IP order is by address bytes, which RowBuilder computes
                    checks.append(f"_n{number} <= 1")
                finals.append(f"CASE WHEN len({name}) = 0 THEN NULL ELSE {_order(item.es_type, name)} END AS {name}")
            else:
                values.append(f"{_convert(item.es_type, x)} AS {name}")
                values.append(f"{x} IS NOT NULL AS _r{number}")
                checks.append(f"(NOT _r{number} OR {name} IS NOT NULL)")
                finals.append(name)
        values.append(f"{' AND '.join(self._key_checks)} AS _keys_ok")
        self.values_sql = f"SELECT {', '.join(values)} FROM "  # + the levels table
        day, timestamp_checks = day_sql(mapping, require_timestamp)
        finals.append(f"{day} AS _day")
        checks.extend(timestamp_checks)
        self.final_sql = (
            f"SELECT {', '.join(finals)} FROM ",
            f" WHERE {' AND '.join(checks)}",
        )  # around the values table

    def _walk(
        self, tree: dict[str, object], path: str, access: str, objects: list[tuple[str, list[str]]]
    ) -> dict[str, object]:
        objects.append((path, [f"{access}.{_quote(key)}" for key in tree]))
        structure: dict[str, object] = {}
        for key, child in tree.items():
            child_path = f"{path}.{_json_path_key(key)}"
            child_access = f"{access}.{_quote(key)}"
            if isinstance(child, dict):
                structure[key] = self._walk(child, child_path, child_access, objects)
            else:
                structure[key] = "JSON"
                self._raw[str(child)] = child_access
        return structure


def convert_batch(
    conn: duckdb.DuckDBPyConnection,
    plan: ColumnarPlan,
    table: str,
    positions: Sequence[int],
    ids: Sequence[str],
    sources: Sequence[bytes],
) -> tuple[set[int], dict[int | None, list[str]]]:
    """Convert `sources` into the temporary `table` (rows that converted, with `_id` and their
    partition `_day`). Returns the positions left to RowBuilder, and per day the fields present."""
    lenient = [n for n, source in enumerate(sources) if _TRAILING_COMMA.search(source)]
    if lenient:
        # DuckDB's JSON reader accepts trailing commas ({"a": 1,}); JSON (and RowBuilder) does
        # not. Such lines (or strings that merely look so) are left to RowBuilder.
        skipped = set(lenient)
        kept = [n for n in range(len(sources)) if n not in skipped]
        slow, days = convert_batch(
            conn, plan, table, [positions[n] for n in kept], [ids[n] for n in kept], [sources[n] for n in kept]
        )
        return slow | {positions[n] for n in lenient}, days
    offsets = pa.array([0, *_accumulate(len(source) for source in sources)], pa.int32())
    data = pa.py_buffer(b"".join(sources))
    text = pa.Array.from_buffers(pa.string(), len(sources), [None, offsets.buffers()[1], data])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return set(positions), {}  # not UTF-8 somewhere: RowBuilder reports it per document
    batch = pa.table({"pos": pa.array(positions, pa.int64()), "_id": pa.array(ids, pa.string()), "src": text})
    conn.register(SOURCE_TABLE, batch)
    try:
        try:
            conn.execute(f"CREATE OR REPLACE TEMP TABLE {table}_levels AS {plan.levels_sql}")
        except duckdb.InvalidInputException:
            # Some line is not JSON (rare): skip those lines; RowBuilder reports them per item.
            conn.execute(f"CREATE OR REPLACE TEMP TABLE {table}_levels AS {plan.levels_sql} WHERE json_valid(src)")
    finally:
        conn.unregister(SOURCE_TABLE)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {table}_values AS {plan.values_sql}{table}_levels")
    head, tail = plan.final_sql
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {head}{table}_values{tail}")
    conn.execute(f"DROP TABLE {table}_levels")
    conn.execute(f"DROP TABLE {table}_values")
    days, converted = present_fields(conn, table, plan.field_names)
    if converted == len(positions):
        return set(), days
    done = {row[0] for row in conn.execute(f"SELECT pos FROM {table}").fetchall()}
    return set(positions) - done, days


def day_sql(mapping: IndexMapping, require_timestamp: bool) -> tuple[str, list[str]]:
    """SQL of a converted row's partition day (over the converted columns), and the checks a
    data stream adds (a timestamp is required)."""
    timestamp = mapping.fields.get("@timestamp")
    day = "NULL::BIGINT"
    if timestamp is not None and timestamp.es_type == "date":
        first = f"list_min({_quote('@timestamp')})" if timestamp.multi_valued else _quote("@timestamp")
        day = f"epoch_ms({first}) // {_DAY_MS}"
    return day, [f"{_quote('@timestamp')} IS NOT NULL"] if require_timestamp else []


def present_fields(
    conn: duckdb.DuckDBPyConnection, table: str, field_names: list[str]
) -> tuple[dict[int | None, list[str]], int]:
    """Per partition day of the converted `table`, the fields at least one row has; and its rows."""
    days: dict[int | None, list[str]] = {}
    rows = 0
    present = "".join(f", count({_quote(name)}) > 0" for name in field_names)
    for row in conn.execute(f"SELECT _day, count(*){present} FROM {table} GROUP BY _day").fetchall():
        day = None if row[0] is None else int(row[0])
        rows += row[1]
        days[day] = [name for name, has in zip(field_names, row[2:], strict=True) if has]
    return days, rows


def _accumulate(lengths: object) -> list[int]:
    total = 0
    result = []
    for length in lengths:  # type: ignore[attr-defined]
        total += length
        result.append(total)
    return result


def insert_converted(
    conn: duckdb.DuckDBPyConnection,
    converted: str,
    table: str,
    day: int | None,
    columns: Sequence[str],
    final: IndexMapping,
    planned: IndexMapping,
) -> None:
    """Insert the converted rows of one day into its partition (columns as the final mapping types them)."""
    projections = ['"_id"']
    for name in columns:
        column = _quote(name)
        if final.fields[name].multi_valued and not planned.fields[name].multi_valued:
            # A later document of this batch made the field multi-valued.
            projections.append(f"CASE WHEN {column} IS NULL THEN NULL ELSE [{column}] END AS {column}")
        else:
            projections.append(column)
    condition = "_day IS NULL" if day is None else f"_day = {int(day)}"
    conn.execute(
        f"INSERT INTO {_quote(table)} BY NAME SELECT {', '.join(projections)} FROM {converted} WHERE {condition}"
    )
