"""The test indices, loaded as Elasticsearch's `CsvTestsDataLoader` loads them, over HTTP.

A dataset CSV starts with a typed header (`name:type`, comma separated); `//` lines are comments;
an empty cell is a missing field; `[a, b]` is a multi-value (commas inside escaped as `\\,`);
`_id` names the document id. Each index is created with `PUT /{index}` from its mapping file
(fields the stored mapping lacks take the type the CSV header declares) and filled with
`POST /{index}/_bulk`, each document built exactly as the Java loader builds it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_NUMERIC = re.compile(r"-?\d+(\.\d+)?")
BULK_CHUNK_BYTES = 100_000  # CsvTestsDataLoader.BULK_DATA_SIZE


class DatasetError(RuntimeError):
    pass


@dataclass(frozen=True)
class Dataset:
    """One `CsvTestsDataLoader.TestDataset`: an index, its mapping, data and settings files."""

    index: str
    data: str | None  # file under fixtures/data/, None for an empty index
    mapping: str | None = None  # file under fixtures/mappings/, None to use the CSV header's types
    settings: str | None = None  # file under fixtures/settings/
    allow_subfields: bool = True  # False: dotted CSV columns are multi-fields, not sent
    type_overrides: Mapping[str, str | None] = field(default_factory=dict)  # None removes the field
    dynamic: str | None = None
    # `withDynamicTypeMapping`: CSV columns the mapping lacks that Elasticsearch maps dynamically
    # from the values sent (a string becomes `text` with a `keyword` sub-field).
    dynamic_types: Mapping[str, str] = field(default_factory=dict)


def _variant(base: Dataset, index: str, **changes: Any) -> Dataset:
    values = {**base.__dict__, "index": index, **changes}
    return Dataset(**values)


_EMPLOYEES = Dataset("employees", "employees.csv", "mapping-default.json", allow_subfields=False)
_LANGUAGES = Dataset("languages", "languages.csv", "mapping-languages.json")
_HOSTS = Dataset("hosts", "hosts.csv", "mapping-hosts.json")
_APPS = Dataset("apps", "apps.csv", "mapping-apps.json")
_SAMPLE_DATA = Dataset("sample_data", "sample_data.csv")

# The datasets of CsvTestsDataLoader.CSV_DATASET that the kit's spec files use (same index names,
# files and per-index variations).
DATASETS: dict[str, Dataset] = {
    d.index: d
    for d in [
        _EMPLOYEES,
        _LANGUAGES,
        _variant(_LANGUAGES, "languages_lookup", settings="lookup-settings.json"),
        _variant(
            _LANGUAGES,
            "languages_lookup_non_unique_key",
            data="languages_non_unique_key.csv",
            settings="lookup-settings.json",
            dynamic_types={"country": "text"},
        ),
        Dataset("message_types_lookup", "message_types.csv", "mapping-message_types.json", "lookup-settings.json"),
        _HOSTS,
        _variant(_HOSTS, "hosts_ip_is_kwd", type_overrides={"ip0": "keyword", "ip1": "keyword"}),
        _APPS,
        _variant(_APPS, "apps_short", type_overrides={"id": "short"}),
        Dataset("ul_logs", "ul_logs.csv", "mapping-ul_logs.json"),
        _SAMPLE_DATA,
        _variant(_SAMPLE_DATA, "sample_data_str", type_overrides={"client_ip": "keyword"}),
        _variant(
            _SAMPLE_DATA, "sample_data_ts_long", data="sample_data_ts_long.csv", type_overrides={"@timestamp": "long"}
        ),
        Dataset("mv_sample_data", "mv_sample_data.csv"),
        Dataset("logs", "logs.csv"),
        Dataset("mv_sample", "mv_sample.csv", "mapping-mv_sample.json"),
        Dataset("addresses", "addresses.csv", "mapping-addresses.json"),
        Dataset("wide", "wide.csv", "mapping-wide.json"),
        Dataset("trim_test", "trim_test.csv", "mapping-trim_test.json"),
        Dataset("mv_text", "mv_text.csv", "mapping-mv_text.json"),
        Dataset("conv_from_keyword", "conv_from_keyword.csv", "mapping-conv_from_keyword.json"),
        Dataset("base_conversion", "base_conversion.csv", "mapping-base_conversion.json"),
        # Empty indices (`.noData()` upstream): only their mappings matter to the tests.
        Dataset("firewall_logs", None, "mapping-firewall_logs.json"),
        Dataset("threat_list", None, "mapping-threat_list.json", "lookup-settings.json"),
        Dataset("app_logs", None, "mapping-app_logs.json"),
        Dataset("service_owners", None, "mapping-service_owners.json", "lookup-settings.json"),
        Dataset("system_metrics", None, "mapping-system_metrics.json"),
        Dataset("host_inventory", None, "mapping-host_inventory.json", "lookup-settings.json"),
        Dataset("ownerships", None, "mapping-ownerships.json", "lookup-settings.json"),
    ]
}


# --- CSV reading (CsvTestUtils.multiValuesAwareCsvToStringArray) ------------------------------


def split_csv_line(line: str, line_number: int = 0) -> list[str]:
    """Comma-separated entries, trimmed, with `[a, b]` joined back into one entry `a,b`."""
    entries: list[str] = []
    multi: list[str] | None = None
    pieces = _split_keeping_escaped_commas(line)
    for index, raw in enumerate(pieces):
        entry = raw.strip()
        last = index == len(pieces) - 1
        if entry.startswith("["):
            if multi is not None or (last and not entry.endswith("]")):
                raise DatasetError(f"Error line [{line_number}]: Unexpected start of a multi-value field value")
            if entry.endswith("]"):
                entries.append(entry[1:-1] if len(entry) > 2 else "")
            else:
                multi = [entry[1:]]
        elif entry.endswith("]"):
            if multi is None:
                raise DatasetError(f"Error line [{line_number}]: Unexpected end of a multi-value field value")
            multi.append(entry[:-1])
            entries.append(",".join(multi))
            multi = None
        elif multi is not None:
            if entry == "":
                raise DatasetError(f"Error line [{line_number}]: Unexpected missing value in a multi-value column")
            multi.append(entry)
        else:
            entries.append(entry)
    return entries


def _split_keeping_escaped_commas(line: str) -> list[str]:
    return _UNESCAPED_COMMA.split(line)


@dataclass(frozen=True)
class Column:
    name: str
    type: str | None


def read_csv(text: str) -> tuple[list[Column], list[list[str]]]:
    """The header columns and the raw entries of every data row."""
    columns: list[Column] | None = None
    rows: list[list[str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        entries = split_csv_line(line, number)
        if columns is None:
            columns = [Column(*(e.split(":", 1) if ":" in e else (e, None))) for e in entries]
            columns = [Column(c.name.strip(), c.type.strip() if c.type else None) for c in columns]
            continue
        if len(entries) != len(columns):
            raise DatasetError(
                f"Error line [{number}]: Incorrect number of entries; "
                f"expected [{len(columns)}] but found [{len(entries)}]"
            )
        rows.append(entries)
    if columns is None:
        raise DatasetError("a dataset without a header")
    return columns, rows


# --- documents (CsvTestsDataLoader.parseDocument / toJson) -------------------------------------


def _to_json(type_name: str | None, value: str) -> str:
    if type_name in ("text", "keyword"):
        content = value[1:-1] if len(value) >= 2 and value.startswith('"') and value.endswith('"') else value
        return '"' + content.replace('"', '\\"') + '"'
    quoted = (value.startswith('"') and value.endswith('"')) or (value.startswith("{") and value.endswith("}"))
    return value if quoted or _NUMERIC.fullmatch(value) else '"' + value + '"'


def document_json(columns: list[Column], entries: list[str], allow_subfields: bool) -> tuple[str | None, str]:
    """(document id or None, document JSON text) for one CSV row, as the Java loader writes it."""
    parts: list[str] = []
    doc_id: str | None = None
    for column, entry in zip(columns, entries, strict=True):
        if not allow_subfields and "." in column.name:
            continue  # a multi-field: Elasticsearch fills it from its parent
        if entry == "":
            continue
        if column.name == "_id":
            doc_id = entry
            continue
        values = _UNESCAPED_COMMA.split(entry)
        if len(values) > 1:
            rendered = "[" + ",".join(_to_json(column.type, v) for v in values) + "]"
        else:
            rendered = _to_json(column.type, entry)
        parts.append('"' + column.name + '":' + rendered.replace("\\,", ","))
    return doc_id, "{" + ",".join(parts) + "}"


def documents(dataset: Dataset) -> Iterator[tuple[str | None, str]]:
    if dataset.data is None:
        return
    columns, rows = read_csv((FIXTURES / "data" / dataset.data).read_text(encoding="utf-8"))
    for entries in rows:
        yield document_json(columns, entries, dataset.allow_subfields)


# --- mappings (CsvTestsDataLoader.readMappingFile) ---------------------------------------------


def _properties_for(mapping: dict[str, Any], dotted: str, create: bool) -> tuple[dict[str, Any] | None, str]:
    """The `properties` object that holds the last segment of `dotted`, and that segment."""
    segments = dotted.split(".")
    properties = mapping.setdefault("properties", {}) if create else mapping.get("properties")
    for segment in segments[:-1]:
        if properties is None:
            return None, segments[-1]
        child = properties.get(segment)
        if child is None:
            if not create:
                return None, segments[-1]
            child = properties[segment] = {"properties": {}}
        properties = child.setdefault("properties", {}) if create else child.get("properties")
    return properties, segments[-1]


def _is_mapped(mapping: dict[str, Any], dotted: str) -> bool:
    """Mapped as a field, an object path, or a multi-field (`fields`) of a field."""
    segments = dotted.split(".")
    node: dict[str, Any] | None = {"properties": mapping.get("properties", {})}
    for segment in segments:
        if node is None:
            return False
        children = {**node.get("properties", {}), **node.get("fields", {})}
        node = children.get(segment)
    return node is not None


# What Elasticsearch's dynamic mapping gives a field first seen with a value of that kind.
_DYNAMIC: dict[str, dict[str, Any]] = {
    "text": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
}


def mapping_for(dataset: Dataset) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    if dataset.mapping:
        mapping = json.loads((FIXTURES / "mappings" / dataset.mapping).read_text(encoding="utf-8"))
    if dataset.data:
        columns, _ = read_csv((FIXTURES / "data" / dataset.data).read_text(encoding="utf-8"))
        for column in columns:
            if column.type is None or column.name == "_id" or _is_mapped(mapping, column.name):
                continue
            if column.name in dataset.dynamic_types:
                properties, leaf = _properties_for(mapping, column.name, create=True)
                assert properties is not None
                properties[leaf] = _DYNAMIC[dataset.dynamic_types[column.name]]
                continue
            if not dataset.allow_subfields and "." in column.name:
                continue
            properties, leaf = _properties_for(mapping, column.name, create=True)
            assert properties is not None
            definition: dict[str, Any] = {"type": column.type}
            if column.type == "scaled_float":
                definition["scaling_factor"] = 100  # the factor the Java harness assumes
            properties[leaf] = definition
    for name, new_type in dataset.type_overrides.items():
        properties, leaf = _properties_for(mapping, name, create=False)
        if properties is None or leaf not in properties:
            continue
        if new_type is None:
            del properties[leaf]
        else:
            properties[leaf]["type"] = new_type
    if dataset.dynamic is not None:
        mapping["dynamic"] = dataset.dynamic
    return mapping


def settings_for(dataset: Dataset) -> dict[str, Any] | None:
    if dataset.settings is None:
        return None
    return dict(json.loads((FIXTURES / "settings" / dataset.settings).read_text(encoding="utf-8")))


# --- loading over HTTP -------------------------------------------------------------------------


def _bulk_bodies(dataset: Dataset) -> Iterator[str]:
    body: list[str] = []
    size = 0
    for doc_id, source in documents(dataset):
        action = {"index": {"_index": dataset.index, **({"_id": doc_id} if doc_id is not None else {})}}
        chunk = json.dumps(action) + "\n" + source + "\n"
        body.append(chunk)
        size += len(chunk)
        if size > BULK_CHUNK_BYTES:
            yield "".join(body)
            body, size = [], 0
    if body:
        yield "".join(body)


def load_dataset(client: httpx.Client, dataset: Dataset) -> int:
    """(Re)creates the index and indexes its documents; returns how many were indexed."""
    deleted = client.delete(f"/{dataset.index}")
    if deleted.status_code not in (200, 404):
        raise DatasetError(f"DELETE /{dataset.index}: {deleted.status_code} {deleted.text}")
    body: dict[str, Any] = {"mappings": mapping_for(dataset)}
    settings = settings_for(dataset)
    if settings:
        body["settings"] = settings
    created = client.put(f"/{dataset.index}", json=body)
    if created.status_code != 200:
        raise DatasetError(f"PUT /{dataset.index}: {created.status_code} {created.text}")
    count = 0
    for ndjson in _bulk_bodies(dataset):
        response = client.post(
            f"/{dataset.index}/_bulk",
            params={"refresh": "true"},
            content=ndjson.encode("utf-8"),
            headers={"content-type": "application/x-ndjson"},
        )
        if response.status_code != 200:
            raise DatasetError(f"POST /{dataset.index}/_bulk: {response.status_code} {response.text[:500]}")
        answer = response.json()
        if answer.get("errors"):
            failed = [item for item in answer["items"] if next(iter(item.values())).get("error")]
            raise DatasetError(f"_bulk into {dataset.index} failed for {len(failed)} documents: {failed[:2]}")
        count += len(answer["items"])
    return count


def load_all(client: httpx.Client, names: list[str] | None = None) -> dict[str, int]:
    """Loads every kit dataset (or the named ones); returns documents indexed per index."""
    chosen = [DATASETS[name] for name in names] if names is not None else list(DATASETS.values())
    return {dataset.index: load_dataset(client, dataset) for dataset in chosen}
