"""The runner's first model call goes through pydantic-ai's direct API; the agent takes over only
when tools must run or the answer is unusable. These pin what that split must not change."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

from vigil.agent.builtin_tools import CURRENT_TIME
from vigil.agent.events import TextDelta, ToolCallFinished, TurnFailed, TurnFinished
from vigil.agent.runner import TurnRequest, run_turn
from vigil.agent.tools import ToolContext
from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.settings import Settings


@pytest.fixture
def context(tmp_path: Path) -> ToolContext:
    settings = Settings(data_dir=tmp_path, public_base_url="https://vigil.example")
    return ToolContext(
        Principal(user_id="u_1", username="analyst", roles=("editor",)), "soc", None, Database(settings), settings
    )


def collect(request: TurnRequest) -> list:
    async def go() -> list:
        return [event async for event in run_turn(request)]

    return asyncio.run(go())


def test_a_text_answer_is_one_call_with_tools_and_instructions(context: ToolContext) -> None:
    seen: list[tuple[list[ModelMessage], AgentInfo]] = []

    async def stream(messages: list[ModelMessage], info: AgentInfo):
        seen.append((messages, info))
        yield "All "
        yield "quiet."

    events = collect(
        TurnRequest(FunctionModel(stream_function=stream), "You are Vigil.", [], "status?", [CURRENT_TIME], context)
    )
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["All ", "quiet."]
    final = events[-1]
    assert isinstance(final, TurnFinished) and final.text == "All quiet."
    assert final.usage.model_requests == 1 and final.usage.completion_tokens > 0
    ((messages, info),) = seen
    assert [t.name for t in info.function_tools] == ["current_time"]
    assert isinstance(messages[-1], ModelRequest) and messages[-1].instructions == "You are Vigil."


def test_a_tool_round_hands_over_to_the_agent_and_counts_both_calls(context: ToolContext) -> None:
    calls: list[list[ModelMessage]] = []

    async def stream(messages: list[ModelMessage], info: AgentInfo):
        calls.append(messages)
        if len(calls) == 1:
            yield "Checking."
            yield {0: DeltaToolCall(name="current_time", json_args='{"timezone": "UTC"}', tool_call_id="t1")}
        else:
            assert isinstance(messages[-1].parts[0], ToolReturnPart)
            yield "It is late."

    events = collect(TurnRequest(FunctionModel(stream_function=stream), "sys", [], "time?", [CURRENT_TIME], context))
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Checking.", "\n\nIt is late."]
    assert any(isinstance(e, ToolCallFinished) and "Current time" in e.content for e in events)
    final = events[-1]
    assert isinstance(final, TurnFinished) and final.text == "It is late."
    assert final.usage.model_requests == 2
    assert final.rounds[0]["text"] == "Checking." and final.rounds[0]["calls"][0]["id"] == "t1"
    # The second call saw the first answer exactly once (no duplicated request or response).
    assert sum(isinstance(m, ModelResponse) for m in calls[1]) == 1


def test_an_empty_first_answer_is_asked_again(context: ToolContext) -> None:
    answers = iter(["", "Now with text."])

    async def stream(messages: list[ModelMessage], info: AgentInfo):
        yield next(answers, "Now with text.")

    final = collect(TurnRequest(FunctionModel(stream_function=stream), "sys", [], "hi", [], context))[-1]
    assert isinstance(final, TurnFinished) and final.text == "Now with text."
    assert final.usage.model_requests == 2  # the wasted empty call counts


def test_a_step_limit_of_one_allows_no_tool_round(context: ToolContext) -> None:
    async def stream(messages: list[ModelMessage], info: AgentInfo):
        yield {0: DeltaToolCall(name="current_time", json_args="{}", tool_call_id="t1")}

    request = TurnRequest(FunctionModel(stream_function=stream), "s", [], "x", [CURRENT_TIME], context, step_limit=1)
    final = collect(request)[-1]
    assert isinstance(final, TurnFailed) and "1 model calls" in final.message
