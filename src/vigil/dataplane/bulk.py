"""Elasticsearch's `_bulk` format: NDJSON in, per-item results out, in Elasticsearch's shapes.

An action line that is not JSON, names an unknown action or parameter, or lacks its source
line fails the whole request with 400, as Elasticsearch fails it; a source line that is not
JSON, or a document that does not fit the mapping, fails only its item.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import orjson

from vigil.dataplane.errors import DocumentParsingError, IllegalArgumentError
from vigil.dataplane.filter_path import apply_filter_path
from vigil.dataplane.store import DataStore, ItemResult, OpType, UniformOutcome, WriteOp
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
    # Shippers repeat the same action line ({"create":{}}): parse and check each distinct one once.
    templates: dict[bytes, _Template] = {}
    line_count = len(lines) - 1  # the text after the final newline is empty
    position = 0
    missing_index = []
    while position < line_count:
        raw = lines[position]
        position += 1
        template = templates.get(raw)
        if template is None:
            if not raw.strip():
                continue
            template = _template(raw, position, default_index)
            if len(templates) < 1024:
                templates[raw] = template
        action, op_type, index, doc_id, error = template
        if index is None:
            missing_index.append(len(ops) + 1)
        if action == "delete":
            ops.append(WriteOp(op_type, str(index), doc_id, None, error, action_name=action))
            continue
        if position >= line_count:
            raise IllegalArgumentError(
                f"The bulk request must be terminated by a newline [\\n]; "
                f"action [{action}] on line [{position}] has no source"
            )
        source_line = lines[position]
        position += 1
        if error is not None:
            ops.append(WriteOp(op_type, str(index), doc_id, None, error, action_name=action))
        else:
            ops.append(WriteOp(op_type, index, doc_id, None, None, source_line))  # type: ignore[arg-type]
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


_Template = tuple[str, OpType, str | None, str | None, VigilError | None]


def _template(raw: bytes, line: int, default_index: str | None) -> _Template:
    """(action, op_type, index, id, error that fails the item) of one action line."""
    action, meta = _parse_action(raw, line)
    index = meta.get("_index", default_index)
    doc_id = meta.get("_id")
    if doc_id is not None and not isinstance(doc_id, str):
        doc_id = str(doc_id)
    op_type: OpType = "create" if action == "create" else "index"
    error: VigilError | None = None
    if action in ("delete", "update"):
        error = BulkUnsupportedError(
            f"Vigil does not support the bulk [{action}] action: data indices are append-only (documents "
            "are overwritten with [index] and an explicit _id, and removed by retention or index deletion)"
        )
    elif unsupported := next((key for key in _UNSUPPORTED_PARAMETERS if meta.get(key) is not None), None):
        error = BulkUnsupportedError(f"Vigil does not support the bulk action parameter [{unsupported}]")
    elif doc_id is not None and not doc_id:
        error = ActionRequestValidationError("Validation Failed: 1: if _id is specified it must not be empty;")
    elif doc_id is not None and len(doc_id.encode()) > MAX_ID_BYTES:
        error = ActionRequestValidationError(
            f"Validation Failed: 1: id [{doc_id}] is too long, must be no longer than 512 bytes but was: "
            f"{len(doc_id.encode())};"
        )
    return action, op_type, index, doc_id, error


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


def parse_uniform(body: bytes, default_index: str | None) -> tuple[str, OpType, str, list[bytes]] | None:
    """(action, op_type, index, source lines) when every action line of the body is the same
    `index`/`create` without an id (a CLI or shipper batch), so no per-line parsing is needed.
    None otherwise, or when anything is off: `parse_bulk` then handles (and reports) it."""
    if not body.endswith(b"\n"):
        return None
    lines = body.split(b"\n")
    lines.pop()  # after the final newline
    if not lines or len(lines) % 2:
        return None
    actions = lines[0::2]
    first = actions[0]
    if actions.count(first) != len(actions):
        return None
    try:
        action, op_type, index, doc_id, error = _template(first, 1, default_index)
    except VigilError:
        return None
    if error is not None or doc_id is not None or index is None or action not in _WRITE_ACTIONS:
        return None
    sources = lines[1::2]
    if b"" in sources or any(map(bytes.isspace, sources)):
        return None  # blank lines shift the pairs: the general parser decides
    return action, op_type, index, sources


def render_uniform(outcome: UniformOutcome, action: str, took_ms: int) -> bytes:
    """The `_bulk` answer for a uniform request, written directly: one text template per created
    document (generated ids are URL-safe, so need no escaping) and orjson for the others."""
    head = '{"' + action + '":{"_index":' + orjson.dumps(outcome.index).decode() + ',"_id":"'
    middle = '","_version":1,"result":"created","_shards":' + orjson.dumps(SHARDS).decode() + ',"_seq_no":'
    tail = ',"_primary_term":1,"status":201}}'
    results = outcome.results
    parts = [
        f"{head}{doc_id}{middle}{seq_no}{tail}"
        if seq_no >= 0
        else orjson.dumps(item_body(results[position], action)).decode()
        for position, (doc_id, seq_no) in enumerate(zip(outcome.ids, outcome.seq_nos, strict=True))
    ]
    errors = "true" if results else "false"
    return f'{{"errors":{errors},"took":{took_ms},"items":[{",".join(parts)}]}}'.encode()


def run_bulk(store: DataStore, body: bytes, index: str | None, filter_path: str | None, started: float) -> bytes:
    """A whole `_bulk` request: parse, write, answer (JSON bytes). `started`: time.monotonic() at arrival."""
    uniform = parse_uniform(body, index)
    if uniform is not None:
        action, op_type, target, sources = uniform
        outcome = store.write_uniform(op_type, target, sources)
        if outcome is not None:
            took = int((time.monotonic() - started) * 1000)
            if not filter_path:
                return render_uniform(outcome, action, took)
            items = [item_body(item, action) for item in outcome.items()]
            return orjson.dumps(
                apply_filter_path({"errors": bool(outcome.results), "took": took, "items": items}, filter_path)
            )
    ops = parse_bulk(body, index)
    results = store.write(ops)
    took = int((time.monotonic() - started) * 1000)
    return orjson.dumps(apply_filter_path(bulk_response(ops, results, took), filter_path))
