"""The assistant loop with pydantic-ai's FunctionModel: a scripted model, real tools, real loop."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

from vigil.agent.builtin_tools import CURRENT_TIME
from vigil.agent.events import TextDelta, ToolCallFinished, ToolCallStarted, TurnFailed, TurnFinished
from vigil.agent.runner import TurnRequest, run_turn
from vigil.agent.tools import AssistantTool, ToolContext, ToolRegistry
from vigil.agent.transcript import TranscriptMessage, to_model_messages, trim_to_budget
from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.settings import Settings

PRINCIPAL = Principal(user_id="u_1", username="analyst", roles=("editor",))


@pytest.fixture
def context(tmp_path: Path) -> ToolContext:
    settings = Settings(data_dir=tmp_path, public_base_url="https://vigil.example")
    return ToolContext(PRINCIPAL, "soc", "conv-1", Database(settings), settings)


def scripted(respond) -> FunctionModel:
    """A FunctionModel from a plain `respond(messages, info) -> ModelResponse`: Vigil streams every
    request, so the response is replayed as stream deltas (text chunks and tool-call deltas)."""

    async def stream(messages: list[ModelMessage], info: AgentInfo):
        response = respond(messages, info)
        calls = {}
        for part in response.parts:
            if isinstance(part, TextPart):
                yield part.content
            elif isinstance(part, ToolCallPart):
                calls[len(calls)] = DeltaToolCall(
                    name=part.tool_name, json_args=json.dumps(part.args_as_dict()), tool_call_id=part.tool_call_id
                )
        if calls:
            yield calls

    return FunctionModel(respond, stream_function=stream)


def collect(request: TurnRequest) -> list:
    async def go() -> list:
        return [event async for event in run_turn(request)]

    return asyncio.run(go())


class EchoArgs(BaseModel):
    text: str


def echo_tool(seen: list) -> AssistantTool:
    async def handler(context: ToolContext, args: EchoArgs) -> str:
        seen.append((context.principal.username, context.space_id, args.text))
        ref = context.references.add("KnowledgeBaseEntry", knowledgeBaseEntryId="kb-1", knowledgeBaseEntryName="Echo")
        return f"echo: {args.text} (cite as {{reference({ref})}})"

    return AssistantTool("echo", "Echoes text back.", EchoArgs, handler)


def test_plain_answer_streams_and_finishes(context: ToolContext) -> None:
    async def stream(messages: list[ModelMessage], info: AgentInfo):
        yield "Hello "
        yield "analyst."

    model = FunctionModel(stream_function=stream)
    events = collect(TurnRequest(model, "You are Vigil.", [], "hi", [], context))
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello ", "analyst."]
    final = events[-1]
    assert isinstance(final, TurnFinished) and final.text == "Hello analyst."
    assert final.usage.model_requests == 1 and final.rounds == []


def test_tool_round_trip_with_citation(context: ToolContext) -> None:
    seen: list = []
    received: list[list[ModelMessage]] = []

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        received.append(messages)
        if len(received) == 1:
            assert [t.name for t in info.function_tools] == ["echo"]
            return ModelResponse(parts=[TextPart("Let me check."), ToolCallPart("echo", {"text": "ping"}, "call-1")])
        tool_return = messages[-1].parts[0]
        assert isinstance(tool_return, ToolReturnPart)
        ref = tool_return.content.split("reference(")[1].split(")")[0]
        return ModelResponse(parts=[TextPart(f"It said pong {{reference({ref})}}.")])

    request = TurnRequest(scripted(respond), "sys", [], "call echo", [echo_tool(seen)], context)
    events = collect(request)
    assert seen == [("analyst", "soc", "ping")]
    started = next(e for e in events if isinstance(e, ToolCallStarted))
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert (started.name, started.arguments) == ("echo", {"text": "ping"})
    assert finished.content.startswith("echo: ping")
    final = events[-1]
    assert isinstance(final, TurnFinished)
    assert final.rounds[0]["calls"] == [{"id": "call-1", "name": "echo", "arguments": {"text": "ping"}}]
    assert final.rounds[0]["text"] == "Let me check."
    assert final.rounds[0]["results"][0]["content"].startswith("echo: ping")
    (reference,) = final.references.values()
    assert reference["type"] == "KnowledgeBaseEntry" and reference["knowledgeBaseEntryId"] == "kb-1"
    # The system prompt reached the model as instructions.
    assert "sys" in json.dumps([m.instructions for m in received[0] if isinstance(m, ModelRequest)])


def test_bad_tool_arguments_go_back_to_the_model(context: ToolContext) -> None:
    calls = []

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        calls.append(messages[-1])
        if len(calls) == 1:
            return ModelResponse(parts=[ToolCallPart("echo", {"wrong": 1}, "c1")])
        if len(calls) == 2:
            assert "invalid arguments" in str(messages[-1].parts[0].content)
            return ModelResponse(parts=[ToolCallPart("echo", {"text": "fixed"}, "c2")])
        return ModelResponse(parts=[TextPart("done")])

    seen: list = []
    events = collect(TurnRequest(scripted(respond), "sys", [], "go", [echo_tool(seen)], context))
    assert seen == [("analyst", "soc", "fixed")]
    assert isinstance(events[-1], TurnFinished)


def test_step_limit_ends_a_looping_model(context: ToolContext) -> None:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[ToolCallPart("current_time", {}, f"c{len(messages)}")])

    request = TurnRequest(scripted(respond), "sys", [], "loop", [CURRENT_TIME], context, step_limit=3)
    final = collect(request)[-1]
    assert isinstance(final, TurnFailed)
    assert "3 model calls" in final.message and final.status_code == 502


def test_model_crash_becomes_a_clean_failure(context: ToolContext) -> None:
    async def stream(messages: list[ModelMessage], info: AgentInfo):
        yield "partial "
        raise RuntimeError("connection reset")

    final = collect(TurnRequest(FunctionModel(stream_function=stream), "s", [], "x", [], context))[-1]
    assert isinstance(final, TurnFailed)
    assert final.text_so_far == "partial " and final.status_code == 500


def test_current_time_tool_includes_conversation_link(context: ToolContext) -> None:
    text = asyncio.run(CURRENT_TIME.handler(context, CURRENT_TIME.parameters()))
    assert "Current time:" in text
    assert "https://vigil.example/s/soc/app/vigil/conversations/conv-1" in text
    bad = asyncio.run(CURRENT_TIME.handler(context, CURRENT_TIME.parameters(timezone="Mars/Olympus")))
    assert "Unknown time zone" in bad


def test_history_is_replayed_with_tool_rounds(context: ToolContext) -> None:
    history = [
        TranscriptMessage("user", "what time is it?"),
        TranscriptMessage(
            "assistant",
            "It is noon.",
            rounds=(
                {
                    "text": "",
                    "calls": [{"id": "c1", "name": "current_time", "arguments": {}}],
                    "results": [{"id": "c1", "name": "current_time", "content": "12:00"}],
                },
            ),
        ),
        TranscriptMessage("assistant", "provider exploded", is_error=True),
    ]
    replay = to_model_messages(history)
    kinds = [(type(m).__name__, type(m.parts[0]).__name__) for m in replay]
    assert kinds == [
        ("ModelRequest", "UserPromptPart"),
        ("ModelResponse", "ToolCallPart"),
        ("ModelRequest", "ToolReturnPart"),
        ("ModelResponse", "TextPart"),
    ]
    seen: list[list[ModelMessage]] = []

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(messages)
        return ModelResponse(parts=[TextPart("ok")])

    collect(TurnRequest(scripted(respond), "s", history, "and now?", [], context))
    assert "12:00" in repr(seen[0]) and "provider exploded" not in repr(seen[0])


def test_history_is_trimmed_to_the_budget_oldest_first() -> None:
    history = [TranscriptMessage("user", f"message {i} " + "x" * 400) for i in range(20)]
    trimmed = trim_to_budget(history, budget_tokens=1000)
    assert trimmed.dropped > 0 and trimmed.messages == history[-len(trimmed.messages) :]
    assert trimmed.estimated_tokens <= 1000
    assert trim_to_budget(history, budget_tokens=10).messages == []


def test_response_language_reaches_the_model(context: ToolContext) -> None:
    seen = []

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(messages[0].instructions)
        return ModelResponse(parts=[TextPart("Bonjour")])

    collect(TurnRequest(scripted(respond), "sys", [], "hi", [], context, response_language="French"))
    assert "Always answer in French." in seen[0]


def test_registry_refuses_duplicates_and_filters_by_principal() -> None:
    registry = ToolRegistry()
    registry.register(CURRENT_TIME)
    with pytest.raises(ValueError):
        registry.register(CURRENT_TIME)
    admin_only = AssistantTool(
        "admin", "x", EchoArgs, echo_tool([]).handler, available=lambda p: "superuser" in p.roles
    )
    registry.register(admin_only)
    assert [t.name for t in registry.for_principal(PRINCIPAL)] == ["current_time"]


def test_streamed_tool_call_deltas(context: ToolContext) -> None:
    turn = []

    async def stream(messages: list[ModelMessage], info: AgentInfo):
        turn.append(1)
        if len(turn) == 1:
            yield {0: DeltaToolCall(name="current_time", json_args='{"timezone": "UTC"}', tool_call_id="t1")}
        else:
            yield "Done."

    events = collect(TurnRequest(FunctionModel(stream_function=stream), "s", [], "time?", [CURRENT_TIME], context))
    assert any(isinstance(e, ToolCallFinished) and "Current time" in e.content for e in events)
    assert isinstance(events[-1], TurnFinished) and events[-1].text == "Done."
