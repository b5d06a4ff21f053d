"""Elasticsearch's `_bulk` format: NDJSON in, per-item results out, in Elasticsearch's shapes.

An action line that is not JSON, names an unknown action or parameter, or lacks its source
line fails the whole request with 400, as Elasticsearch fails it; a source line that is not
JSON, or a document that does not fit the mapping, fails only its item.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from vigil.dataplane.errors import DocumentParsingError, IllegalArgumentError
from vigil.dataplane.store import ItemResult, OpType, WriteOp
from vigil.errors import BadRequest, VigilError

_WRITE_ACTIONS = ("index", "create")
_ACTIONS = ("index", "create", "update", "delete")
# Action metadata Vigil accepts; routing and the like have no meaning on one node and are ignored.
_KNOWN_PARAMETERS = frozenset(
    {"_index", "_id", "routing", "require_alias", "require_data_stream", "op_type", "pipeline",
     "dynamic_templates", "if_seq_no", "if_primary_term", "version", "version_type",
     "list_executed_pipelines", "retry_on_conflict", "_source"}
)  # fmt: skip
_UNSUPPORTED_PARAMETERS = ("pipeline", "if_seq_no", "if_primary_term", "version", "dynamic_templates")
MAX_ID_BYTES = 512
SHARDS = {"total": 1, "successful": 1, "failed": 0}


class XContentParseError(BadRequest):
    es_type = "x_content_parse_exception"


class ActionRequestValidationError(BadRequest):
    es_type = "action_request_validation_exception"


class ParseError(BadRequest):
    es_type = "parse_exception"


class BulkUnsupportedError(IllegalArgumentError):
    """An action or parameter Vigil does not implement; reported per item."""


def parse_bulk(body: bytes, default_index: str | None) -> list[WriteOp]:
    """NDJSON `_bulk` body -> operations (items that already failed carry their error)."""
    if not body.strip():
        raise ParseError("request body is required")
    if not body.endswith(b"\n"):
        raise IllegalArgumentError("The bulk request must be terminated by a newline [\\n]")
    lines = body.split(b"\n")
    ops: list[WriteOp] = []
    actions_cache: dict[bytes, tuple[str, dict[str, Any]]] = {}
    line_count = len(lines) - 1  # the text after the final newline is empty
    position = 0
    missing_index = []
    while position < line_count:
        raw = lines[position]
        position += 1
        if not raw.strip():
            continue
        parsed = actions_cache.get(raw)
        if parsed is None:
            parsed = _parse_action(raw, position)
            if len(actions_cache) < 1024:
                actions_cache[raw] = parsed
        action, meta = parsed
        index = meta.get("_index", default_index)
        doc_id = meta.get("_id")
        if doc_id is not None:
            doc_id = str(doc_id) if not isinstance(doc_id, str) else doc_id
        if index is None:
            missing_index.append(len(ops) + 1)
        if action == "delete":
            ops.append(_unsupported(action, index, doc_id))
            continue
        if position >= line_count:
            raise IllegalArgumentError(
                f"The bulk request must be terminated by a newline [\\n]; "
                f"action [{action}] on line [{position}] has no source"
            )
        source_line = lines[position]
        position += 1
        if action == "update":
            ops.append(_unsupported(action, index, doc_id))
            continue
        ops.append(_write_op(action, str(index), doc_id, meta, source_line, position))
    if missing_index:
        raise ActionRequestValidationError(
            "Validation Failed: " + "".join(f"{n}: index is missing;" for n in range(1, len(missing_index) + 1))
        )
    if not ops:
        raise ActionRequestValidationError("Validation Failed: 1: no requests added;")
    return ops


def _parse_action(raw: bytes, line: int) -> tuple[str, dict[str, Any]]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise XContentParseError(f"[{line}:{exc.colno}] Malformed action/metadata line [{line}]: {exc.msg}") from None
    if not isinstance(value, dict) or len(value) != 1:
        found = "START_ARRAY" if isinstance(value, list) else "VALUE"
        if isinstance(value, dict):
            raise IllegalArgumentError(
                f"Malformed action/metadata line [{line}], expected a single action but found [{len(value)}]"
            )
        raise IllegalArgumentError(
            f"Malformed action/metadata line [{line}], expected START_OBJECT or END_OBJECT but found [{found}]"
        )
    ((action, meta),) = value.items()
    if action not in _ACTIONS:
        raise IllegalArgumentError(
            f"Malformed action/metadata line [{line}], expected field [create], [delete], [index] or [update] "
            f"but found [{action}]"
        )
    if not isinstance(meta, dict):
        raise IllegalArgumentError(f"Malformed action/metadata line [{line}], expected START_OBJECT but found [VALUE]")
    for key in meta:
        if key not in _KNOWN_PARAMETERS:
            raise IllegalArgumentError(f"Action/metadata line [{line}] contains an unknown parameter [{key}]")
    if meta.get("op_type") == "create":
        action = "create"
    return action, meta


def _unsupported(action: str, index: str | None, doc_id: str | None) -> WriteOp:
    error = BulkUnsupportedError(
        f"Vigil does not support the bulk [{action}] action: data indices are append-only "
        "(documents are overwritten with [index] and an explicit _id, and removed by retention or index deletion)"
    )
    return WriteOp("index", str(index), doc_id, None, error, action_name=action)


def _write_op(
    action: str, index: str, doc_id: str | None, meta: Mapping[str, Any], source: bytes, line: int
) -> WriteOp:
    op_type: OpType = "create" if action == "create" else "index"
    error: VigilError
    for key in _UNSUPPORTED_PARAMETERS:
        if meta.get(key) is not None:
            error = BulkUnsupportedError(f"Vigil does not support the bulk action parameter [{key}]")
            return WriteOp(op_type, index, doc_id, None, error)
    if doc_id is not None and (not doc_id or len(doc_id.encode()) > MAX_ID_BYTES):
        error = ActionRequestValidationError(
            f"Validation Failed: 1: id [{doc_id}] is too long, must be no longer than 512 bytes but was: "
            f"{len(doc_id.encode())};"
            if doc_id
            else "Validation Failed: 1: if _id is specified it must not be empty;"
        )
        return WriteOp(op_type, index, doc_id, None, error)
    return WriteOp(op_type, index, doc_id, None, raw=source)


def error_body(error: VigilError, index: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": error.es_type, "reason": error.message}
    if isinstance(error, DocumentParsingError) and error.caused_by:
        body["caused_by"] = error.caused_by
    if index is not None:
        body["index"] = index
    return body


def item_body(item: ItemResult, action: str | None = None) -> dict[str, Any]:
    """One entry of `items`, keyed by the action as Elasticsearch keys it."""
    body: dict[str, Any] = {"_index": item.index}
    if item.doc_id is not None:
        body["_id"] = item.doc_id
    if item.error is not None:
        body["status"] = item.status
        body["error"] = error_body(item.error, item.index)
    else:
        body["_version"] = item.version
        body["result"] = item.result
        body["_shards"] = SHARDS
        body["_seq_no"] = item.seq_no
        body["_primary_term"] = 1
        body["status"] = item.status
    return {action or item.op_type: body}


def bulk_response(ops: Iterable[WriteOp], items: list[ItemResult], took_ms: int) -> dict[str, Any]:
    rendered = [item_body(item, op.action_name) for op, item in zip(ops, items, strict=True)]
    return {"errors": any(item.error is not None for item in items), "took": took_ms, "items": rendered}
