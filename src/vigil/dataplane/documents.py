"""One JSON document to one row of typed values, against (and growing) its index's mapping.

Objects become dotted names (`{"host": {"name": "a"}}` and `{"host.name": "a"}` are the same
field), arrays of objects merge into multi-values per sub-field as Elasticsearch's object type
does, nulls are skipped. A document that does not fit raises DocumentParsingError with
Elasticsearch's wording, and leaves the mapping as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vigil.dataplane.errors import DocumentParsingError, StrictDynamicMappingError
from vigil.dataplane.mapping import TOTAL_FIELDS_LIMIT, FieldMapping, IndexMapping, infer_type
from vigil.dataplane.types import coercer, doc_values_order

_MISSING = object()


def flatten(source: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted path -> scalar or list of scalars (nested arrays flattened, nulls kept for now)."""
    flat: dict[str, Any] = {}
    _flatten_into(flat, source, "")
    return flat


def _add(flat: dict[str, Any], path: str, value: Any) -> None:
    previous = flat.get(path, _MISSING)
    if previous is _MISSING:
        flat[path] = value
        return
    merged = previous if isinstance(previous, list) else [previous]
    merged = [*merged, *(value if isinstance(value, list) else [value])]
    flat[path] = merged


def _flatten_into(flat: dict[str, Any], node: Mapping[str, Any], prefix: str) -> None:
    for key, value in node.items():
        path = prefix + key
        if type(value) is dict:
            _flatten_into(flat, value, path + ".")
        elif type(value) is list:
            _flatten_list(flat, value, path)
        else:
            _add(flat, path, value)


def _flatten_list(flat: dict[str, Any], values: list[Any], path: str) -> None:
    scalars: list[Any] = []
    for item in values:
        if type(item) is dict:
            _flatten_into(flat, item, path + ".")
        elif type(item) is list:
            _flatten_list(flat, item, path)
        else:
            scalars.append(item)
    if scalars:
        _add(flat, path, scalars)


def _preview(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_preview(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RowBuilder:
    """Turns documents into rows for one index, adding dynamically mapped fields as it goes."""

    def __init__(self, mapping: IndexMapping) -> None:
        self.mapping = mapping
        self._refresh()

    def _refresh(self) -> None:
        self._targets = self.mapping.targets()
        self._objects = self.mapping.object_paths()
        self._leaves = {name for name, item in self.mapping.fields.items() if not item.source}
        self._lower = {name.lower(): name for name in self.mapping.fields}
        self._coercers: dict[str, Callable[[Any], Any]] = {}

    def _coercer(self, item: FieldMapping) -> Callable[[Any], Any]:
        found = self._coercers.get(item.es_type)
        if found is None:
            found = self._coercers[item.es_type] = coercer(item.es_type)
        return found

    def build(self, source: Mapping[str, Any], doc_id: str) -> dict[str, Any]:
        """The row (column name -> stored value) for `source`; grows the mapping on success."""
        flat = flatten(source)
        row: dict[str, Any] = {}
        added: list[FieldMapping] = []
        multi: list[str] = []
        for path, raw in flat.items():
            if type(raw) is list:
                values = [v for v in raw if v is not None]
                if not values:
                    continue
                value: Any = values if len(values) > 1 else values[0]
            elif raw is None:
                continue
            else:
                value = raw
            targets = self._targets.get(path)
            if targets is None:
                targets = self._new_field(path, value, doc_id, added)
                if not targets:
                    continue
            for item in targets:
                convert = self._coercer(item)
                try:
                    if type(value) is list:
                        stored: Any = doc_values_order(item.es_type, [convert(v) for v in value])
                        if not item.multi_valued:
                            multi.append(item.name)
                    else:
                        stored = convert(value)
                        if item.multi_valued:
                            stored = [stored]
                except (ValueError, TypeError) as exc:
                    cause = str(exc)
                    raise DocumentParsingError(
                        f"failed to parse field [{item.name}] of type [{item.es_type}] in document with id "
                        f"'{doc_id}'. Preview of field's value: '{_preview(value)}'",
                        {"type": "illegal_argument_exception", "reason": cause}
                        if cause != "unexpected value"
                        else None,
                    ) from None
                row[item.name] = stored
        if added or multi:
            mapping = self.mapping
            for item in added:
                mapping = mapping.with_field(item)
            for name in multi:
                mapping = mapping.with_multi_valued(name)
            if added and len(mapping.fields) > TOTAL_FIELDS_LIMIT:
                raise DocumentParsingError(
                    f"Limit of total fields [{TOTAL_FIELDS_LIMIT}] has been exceeded "
                    f"while adding new fields [{len(added)}]"
                )
            self.mapping = mapping
            self._refresh()
            for name in multi:  # this row's own values of a field that just became multi-valued
                if name in row and type(row[name]) is not list:
                    row[name] = [row[name]]
        return row

    def _new_field(self, path: str, value: Any, doc_id: str, added: list[FieldMapping]) -> list[FieldMapping]:
        for item in added:
            if item.name == path:
                return [item]
        self._check_structure(path, value, doc_id)
        if self.mapping.dynamic == "false":
            return []
        if self.mapping.dynamic == "strict":
            raise StrictDynamicMappingError(
                f"[1:2] mapping set to strict, dynamic introduction of [{path.rsplit('.', 1)[-1]}] within "
                f"[{path.rsplit('.', 1)[0] if '.' in path else '_doc'}] is not allowed"
            )
        first = value[0] if type(value) is list else value
        es_type = infer_type(path, first)
        if es_type is None:
            return []
        if es_type == "ip" and type(value) is list:
            es_type = "keyword" if not all(infer_type(path, v) == "ip" for v in value) else "ip"
        # A field whose values disagree on a dynamic type (1 and "x") fails as Elasticsearch does.
        item = FieldMapping(path, es_type)
        added.append(item)
        return [item]

    def _check_structure(self, path: str, value: Any, doc_id: str) -> None:
        """A new leaf must not sit inside a mapped leaf, nor where an object is mapped."""
        if path in self._objects:
            raise DocumentParsingError(
                f"object mapping for [{path}] tried to parse field [{path}] as object, but found a concrete value"
            )
        clash = self._lower.get(path.lower())
        if clash is not None and clash != path:
            raise DocumentParsingError(
                f"field [{path}] differs only in case from the mapped field [{clash}], which Vigil cannot store"
            )
        parts = path.split(".")
        for end in range(1, len(parts)):
            prefix = ".".join(parts[:end])
            if prefix in self._leaves:
                item = self.mapping.fields[prefix]
                raise DocumentParsingError(
                    f"failed to parse field [{prefix}] of type [{item.es_type}] in document with id '{doc_id}'. "
                    f"Preview of field's value: '{{{path[len(prefix) + 1 :]}={_preview(value)}}}'"
                )
