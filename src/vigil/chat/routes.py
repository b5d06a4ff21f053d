"""POST /api/security_ai_assistant/chat/complete, streamed (NDJSON, as Kibana) or not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from vigil.agent.events import TextDelta, TurnFailed, TurnFinished
from vigil.auth.principal import Principal
from vigil.auth.privileges import Level
from vigil.chat.engine import ChatEngine, PreparedTurn, TurnOutcome, outcome_from
from vigil.chat.schemas import ChatCompleteProps, ChatCompleteResponse
from vigil.errors import Forbidden, UpstreamError
from vigil.web.deps import AssistantWriter, SpaceId, require_xsrf_header
from vigil.web.openapi import kibana_error_responses

CHAT_COMPLETE = "/api/security_ai_assistant/chat/complete"
DISCONNECTED = "The client disconnected before the answer was complete."

router = APIRouter(
    tags=["chat"],
    responses=kibana_error_responses(400, 401, 403, 404, 413),
    dependencies=[Depends(require_xsrf_header)],
)


async def require_chat(request: Request, principal: AssistantWriter) -> Principal:
    """Kibana's requirement for the assistant: AI Assistant all and Connectors read."""
    if principal.grants.connectors < Level.READ:
        raise Forbidden(
            f"API [{request.method} {request.url.path}] is unauthorized for user [{principal.username}], "
            "this action is granted by the Kibana privileges [actions:read]"
        )
    return principal


ChatUser = Annotated[Principal, Depends(require_chat)]


# Kibana writes each line with JSON.stringify (compact, UTF-8); so do these, from pre-encoded
# halves, with orjson escaping only the payload: this runs once per streamed delta.
_CONTENT_END = b',"type":"content"}\n'
_ERROR_END = b',"type":"error"}\n'


def _content_line(payload: str) -> bytes:
    return b'{"payload":' + orjson.dumps(payload) + _CONTENT_END


def _error_line(message: str) -> bytes:
    return b'{"payload":' + orjson.dumps(message) + _ERROR_END


def _stream(
    engine: ChatEngine,
    principal: Principal,
    space_id: str,
    prepared: PreparedTurn,
    body: ChatCompleteProps,
    references_enabled: bool,
) -> AsyncIterator[bytes]:
    async def lines() -> AsyncIterator[bytes]:
        written: list[str] = []
        recorded = False
        try:
            async for event in engine.run(principal, space_id, prepared, body.responseLanguage):
                if isinstance(event, TextDelta):
                    written.append(event.text)
                    yield _content_line(event.text)
                elif isinstance(event, TurnFinished | TurnFailed):
                    outcome = outcome_from(event)
                    if not references_enabled:
                        outcome = TurnOutcome(outcome.text, outcome.is_error, outcome.usage, outcome.rounds)
                    recorded = True  # even if storing fails below, never store this turn twice
                    await engine.record_async(principal, space_id, prepared, outcome)
                    if isinstance(event, TurnFailed):
                        # The stream ends cleanly with the reason as its last line.
                        yield _error_line(event.message)
        finally:
            if not recorded:
                text = "".join(written)
                partial = f"{text}\n\n{DISCONNECTED}" if text else DISCONNECTED
                await engine.record_async(principal, space_id, prepared, TurnOutcome(partial, is_error=True))

    return lines()


@router.post(
    CHAT_COMPLETE,
    operation_id="ChatComplete",
    summary="Run a turn of the assistant (streamed or not)",
    response_model=ChatCompleteResponse,
    response_model_exclude_none=True,
    responses={
        200: {
            "description": "The answer; with `isStream: true` a stream of NDJSON lines "
            '`{"payload": "<text>", "type": "content"}` ending, on failure, with a `"type": "error"` line.',
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        },
        **kibana_error_responses(429, 502, 504),
    },
)
async def chat_complete(
    body: ChatCompleteProps,
    request: Request,
    principal: ChatUser,
    space_id: SpaceId,
    content_references_disabled: Annotated[bool, Query()] = False,
) -> Any:
    engine: ChatEngine = request.app.state.chat_engine
    prepared = engine.prepare_cached(principal, space_id, body)  # configuration cached: no I/O
    if prepared is None:
        prepared = await to_thread.run_sync(engine.prepare, principal, space_id, body)
    if body.isStream:
        return StreamingResponse(
            _stream(engine, principal, space_id, prepared, body, not content_references_disabled),
            media_type="application/octet-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Content-Type-Options": "nosniff"},
        )
    final: TurnFinished | TurnFailed | None = None
    try:
        async for event in engine.run(principal, space_id, prepared, body.responseLanguage):
            if isinstance(event, TurnFinished | TurnFailed):
                final = event
    except BaseException:
        # Cancelled (server shutting down, client gone): the question still gets its isError answer.
        await engine.record_async(principal, space_id, prepared, TurnOutcome(DISCONNECTED, is_error=True))
        raise
    assert final is not None
    outcome = outcome_from(final)
    if content_references_disabled:
        outcome = TurnOutcome(outcome.text, outcome.is_error, outcome.usage, outcome.rounds)
    await engine.record_async(principal, space_id, prepared, outcome)
    if isinstance(final, TurnFailed):
        raise UpstreamError(final.message, final.status_code)
    response: dict[str, Any] = {
        "connector_id": body.connectorId,
        "data": final.text,
        "trace_data": prepared.trace_data,
        # The conversation's whole map, so a client can show any placeholder of the answer.
        "replacements": prepared.redactor.anonymizer.replacements,
        "status": "ok",
    }
    if outcome.references:
        # Kibana's static response carries the answer's citations, so a client can render links.
        response["metadata"] = {"contentReferences": outcome.references}
    if prepared.conversation_id:
        response["conversationId"] = prepared.conversation_id
    return response
