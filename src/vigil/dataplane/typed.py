"""The typed lane of ingest: a whole batch parsed by Arrow's JSON reader against the mapping.

The columnar lane (columnar.py) asks DuckDB to parse every line into JSON leaves and then to
read each leaf's kind from its text: about 1.5 CPU seconds per 100k ECS-like documents. When
the mapping is known, Arrow's reader can parse the batch straight into typed columns with the
mapping as an explicit schema, in about a fifth of that, and it is strict: any key the mapping
lacks, any value of the wrong JSON kind (a number where a string is mapped, a string where a
number is, a float in an integer field, an out-of-range integer, a scalar where an array or an
object is expected), a duplicate key or malformed JSON fails the whole batch. Such a batch
returns None here and goes through the columnar lane exactly as before, so the typed lane only
ever sees batches where every value already has the JSON kind its field needs.

What Arrow accepts but Vigil must not take as is goes to RowBuilder row by row, as in the
columnar lane: dates that are not full ISO strings with a zone, IPv6 (or malformed) addresses,
NaN and infinities (Arrow reads them; JSON and RowBuilder do not), null elements in arrays,
empty objects and empty documents. The remaining conversions, multi-value ordering and the
partition day are the columnar lane's own expressions, so both lanes write the same rows.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import duckdb
import pyarrow as pa
import pyarrow.json as pa_json

from vigil.dataplane.catalog import EsType
from vigil.dataplane.columnar import (
    _DOUBLES,
    _INTEGER_CASTS,
    _IPV4,
    _ISO_ZONED,
    _KEYWORDS,
    _order,
    _quote,
    _sql_string,
    day_sql,
    field_tree,
    present_fields,
)
from vigil.dataplane.mapping import IndexMapping

PARSED_TABLE = "_vigil_parsed"
_SOURCE = "_vigil_src"  # alias of the parsed table in the conversion SQL
_ARROW_INTEGERS = {
    "long": pa.int64(),
    "integer": pa.int32(),
    "short": pa.int16(),
    "byte": pa.int8(),
    "unsigned_long": pa.uint64(),
}
# After a batch Arrow refused, the next few batches of that mapping skip the attempt (a stream
# with odd documents in every batch would otherwise pay for two parses).
SKIP_AFTER_REFUSAL = 8
_RESERVED = frozenset({"pos", "_id", "_day"})  # the converted table's own columns
_UTF8_BOM = b"\xef\xbb\xbf"  # Arrow skips it at the start of a buffer; JSON parsers refuse it


def _arrow_type(es_type: EsType) -> pa.DataType:
    if es_type in _KEYWORDS or es_type in ("date", "ip"):
        return pa.string()
    if es_type in _ARROW_INTEGERS:
        return _ARROW_INTEGERS[es_type]
    if es_type in _DOUBLES:
        return pa.float64()
    if es_type == "boolean":
        return pa.bool_()
    raise ValueError(f"no typed conversion for [{es_type}]")


def _convert(es_type: EsType, x: str) -> str:
    """SQL turning the typed value `x` into the stored value, or NULL where RowBuilder must decide
    (the same conditions as columnar._convert, on values Arrow already typed)."""
    if es_type in _KEYWORDS or es_type in _INTEGER_CASTS or es_type == "boolean":
        return x
    if es_type in _DOUBLES:
        return f"CASE WHEN isfinite({x}) THEN {x} END"
    if es_type == "date":
        parsed = f"CAST(date_trunc('millisecond', TRY_CAST({x} AS TIMESTAMPTZ)) AS TIMESTAMP)"
        return f"CASE WHEN regexp_full_match({x}, {_sql_string(_ISO_ZONED)}) THEN {parsed} END"
    if es_type == "ip":
        return f"CASE WHEN regexp_full_match({x}, {_sql_string(_IPV4)}) THEN {x} END"
    raise ValueError(f"no typed conversion for [{es_type}]")


class TypedPlan:
    """Arrow schema and conversion SQL for one mapping (built once per mapping version).

    Raises ValueError when the mapping has a type or shape this lane does not handle; the
    columnar lane then takes every batch."""

    def __init__(self, mapping: IndexMapping, require_timestamp: bool) -> None:
        self.mapping = mapping
        self.skip = 0  # batches left to send straight to the columnar lane
        tree = field_tree(mapping)
        if not tree:
            raise ValueError("no fields")
        self._access: dict[str, str] = {}
        shape_checks: list[str] = []
        self.schema = pa.schema(self._walk(tree, _SOURCE, shape_checks, root=True))
        values = ["_vigil_pos", "_vigil_id", f"{' AND '.join(shape_checks)} AS _vigil_shape_ok"]
        checks = ["_vigil_shape_ok"]
        finals = ["_vigil_pos AS pos", "_vigil_id AS _id"]
        for number, item in enumerate(mapping.fields.values()):
            if item.name in _RESERVED or item.name.startswith("_vigil"):
                raise ValueError(f"a field named like a working column: [{item.name}]")
            parent = mapping.fields.get(item.source_path)
            if parent is None or parent.multi_valued != item.multi_valued:
                raise ValueError("a multi-field unlike its parent")
            if _arrow_type(parent.es_type) != _arrow_type(item.es_type):
                raise ValueError("a multi-field of another JSON kind than its parent")
            name = _quote(item.name)
            x = self._access[item.source_path]
            if item.multi_valued:
                converted = _convert(item.es_type, "e")
                values.append(x if converted == "e" else f"list_transform({x}, lambda e: {converted})")
                values[-1] += f" AS {name}"
                values.append(f"CASE WHEN {x} IS NULL THEN 0 ELSE len({x}) END AS _vigil_n{number}")
                # Null elements, or elements that did not convert, leave the count short.
                checks.append(f"coalesce(list_count({name}), 0) = _vigil_n{number}")
                if item.es_type == "ip":  # IP order is by address bytes, which RowBuilder computes
                    checks.append(f"_vigil_n{number} <= 1")
                finals.append(f"CASE WHEN len({name}) = 0 THEN NULL ELSE {_order(item.es_type, name)} END AS {name}")
            else:
                converted = _convert(item.es_type, x)
                values.append(f"{converted} AS {name}")
                if converted != x:  # a value that did not convert leaves a NULL behind
                    values.append(f"{x} IS NOT NULL AS _vigil_r{number}")
                    checks.append(f"(NOT _vigil_r{number} OR {name} IS NOT NULL)")
                finals.append(name)
        day, timestamp_checks = day_sql(mapping, require_timestamp)
        finals.append(f"{day} AS _day")
        checks.extend(timestamp_checks)
        self.field_names = list(mapping.fields)
        self.sql = (
            f"WITH _vigil_values AS MATERIALIZED (SELECT {', '.join(values)} FROM {PARSED_TABLE} AS {_SOURCE}) "
            f"SELECT {', '.join(finals)} FROM _vigil_values WHERE {' AND '.join(checks)}"
        )

    def _walk(self, tree: dict[str, object], access: str, shape_checks: list[str], root: bool) -> list[pa.Field]:
        fields: list[pa.Field] = []
        children: list[str] = []
        for key, child in tree.items():
            child_access = f"{access}.{_quote(key)}"
            children.append(f"{child_access} IS NOT NULL")
            if isinstance(child, dict):
                fields.append(pa.field(key, pa.struct(self._walk(child, child_access, shape_checks, root=False))))
            else:
                item = self.mapping.fields[str(child)]
                arrow = _arrow_type(item.es_type)
                fields.append(pa.field(key, pa.list_(arrow) if item.multi_valued else arrow))
                self._access[str(child)] = child_access
        # An empty document, or an empty object where one is mapped ({} and {"host": {}}), is
        # left to RowBuilder, as the columnar lane leaves it.
        some_value = " OR ".join(children)
        shape_checks.append(f"({some_value})" if root else f"({access} IS NULL OR {some_value})")
        return fields


def convert_typed(
    conn: duckdb.DuckDBPyConnection,
    plan: TypedPlan,
    table: str,
    positions: Sequence[int],
    ids: Sequence[str],
    sources: Sequence[bytes],
) -> tuple[set[int], dict[int | None, list[str]]] | None:
    """As columnar.convert_batch (rows that converted into the temporary `table`; positions left
    to RowBuilder; fields present per day), or None when Arrow refused the batch."""
    if plan.skip:
        plan.skip -= 1
        return None
    data = b"\n".join(sources)
    if data.startswith(_UTF8_BOM):
        return None
    try:
        data.decode("utf-8")  # Arrow's reader does not validate UTF-8
        parsed = pa_json.read_json(
            io.BytesIO(data),
            read_options=pa_json.ReadOptions(use_threads=True, block_size=1 << 20),
            parse_options=pa_json.ParseOptions(explicit_schema=plan.schema, unexpected_field_behavior="error"),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        plan.skip = SKIP_AFTER_REFUSAL
        return None
    if parsed.num_rows != len(sources):  # two documents on one line: the other lanes report it
        return None
    parsed = parsed.append_column("_vigil_pos", pa.array(positions, pa.int64()))
    parsed = parsed.append_column("_vigil_id", pa.array(ids, pa.string()))
    conn.register(PARSED_TABLE, parsed)
    try:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {plan.sql}")
    finally:
        conn.unregister(PARSED_TABLE)
    days, converted = present_fields(conn, table, plan.field_names)
    if converted == len(positions):
        return set(), days
    done = {row[0] for row in conn.execute(f"SELECT pos FROM {table}").fetchall()}
    return set(positions) - done, days
