"""HTTP around the data source.

- `GET /_resolve/index/{name}`: Elasticsearch's resolve index API over the embedded store. The
  Elasticsearch data source resolves names with it, so one Vigil can serve another as its cluster.
- `store_routes_gate`: with `VIGIL_DATA_SOURCE=elasticsearch` Vigil opens no store, and the
  store's routes (ingest, index management, mappings, `_field_caps`, `_cat/indices`, this one)
  answer a clear 400 instead. They are not forwarded: Vigil's credentials for the cluster are its
  own, and passing writes through them would let any Vigil user with `data_write` write to
  whatever those credentials reach. Ship data to the cluster directly.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from vigil.dataplane.names import is_hidden
from vigil.dataplane.routes import MetadataReader, Store, es_response
from vigil.dataplane.store import DataStore
from vigil.datasource.base import DataSource
from vigil.errors import BadRequest
from vigil.web.deps import CurrentPrincipal
from vigil.web.openapi import es_error_responses

router = APIRouter(tags=["data"], responses=es_error_responses(400, 401, 403, 404))

# Served whatever the data source: the cluster information clients ask for first.
_ALWAYS_SERVED = frozenset({"/"})


def get_data_source(request: Request) -> DataSource:
    """The app's one data source (set at start-up), for the routes that read data."""
    return request.app.state.data_source  # type: ignore[no-any-return]


def resolve_body(store: DataStore, expression: str) -> dict[str, Any]:
    indices: list[dict[str, Any]] = []
    data_streams: list[dict[str, Any]] = []
    for info in store.catalog.resolve(expression):
        if store.kind(info.name) == "data_stream":
            backing = [stat.name for stat in store.stats(info.name)]
            data_streams.append({"name": info.name, "backing_indices": backing, "timestamp_field": "@timestamp"})
        else:
            attributes = ["hidden", "open"] if is_hidden(info.name) else ["open"]
            indices.append({"name": info.name, "attributes": attributes})
    return {
        "indices": sorted(indices, key=lambda item: item["name"]),
        "aliases": [],  # the embedded store has no aliases
        "data_streams": sorted(data_streams, key=lambda item: item["name"]),
    }


@router.get("/_resolve/index/{name}", summary="Resolve index names, patterns and data streams")
@router.post("/_resolve/index/{name}", include_in_schema=False)
async def resolve_index(name: str, store: Store, _: MetadataReader) -> Response:
    return es_response(await run_in_threadpool(resolve_body, store, name))


def store_routes_gate(request: Request, principal: CurrentPrincipal) -> None:
    """Router dependency for the store's routes on a server whose data source is a cluster:
    the caller is authenticated first, so nobody learns the configuration without credentials."""
    route = request.scope.get("route")
    if getattr(route, "path", None) in _ALWAYS_SERVED:
        return
    raise BadRequest(
        f"[{request.method} {request.url.path}] is not served: this Vigil reads its data from an Elasticsearch "
        "cluster (VIGIL_DATA_SOURCE=elasticsearch), so send documents and index requests to the cluster itself; "
        "ES|QL (POST /_query) is forwarded to it"
    )
