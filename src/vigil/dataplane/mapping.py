"""An index's mapping: explicit definitions in Elasticsearch's JSON, and Vigil's dynamic rules.

Dynamic mapping (a field seen for the first time, `dynamic: true`), decided on its first value:
- a string that reads as a date (yyyy-MM-dd, optional time and offset) -> `date`;
- a string in a field named `message` or `*.message` -> `text` (free text, as ECS maps it);
- a string in a field named `ip` or `*.ip` that parses as an address -> `ip` (ECS names);
- any other string -> `keyword` (Elasticsearch's own default is `text` with a `.keyword`
  sub-field; logs want exact values, which is what ECS and the `logs-*-*` templates choose);
- an integer -> `long`, a float -> `double`, a boolean -> `boolean`;
- objects are flattened to dotted names, nulls and empty arrays map nothing.
A type, once mapped, never changes; later values are coerced to it or the document is rejected.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from vigil.dataplane.catalog import EsType
from vigil.dataplane.errors import MapperParsingError
from vigil.dataplane.types import SUPPORTED_TYPES, looks_like_date

Dynamic = Literal["true", "false", "strict"]
TOTAL_FIELDS_LIMIT = 1000  # Elasticsearch's index.mapping.total_fields.limit default

# Mapping parameters Vigil accepts and reports back but does not act on.
_PASSIVE_PARAMS = frozenset(
    {"ignore_above", "index", "doc_values", "store", "norms", "analyzer", "search_analyzer", "format",
     "null_value", "coerce", "similarity", "index_options", "scaling_factor", "meta", "value",
     "time_series_dimension", "time_series_metric", "eager_global_ordinals", "fielddata"}
)  # fmt: skip


@dataclass(frozen=True)
class FieldMapping:
    name: str  # dotted path, e.g. "host.name" or "message.keyword" for a multi-field
    es_type: EsType
    multi_valued: bool = False
    source: str = ""  # document path the value comes from: the field itself, or a multi-field's parent
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def source_path(self) -> str:
        return self.source or self.name


@dataclass
class IndexMapping:
    fields: dict[str, FieldMapping] = field(default_factory=dict)
    dynamic: Dynamic = "true"

    # ---- queries -------------------------------------------------------------------------
    def object_paths(self) -> set[str]:
        """Every object (non-leaf) path implied by the fields: "host" for "host.name"."""
        paths = set()
        for item in self.fields.values():
            if item.source:
                continue  # a multi-field's parent is a leaf, not an object
            parts = item.name.split(".")
            for end in range(1, len(parts)):
                paths.add(".".join(parts[:end]))
        return paths

    def targets(self) -> dict[str, list[FieldMapping]]:
        """Document path -> the fields filled from it (the field and its multi-fields)."""
        result: dict[str, list[FieldMapping]] = {}
        for item in self.fields.values():
            result.setdefault(item.source_path, []).append(item)
        return result

    # ---- changes -------------------------------------------------------------------------
    def with_field(self, item: FieldMapping) -> IndexMapping:
        fields = dict(self.fields)
        fields[item.name] = item
        return IndexMapping(fields, self.dynamic)

    def with_multi_valued(self, name: str) -> IndexMapping:
        fields = dict(self.fields)
        fields[name] = replace(fields[name], multi_valued=True)
        return IndexMapping(fields, self.dynamic)

    # ---- Elasticsearch JSON ---------------------------------------------------------------
    def to_es(self) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for item in sorted(self.fields.values(), key=lambda f: f.name):
            if item.source:
                continue
            node = properties
            parts = item.name.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {}).setdefault("properties", {})
            leaf: dict[str, Any] = {"type": item.es_type, **item.params}
            subfields = {
                sub.name[len(item.name) + 1 :]: {"type": sub.es_type, **sub.params}
                for sub in self.fields.values()
                if sub.source == item.name
            }
            if subfields:
                leaf["fields"] = subfields
            node[parts[-1]] = leaf
        body: dict[str, Any] = {}
        if self.dynamic != "true":
            body["dynamic"] = self.dynamic
        body["properties"] = properties
        return body

    @classmethod
    def from_es(cls, body: Any) -> IndexMapping:
        if body is None:
            return cls()
        if not isinstance(body, dict):
            raise MapperParsingError("Failed to parse mapping: mappings must be an object")
        if "_doc" in body and isinstance(body["_doc"], dict) and len(body) == 1:
            body = body["_doc"]  # the typed form older clients still send
        unknown = set(body) - {"properties", "dynamic", "_source", "_meta", "date_detection", "dynamic_templates"}
        if unknown:
            raise MapperParsingError(f"Root mapping definition has unsupported parameters: {sorted(unknown)}")
        if body.get("dynamic_templates"):
            raise MapperParsingError("dynamic_templates are not supported by Vigil")
        mapping = cls(dynamic=_dynamic(body.get("dynamic", "true")))
        for item in _walk_properties(body.get("properties") or {}, ""):
            mapping.fields[item.name] = item
        _check_case_clashes(mapping.fields)
        if len(mapping.fields) > TOTAL_FIELDS_LIMIT:
            raise MapperParsingError(f"Limit of total fields [{TOTAL_FIELDS_LIMIT}] has been exceeded")
        return mapping

    # ---- persistence ----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "dynamic": self.dynamic,
            "fields": [
                {
                    "name": f.name,
                    "type": f.es_type,
                    "multi": f.multi_valued,
                    "source": f.source,
                    "params": dict(f.params),
                }
                for f in self.fields.values()
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IndexMapping:
        fields = {
            item["name"]: FieldMapping(item["name"], item["type"], item["multi"], item["source"], item["params"])
            for item in data["fields"]
        }
        return cls(fields, data["dynamic"])


def infer_type(name: str, value: Any) -> EsType | None:
    """The type dynamic mapping gives a field first seen with this scalar (None: map nothing)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        leaf = name.rsplit(".", 1)[-1]
        if looks_like_date(value):
            return "date"
        if leaf == "message":
            return "text"
        if leaf == "ip" and _is_ip(value):
            return "ip"
        return "keyword"
    return None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _dynamic(value: Any) -> Dynamic:
    text = str(value).lower()
    if text not in ("true", "false", "strict"):
        if text == "runtime":
            raise MapperParsingError("dynamic [runtime] is not supported by Vigil")
        raise MapperParsingError(f"Could not convert [dynamic] to boolean: [{value}]")
    return text  # type: ignore[return-value]


