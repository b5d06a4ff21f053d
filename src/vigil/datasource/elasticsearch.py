"""An Elasticsearch cluster as the data source, through the official `elasticsearch` client.

ES|QL goes to the cluster's `_query` unchanged; the cluster parses, verifies and runs it, and its
errors come back as the same ES|QL errors the embedded engine raises. Index expressions resolve
with `_resolve/index` (indices, aliases and data streams by the names queries use), fields with
one `_field_caps` request per name, kept for `elasticsearch_metadata_cache_seconds`.

The credentials are Vigil's own (a service user or an API key with read access): what each
Vigil user may read is decided by Vigil's grants before a query is sent, as with the embedded store.
"""

from __future__ import annotations

import re
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, ElasticsearchWarning

from vigil.datasource.base import DataField, DataIndex, EsqlParams
from vigil.datasource.cluster_errors import cluster_error, esql_error
from vigil.esql.executor import EsqlColumn, EsqlResult
from vigil.esql.printer import name as field_name
from vigil.settings import Settings

# The client repeats each `Warning` header as a Python warning; Vigil returns them with the
# result instead (EsqlResult.warnings), so the copies attributed to this module are dropped.
warnings.filterwarnings("ignore", category=ElasticsearchWarning, module=re.escape(__name__))

# One `Warning` header value: `299 <agent> "<text, \" escaped>"` with an optional quoted date;
# several headers arrive joined by ", ".
_WARNING = re.compile(r'\d{3} \S+ "((?:[^"\\]|\\.)*)"(?: "[^"]*")?')
_ESCAPE = re.compile(r"\\(.)")
# Field types ES|QL cannot read (nested documents) or that only group others.
_CONTAINER_TYPES = frozenset({"object", "nested"})
_METADATA_LOOKUPS = 8  # field_caps requests in flight at once when resolving many names
_PARTIAL_WARNING = "the result is partial: the cluster could not search every shard"


def warning_texts(header: str | None) -> list[str]:
    """The texts of Elasticsearch's `Warning` response headers."""
    if not header:
        return []
    return [_ESCAPE.sub(r"\1", text) for text in _WARNING.findall(header)]


def fields_from_caps(body: Mapping[str, Any]) -> dict[str, DataField]:
    """Leaf fields of a `_field_caps` answer: metadata fields and objects left out, fields inside
    `nested` objects too (ES|QL cannot read them), a field mapped differently across the indices
    behind one name typed as ES|QL types it (keyword for keyword and text, else unsupported)."""
    caps: Mapping[str, Mapping[str, Any]] = body.get("fields") or {}
    nested = [name + "." for name, by_type in caps.items() if "nested" in by_type]
    fields: dict[str, DataField] = {}
    for name, by_type in caps.items():
        if any(item.get("metadata_field") for item in by_type.values()):
            continue
        types = sorted(set(by_type) - _CONTAINER_TYPES)
        if not types or name.startswith(tuple(nested)):
            continue
        if len(types) == 1:
            es_type = types[0]
        elif set(types) <= {"keyword", "text"}:
            es_type = "keyword"
        else:
            es_type = "unsupported"
        fields[name] = DataField(name, es_type)
    return dict(sorted(fields.items()))


def resolved_names(body: Mapping[str, Any]) -> list[str]:
    """Names a `_resolve/index` answer gives queries: data streams, aliases, and the open indices
    that are not the backing index of a data stream also listed."""
    streams = [item["name"] for item in body.get("data_streams") or ()]
    aliases = [item["name"] for item in body.get("aliases") or ()]
    indices = [
        item["name"]
        for item in body.get("indices") or ()
        if item.get("data_stream") not in streams and "closed" not in (item.get("attributes") or ())
    ]
    return sorted(set(indices + aliases + streams))


def _es_params(params: EsqlParams) -> list[Any] | None:
    if params is None:
        return None
    if isinstance(params, dict):
        return [{key: value} for key, value in params.items()]
    return params


