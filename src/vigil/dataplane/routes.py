"""Elasticsearch's ingest and index APIs over the embedded store, at the root as Elasticsearch has them.

Every route authenticates; writes need the `data_write` grant, reads `data_read`. Data indices
are global (not per Kibana space), as in Elasticsearch. Responses carry
`X-Elastic-Product: Elasticsearch`, which the official clients check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from vigil import __version__
from vigil.auth.principal import Principal
from vigil.dataplane.bulk import SHARDS, run_bulk
from vigil.dataplane.cat import cat_indices
from vigil.dataplane.errors import IllegalArgumentError, IndexNotFoundError
from vigil.dataplane.field_caps import field_caps
from vigil.dataplane.filter_path import apply_filter_path
from vigil.dataplane.names import is_data_stream_name, validate_index_name
from vigil.dataplane.store import DataStore, WriteOp
from vigil.errors import BadRequest, Forbidden
from vigil.web.deps import CurrentPrincipal
from vigil.web.openapi import es_error_responses

router = APIRouter(tags=["data"], responses=es_error_responses(400, 401, 403))

# The Elasticsearch release whose REST API this answers like (the clients read version.number).
COMPATIBLE_ES_VERSION = "9.2.0"
PRODUCT_HEADERS = {"X-Elastic-Product": "Elasticsearch"}
_REFRESH_VALUES = ("", "true", "false", "wait_for")


def es_response(body: Any, status_code: int = 200, filter_path: str | None = None) -> Response:
    content = orjson.dumps(apply_filter_path(body, filter_path))
    return Response(content, status_code=status_code, media_type="application/json", headers=PRODUCT_HEADERS)


def get_data_store(request: Request) -> DataStore:
    return request.app.state.data_store  # type: ignore[no-any-return]


Store = Annotated[DataStore, Depends(get_data_store)]


def _require(grant: Literal["data_read", "data_write"], action: str, privileges: str) -> Callable[..., Principal]:
    def dependency(request: Request, principal: CurrentPrincipal) -> Principal:
        if not getattr(principal.grants, grant):
            target = request.path_params.get("index")
            on = f" on indices [{target}]" if target else ""
            raise Forbidden(
                f"action [{action}] is unauthorized for user [{principal.username}] with effective roles "
                f"[{','.join(principal.roles)}]{on}, this action is granted by the index privileges [{privileges}]"
            )
        return principal

    return dependency


BulkWriter = Annotated[
    Principal, Depends(_require("data_write", "indices:data/write/bulk", "create_doc,create,index,write,all"))
]
DocWriter = Annotated[
    Principal, Depends(_require("data_write", "indices:data/write/index", "create_doc,create,index,write,all"))
]
IndexCreator = Annotated[Principal, Depends(_require("data_write", "indices:admin/create", "create_index,manage,all"))]
IndexDeleter = Annotated[Principal, Depends(_require("data_write", "indices:admin/delete", "delete_index,manage,all"))]
MetadataReader = Annotated[
    Principal, Depends(_require("data_read", "indices:admin/mappings/get", "view_index_metadata,manage,all"))
]
StatsReader = Annotated[Principal, Depends(_require("data_read", "indices:monitor/stats", "monitor,manage,all"))]
FieldCapsReader = Annotated[
    Principal, Depends(_require("data_read", "indices:data/read/field_caps", "view_index_metadata,read,all"))
]

_NOT_FOUND = es_error_responses(404)
_TOO_LARGE = es_error_responses(413)
_DOC_WRITE: dict[int | str, dict[str, Any]] = {201: {"description": "Created."}, **es_error_responses(409)}

FilterPath = Annotated[
    str | None, Query(description="Keep only these parts of the response, e.g. `errors,items.*.error`.")
]
Refresh = Annotated[str | None, Query(description="Accepted for compatibility: writes are visible once acknowledged.")]


def _check_refresh(refresh: str | None) -> None:
    if refresh is not None and refresh not in _REFRESH_VALUES:
        raise IllegalArgumentError(f"Unknown value for refresh: [{refresh}].")


@router.get("/", summary="Cluster information, as Elasticsearch's root endpoint answers it")
def root_info(request: Request, _: CurrentPrincipal) -> Response:
    return es_response(
        {
            "name": "vigil",
            "cluster_name": "vigil",
            "cluster_uuid": request.app.state.instance_uuid,
            "version": {
                "number": COMPATIBLE_ES_VERSION,
                "build_flavor": "default",
                "build_type": "vigil",
                "build_hash": "vigil-" + __version__,
                "build_date": "2026-01-01T00:00:00.000Z",
                "build_snapshot": False,
                "lucene_version": "10.2.2",
                "minimum_wire_compatibility_version": "8.19.0",
                "minimum_index_compatibility_version": "8.0.0",
            },
            "tagline": "You Know, for Search",
        }
    )


# ---- bulk and single documents ------------------------------------------------------------------
async def _bulk(request: Request, store: DataStore, index: str | None, filter_path: str | None) -> Response:
    started = time.monotonic()
    body = await request.body()

    def work() -> bytes:
        return run_bulk(store, body, index, filter_path, started)

    content = await run_in_threadpool(work)
    return Response(content, media_type="application/json", headers=PRODUCT_HEADERS)


@router.post("/_bulk", summary="Index documents in bulk (NDJSON action/source pairs)", responses=_TOO_LARGE)
@router.put("/_bulk", include_in_schema=False)
async def bulk(
    request: Request, store: Store, _: BulkWriter, filter_path: FilterPath = None, refresh: Refresh = None
) -> Response:
    _check_refresh(refresh)
    return await _bulk(request, store, None, filter_path)


@router.post("/{index}/_bulk", summary="Index documents in bulk into a default index", responses=_TOO_LARGE)
@router.put("/{index}/_bulk", include_in_schema=False)
async def bulk_into(
    index: str, request: Request, store: Store, _: BulkWriter, filter_path: FilterPath = None, refresh: Refresh = None
) -> Response:
    _check_refresh(refresh)
    return await _bulk(request, store, index, filter_path)


async def _write_one(
    request: Request, store: DataStore, index: str, doc_id: str | None, op_type: Literal["index", "create"]
) -> Response:
    body = await request.body()
    try:
        source = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"[1:{exc.colno}] failed to parse: {exc.msg}") from None
    if not isinstance(source, dict):
        raise BadRequest("request body must be a JSON object")
    (item,) = await run_in_threadpool(store.write, [WriteOp(op_type, index, doc_id, source)])
    if item.error is not None:
        raise item.error
    return es_response(
        {
            "_index": item.index,
            "_id": item.doc_id,
            "_version": item.version,
            "result": item.result,
            "_shards": SHARDS,
            "_seq_no": item.seq_no,
            "_primary_term": 1,
        },
        status_code=item.status,
    )


OpTypeParam = Annotated[Literal["index", "create"] | None, Query(description="`create` fails if the id exists.")]


@router.post("/{index}/_doc", summary="Index a document with a generated id", responses=_DOC_WRITE)
async def index_document(
    index: str, request: Request, store: Store, _: DocWriter, op_type: OpTypeParam = None, refresh: Refresh = None
) -> Response:
    _check_refresh(refresh)
    return await _write_one(request, store, index, None, op_type or "index")


@router.put("/{index}/_doc/{doc_id}", summary="Index (create or replace) a document by id", responses=_DOC_WRITE)
@router.post("/{index}/_doc/{doc_id}", include_in_schema=False)
async def put_document(
    index: str,
    doc_id: str,
    request: Request,
    store: Store,
    _: DocWriter,
    op_type: OpTypeParam = None,
    refresh: Refresh = None,
) -> Response:
    _check_refresh(refresh)
    return await _write_one(request, store, index, doc_id, op_type or "index")


@router.put("/{index}/_create/{doc_id}", summary="Create a document; 409 if the id exists", responses=_DOC_WRITE)
@router.post("/{index}/_create/{doc_id}", include_in_schema=False)
async def create_document(
    index: str, doc_id: str, request: Request, store: Store, _: DocWriter, refresh: Refresh = None
) -> Response:
    _check_refresh(refresh)
    return await _write_one(request, store, index, doc_id, "create")


# ---- indices ---------------------------------------------------------------------------------
@router.put("/{index}", summary="Create an index, optionally with mappings")
async def create_index(index: str, request: Request, store: Store, _: IndexCreator) -> Response:
    raw = await request.body()
    body: Any = {}
    if raw.strip():
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"[1:{exc.colno}] failed to parse: {exc.msg}") from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    unknown = set(body) - {"mappings", "settings", "aliases"}
    if unknown:
        raise IllegalArgumentError(f"unknown key [{sorted(unknown)[0]}] for create index")
    if body.get("aliases"):
        raise IllegalArgumentError("aliases are not supported by Vigil")
    validate_index_name(index)
    if is_data_stream_name(index):
        raise IllegalArgumentError(
            f"cannot create index with name [{index}], because it matches with template [{index.split('-')[0]}] "
            "that creates data streams only, use create data stream api instead"
        )
    await run_in_threadpool(store.create_index, index, body.get("mappings"))
    return es_response({"acknowledged": True, "shards_acknowledged": True, "index": index})


@router.put("/_data_stream/{name}", summary="Create a data stream")
def create_data_stream(name: str, store: Store, _: IndexCreator) -> Response:
    validate_index_name(name)
    if not is_data_stream_name(name):
        raise IllegalArgumentError(f"no matching index template found for data stream [{name}]")
    store.create_index(name, None, data_stream=True)
    return es_response({"acknowledged": True})


@router.delete("/_data_stream/{name}", summary="Delete a data stream and its data", responses=_NOT_FOUND)
def delete_data_stream(name: str, store: Store, _: IndexDeleter) -> Response:
    info = store.catalog.index(name)
    if info is None or store.kind(info.name) != "data_stream":
        raise IndexNotFoundError(name)
    store.delete_indices(info.name)
    return es_response({"acknowledged": True})


@router.delete("/{index}", summary="Delete indices (concrete names only)", responses=_NOT_FOUND)
def delete_index(index: str, store: Store, _: IndexDeleter) -> Response:
    if "*" in index or index == "_all":
        # Elasticsearch's default action.destructive_requires_name: true.
        raise IllegalArgumentError("Wildcard expressions or all indices are not allowed")
    for name in index.split(","):
        info = store.catalog.index(name)
        if info is not None and store.kind(info.name) == "data_stream":
            raise IllegalArgumentError(
                f"The provided expression [{name}] matches a data stream, specify the corresponding concrete "
                "indices instead."
            )
    store.delete_indices(index)
    return es_response({"acknowledged": True})


@router.head(
    "/{index}",
    summary="Whether an index exists (200 or 404, no body)",
    responses={404: {"description": "Nothing matches the expression (no body)."}},
)
def index_exists(index: str, store: Store, _: MetadataReader) -> Response:
    try:
        found = bool(store.catalog.resolve(index))
    except IndexNotFoundError:
        found = False
    return Response(status_code=200 if found else 404, headers=PRODUCT_HEADERS)


def _reported_names(store: DataStore, expression: str) -> list[tuple[str, str]]:
    """(name Elasticsearch reports, store index) for each resolved index: backing indices for data streams."""
    result = []
    for info in store.catalog.resolve(expression):
        reported = info.name
        if store.kind(info.name) == "data_stream":
            reported = next(stat.name for stat in store.stats(info.name))
        result.append((reported, info.name))
    return result


def _mappings(store: DataStore, expression: str) -> Response:
    return es_response(
        {reported: {"mappings": store.mapping(name).to_es()} for reported, name in _reported_names(store, expression)}
    )


@router.get("/_mapping", summary="Mappings of every index")
def get_all_mappings(store: Store, _: MetadataReader) -> Response:
    return _mappings(store, "*")


@router.get("/{index}/_mapping", summary="Mappings of the resolved indices", responses=_NOT_FOUND)
def get_mapping(index: str, store: Store, _: MetadataReader) -> Response:
    return _mappings(store, index)


@router.get("/{index}", summary="Index definitions (aliases, mappings, settings)", responses=_NOT_FOUND)
def get_index(index: str, store: Store, _: MetadataReader) -> Response:
    if index.startswith("_"):
        raise IndexNotFoundError(index)
    body = {}
    stats = {stat.name: stat for stat in store.stats(index)}
    for reported, name in _reported_names(store, index):
        stat = stats[reported]
        body[reported] = {
            "aliases": {},
            "mappings": store.mapping(name).to_es(),
            "settings": {
                "index": {
                    "number_of_shards": "1",
                    "number_of_replicas": "0",
                    "uuid": stat.uuid,
                    "provided_name": reported,
                    "creation_date": str(stat.created_ms),
                    **({"hidden": "true"} if stat.data_stream else {}),
                }
            },
            **({"data_stream": stat.data_stream} if stat.data_stream else {}),
        }
    return es_response(body)


_CAT_TEXT: dict[int | str, dict[str, Any]] = {
    200: {"description": "The table, or JSON rows with `format=json`.", "content": {"text/plain": {}}}
}
CatFormat = Annotated[str | None, Query(description="`json` for JSON rows; the default is a text table.")]
CatVerbose = Annotated[str | None, Query(description="Present (or `true`): a header row.")]
CatColumns = Annotated[str | None, Query(description="Columns, e.g. `index,docs.count`.")]
CatSort = Annotated[str | None, Query(description="Sort columns, e.g. `docs.count:desc`.")]
CatBytes = Annotated[str | None, Query(description="Unit of sizes: b, kb, mb, gb, tb, pb.")]


def _cat(
    store: DataStore, expression: str, fmt: str | None, v: str | None, h: str | None, s: str | None, unit: str | None
) -> Response:
    if fmt not in (None, "json", "txt", "text"):
        raise IllegalArgumentError(f"Unsupported format [{fmt}]; use json or txt")
    stats = store.stats(expression)
    as_json = fmt == "json"
    verbose = v is not None and v != "false"
    body = cat_indices(stats, h=h, s=s, v=verbose, bytes_unit=unit, as_json=as_json)
    if as_json:
        return es_response(body)
    return Response(body, media_type="text/plain; charset=UTF-8", headers=PRODUCT_HEADERS)


@router.get("/_cat/indices", summary="List indices (text table or format=json)", responses=_CAT_TEXT)
def cat(
    store: Store,
    _: StatsReader,
    format: CatFormat = None,
    v: CatVerbose = None,
    h: CatColumns = None,
    s: CatSort = None,
    bytes: CatBytes = None,
) -> Response:
    return _cat(store, "*,.*", format, v, h, s, bytes)


@router.get("/_cat/indices/{index}", summary="List the resolved indices", responses={**_CAT_TEXT, **_NOT_FOUND})
def cat_of(
    index: str,
    store: Store,
    _: StatsReader,
    format: CatFormat = None,
    v: CatVerbose = None,
    h: CatColumns = None,
    s: CatSort = None,
    bytes: CatBytes = None,
) -> Response:
    return _cat(store, index, format, v, h, s, bytes)


async def _field_caps(request: Request, store: DataStore, index: str, fields: str | None) -> Response:
    if fields is None and request.method == "POST":
        raw = await request.body()
        if raw.strip():
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise BadRequest(f"[1:{exc.colno}] failed to parse: {exc.msg}") from None
            value = body.get("fields") if isinstance(body, dict) else None
            fields = ",".join(value) if isinstance(value, list) else value
    if not fields:
        raise BadRequest("Validation Failed: 1: specified fields can't be null or empty;")
    pairs = [(reported, store.catalog.index(name)) for reported, name in _reported_names(store, index)]
    return es_response(field_caps([(reported, info) for reported, info in pairs if info is not None], fields))


@router.get("/_field_caps", summary="Field capabilities across every index", responses=_NOT_FOUND)
@router.post("/_field_caps", include_in_schema=False)
async def field_caps_all(request: Request, store: Store, _: FieldCapsReader, fields: str | None = None) -> Response:
    return await _field_caps(request, store, "*", fields)


@router.get("/{index}/_field_caps", summary="Field capabilities of the resolved indices", responses=_NOT_FOUND)
@router.post("/{index}/_field_caps", include_in_schema=False)
async def field_caps_of(
    index: str, request: Request, store: Store, _: FieldCapsReader, fields: str | None = None
) -> Response:
    return await _field_caps(request, store, index, fields)