def _walk_properties(properties: Any, prefix: str) -> Iterator[FieldMapping]:
    if not isinstance(properties, dict):
        raise MapperParsingError(f"Expected map for property [properties] on field [{prefix or '_doc'}]")
    for key, definition in properties.items():
        name = f"{prefix}{key}"
        if not key or not isinstance(definition, dict):
            raise MapperParsingError(f"Expected map for property [fields] on field [{name}]")
        es_type = definition.get("type", "object" if "properties" in definition else None)
        if es_type is None:
            raise MapperParsingError(f"No type specified for field [{name}]")
        if es_type == "object":
            yield from _walk_properties(definition.get("properties") or {}, f"{name}.")
            continue
        if es_type not in SUPPORTED_TYPES:
            raise MapperParsingError(
                f"The mapper type [{es_type}] declared on field [{name}] is not supported by Vigil"
            )
        yield FieldMapping(name, es_type, params=_params(name, definition))
        for sub_key, sub_definition in (definition.get("fields") or {}).items():
            sub_name = f"{name}.{sub_key}"
            sub_type = sub_definition.get("type") if isinstance(sub_definition, dict) else None
            if sub_type not in SUPPORTED_TYPES:
                raise MapperParsingError(
                    f"The mapper type [{sub_type}] declared on field [{sub_name}] is not supported"
                )
            yield FieldMapping(sub_name, sub_type, source=name, params=_params(sub_name, sub_definition))


def _params(name: str, definition: Mapping[str, Any]) -> dict[str, Any]:
    params = {k: v for k, v in definition.items() if k not in ("type", "fields")}
    unsupported = set(params) - _PASSIVE_PARAMS
    if unsupported:
        raise MapperParsingError(
            f"unknown parameter [{sorted(unsupported)[0]}] on mapper [{name}] of type [{definition.get('type')}]"
        )
    return params


def _check_case_clashes(fields: Mapping[str, FieldMapping]) -> None:
    # DuckDB column names are case-insensitive; Elasticsearch field names are not.
    seen: dict[str, str] = {}
    for name in fields:
        other = seen.setdefault(name.lower(), name)
        if other != name:
            raise MapperParsingError(f"fields [{other}] and [{name}] differ only in case, which Vigil cannot store")