class ElasticsearchDataSource:
    def __init__(self, client: Elasticsearch, where: str, metadata_cache_seconds: float = 60.0) -> None:
        self._client = client
        self._where = where  # the cluster's URL, for messages (it never holds credentials)
        self._cache_seconds = metadata_cache_seconds
        self._fields: dict[str, tuple[float, dict[str, DataField]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> ElasticsearchDataSource:
        url = settings.elasticsearch_url
        if not url:
            raise ValueError("VIGIL_ELASTICSEARCH_URL must be set when VIGIL_DATA_SOURCE is elasticsearch")
        options: dict[str, Any] = {
            "request_timeout": settings.elasticsearch_request_timeout_seconds,
            "verify_certs": settings.elasticsearch_verify_certs,
        }
        if settings.elasticsearch_ca_certs is not None:
            options["ca_certs"] = str(settings.elasticsearch_ca_certs)
        if settings.elasticsearch_api_key is not None:
            options["api_key"] = settings.elasticsearch_api_key.get_secret_value()
        elif settings.elasticsearch_username is not None and settings.elasticsearch_password is not None:
            password = settings.elasticsearch_password.get_secret_value()
            options["basic_auth"] = (settings.elasticsearch_username, password)
        if not settings.elasticsearch_verify_certs and urlsplit(url).scheme == "https":
            # The operator chose this; the client's per-request warning would only fill the log.
            options["ssl_show_warn"] = False
        client = Elasticsearch(url, **options)
        return cls(client, url, settings.elasticsearch_metadata_cache_seconds)

    # ---- ES|QL ----------------------------------------------------------------------------
    def esql(self, query: str, params: EsqlParams = None) -> EsqlResult:
        started = time.perf_counter()
        try:
            response = self._client.esql.query(query=query, params=_es_params(params), format="json")
        except (ApiError, TransportError) as exc:
            raise esql_error(exc, self._where) from None
        body = response.body
        columns = [EsqlColumn(str(c["name"]), str(c["type"])) for c in body.get("columns") or ()]
        found = warning_texts(response.meta.headers.get("warning"))
        if body.get("is_partial"):
            found.append(_PARTIAL_WARNING)
        took = body.get("took")
        elapsed = int((time.perf_counter() - started) * 1000)
        return EsqlResult(columns, list(body.get("values") or ()), found, took if isinstance(took, int) else elapsed)

    # ---- metadata --------------------------------------------------------------------------
    def resolve(self, expression: str) -> list[DataIndex]:
        try:
            body = self._client.indices.resolve_index(name=expression).body
        except (ApiError, TransportError) as exc:
            raise cluster_error(exc, self._where) from None
        names = resolved_names(body)
        if len(names) <= 1:
            return [DataIndex(name, self.fields(name)) for name in names]
        with ThreadPoolExecutor(min(len(names), _METADATA_LOOKUPS)) as pool:
            return [DataIndex(name, fields) for name, fields in zip(names, pool.map(self.fields, names), strict=True)]

    def fields(self, name: str) -> dict[str, DataField]:
        """The fields queries over `name` see (cached for the configured time)."""
        now = time.monotonic()
        with self._lock:
            cached = self._fields.get(name)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        try:
            body = self._client.field_caps(index=name, fields="*").body
        except (ApiError, TransportError) as exc:
            raise cluster_error(exc, self._where) from None
        fields = fields_from_caps(body)
        with self._lock:
            self._fields[name] = (now, fields)
        return fields

    def category_values(self, index: str, fields: Sequence[str], max_distinct: int) -> dict[str, list[str]]:
        mapped = self.fields(index)
        names = [name for name in fields if name in mapped and mapped[name].es_type == "keyword"]
        if not names:
            return {}
        # Same two passes as the embedded store: distinct counts (approximate in Elasticsearch),
        # then the values of the fields with few of them.
        counts = self.esql(
            f"FROM {index} | STATS "
            + ", ".join(f"c{i} = COUNT_DISTINCT({field_name(name)})" for i, name in enumerate(names))
        )
        row = counts.values[0] if counts.values else []
        small = [name for name, count in zip(names, row, strict=False) if 0 < (count or 0) <= max_distinct]
        if not small:
            return {}
        values = self.esql(
            f"FROM {index} | STATS " + ", ".join(f"v{i} = VALUES({field_name(name)})" for i, name in enumerate(small))
        )
        found: dict[str, list[str]] = {}
        for name, value in zip(small, values.values[0] if values.values else [], strict=False):
            texts = sorted({str(v) for v in (value if isinstance(value, list) else [value]) if v is not None})
            if 0 < len(texts) <= max_distinct:
                found[name] = texts
        return found

    def close(self) -> None:
        self._client.close()
