"""``POST /_query``: Elasticsearch's ES|QL query API over the data source (the embedded store, or the
Elasticsearch cluster it forwards the query to: docs/datasource.md).

Answers like Elasticsearch: the JSON body (``took``, ``is_partial``, ``columns``, ``values``;
``columnar``, ``drop_null_columns``), csv/tsv/txt via ``format`` or ``Accept``, ``params``
(positional ``?``/``?1`` and named ``?name``), evaluation warnings in ``Warning`` headers, and
``parsing_exception`` / ``verification_exception`` error bodies. Needs the ``data_read`` grant.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from vigil.auth.principal import Principal
from vigil.dataplane.routes import COMPATIBLE_ES_VERSION, PRODUCT_HEADERS
from vigil.datasource.routes import get_data_source
from vigil.errors import BadRequest, Forbidden
from vigil.esql.errors import EsqlExecutionError, EsqlParsingError, EsqlVerificationError
from vigil.esql.executor import EsqlResult
from vigil.esql.formats import TEXT_FORMATS, csv_body, json_body, negotiate, tsv_body, txt_body
from vigil.web.deps import CurrentPrincipal
from vigil.web.envelope import es_error_body
from vigil.web.openapi import es_error_responses

router = APIRouter(tags=["esql"], responses=es_error_responses(400, 401, 403))

_BODY_KEYS = frozenset(
    {
        "query",
        "params",
        "columnar",
        "locale",
        "filter",
        "profile",
        "tables",
        "version",
        "time_zone",
        "include_ccs_metadata",
        "include_execution_metadata",
        "allow_partial_results",
        "pragma",
        "accept_pragma_risks",
        "wait_for_completion_timeout",
        "keep_alive",
        "keep_on_completion",
    }
)
_WARNING_AGENT = f"Elasticsearch-{COMPATIBLE_ES_VERSION}-vigil"


def require_data_read(request: Request, principal: CurrentPrincipal) -> Principal:
    if not principal.grants.data_read:
        raise Forbidden(
            f"action [indices:data/read/esql] is unauthorized for user [{principal.username}] with effective roles "
            f"[{','.join(principal.roles)}], this action is granted by the index privileges [read,all]"
        )
    return principal


def _flag(value: Any, name: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", ""):
        return value.lower() != "false"
    raise BadRequest(f"[{name}] must be a boolean, found [{value}]")


def _warning_header(text: str) -> str:
    """Elasticsearch's Warning value: quotes and backslashes escaped, then `%`, control and
    non-ASCII characters percent-encoded (UTF-8), as its HeaderWarning does."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    encoded = "".join(
        ch if ch in '\t !"\\' or ("#" <= ch <= "~" and ch != "%") else "".join(f"%{b:02X}" for b in ch.encode())
        for ch in escaped
    )
    return f'299 {_WARNING_AGENT} "{encoded}"'


def _error(status: int, es_type: str, reason: str) -> Response:
    return Response(
        orjson.dumps(es_error_body(status, es_type, reason)),
        status_code=status,
        media_type="application/json",
        headers=PRODUCT_HEADERS,
    )


@router.post("/_query", operation_id="EsqlQuery", summary="Run an ES|QL query")
async def esql_query(
    request: Request,
    _: Principal = Depends(require_data_read),
    format: str | None = Query(None),
    delimiter: str = Query(","),
    drop_null_columns: str | None = Query(None),
) -> Response:
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as exc:
        return _error(400, "x_content_parse_exception", f"Failed to parse request body: {exc}")
    if not isinstance(body, dict):
        return _error(400, "x_content_parse_exception", "request body must be a JSON object")
    unknown = sorted(set(body) - _BODY_KEYS)
    if unknown:
        return _error(400, "x_content_parse_exception", f"[1:2] [esql/query] unknown field [{unknown[0]}]")
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        return _error(400, "parsing_exception", "line 1:1: mismatched input '<EOF>' expecting {'row', 'from', 'show'}")
    params = body.get("params")
    if params is not None and not isinstance(params, list | dict):
        return _error(400, "x_content_parse_exception", "[params] must be an array")
    response_format = negotiate(format, request.headers.get("accept"))
    if response_format not in ("json", *TEXT_FORMATS):
        return _error(400, "illegal_argument_exception", f"Invalid format [{response_format}]")
    if response_format == "csv" and (len(delimiter) != 1 or delimiter in ('"', "\r", "\n", "\t")):
        return _error(400, "illegal_argument_exception", f"illegal delimiter [{delimiter}]")
    source = get_data_source(request)
    try:
        result: EsqlResult = await run_in_threadpool(source.esql, query, params)
    except (EsqlParsingError, EsqlVerificationError, EsqlExecutionError) as exc:
        return _error(400, exc.es_type, str(exc))
    if response_format == "json":
        content = json_body(
            result,
            columnar=_flag(body.get("columnar"), "columnar"),
            drop_null_columns=_flag(drop_null_columns, "drop_null_columns"),
        )
        response = Response(content, media_type="application/json", headers=PRODUCT_HEADERS)
    else:
        if response_format == "csv":
            text = csv_body(result, delimiter)
        elif response_format == "tsv":
            text = tsv_body(result)
        else:
            text = txt_body(result)
        response = Response(text, media_type=TEXT_FORMATS[response_format], headers=PRODUCT_HEADERS)
    for warning in result.warnings:
        response.headers.append("Warning", _warning_header(warning))
    return response
