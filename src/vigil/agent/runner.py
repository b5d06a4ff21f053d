"""One assistant turn: history in, a stream of events out, tools called as the model asks."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_ai import Agent, RunContext, Tool
from pydantic_ai.direct import model_request_stream
from pydantic_ai.exceptions import ModelRetry
from pydantic_ai.messages import (
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    InstructionPart,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ThinkingPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.run import AgentRunResultEvent
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage, RunUsage, UsageLimits

from vigil.agent.errors import describe_failure
from vigil.agent.events import (
    AgentEvent,
    TextDelta,
    TokenUsage,
    ToolCallFinished,
    ToolCallStarted,
    TurnFailed,
    TurnFinished,
)
from vigil.agent.side_calls import ModelSideCalls
from vigil.agent.tools import AssistantTool, ToolContext
from vigil.agent.transcript import TranscriptMessage, rounds_from_run, to_model_messages, trim_to_budget
from vigil.errors import VigilError

logger = logging.getLogger("vigil.agent")


@dataclass
class TurnRequest:
    model: Model
    system_prompt: str
    history: Sequence[TranscriptMessage]
    user_prompt: str
    tools: Sequence[AssistantTool]
    context: ToolContext
    step_limit: int = 10
    history_token_budget: int = 6000
    response_language: str | None = None
    model_settings: ModelSettings | None = None
    # Anonymization: what tools return is redacted before the model sees it, and the
    # placeholders the model passes as arguments are restored before Vigil's tools run.
    redact: Callable[[str], str] = lambda text: text
    restore: Callable[[Any], Any] = lambda value: value


@functools.lru_cache(maxsize=512)
def _json_schema(tool: AssistantTool) -> dict[str, Any]:
    """A tool's parameters as JSON schema, generated once (~0.4 ms each, on every turn otherwise).
    Shared like an agent's tools are shared across runs: pydantic-ai never changes it in place."""
    return tool.json_schema()


def _as_pydantic_ai_tool(
    tool: AssistantTool, redact: Callable[[str], str], restore: Callable[[Any], Any]
) -> Tool[ToolContext]:
    async def call(ctx: RunContext[ToolContext], **arguments: Any) -> str:
        try:
            parsed = tool.parameters.model_validate(restore(arguments))
        except ValidationError as exc:
            # The model gets the validation problem back and may correct its call.
            problem = f"invalid arguments for {tool.name}: {exc.errors(include_url=False, include_input=False)}"
            raise ModelRetry(redact(problem)) from exc
        try:
            return redact(await tool.handler(ctx.deps, parsed))
        except VigilError as exc:
            return redact(f"Tool {tool.name} failed: {exc.message}")
        except Exception:
            logger.exception("tool %s failed", tool.name)
            return f"Tool {tool.name} failed with an internal error."

    return Tool.from_schema(
        call, name=tool.name, description=tool.description, json_schema=_json_schema(tool), takes_ctx=True
    )


def instructions_for(request: TurnRequest) -> str:
    parts = [request.system_prompt.strip()]
    if request.response_language:
        parts.append(f"Always answer in {request.response_language}.")
    return "\n\n".join(p for p in parts if p)


async def run_turn(request: TurnRequest) -> AsyncIterator[AgentEvent]:
    """Runs the loop and yields events; ends with exactly one TurnFinished or TurnFailed.

    The first model call goes straight through pydantic-ai's direct API: most turns end there
    with a text answer, and the agent graph costs several milliseconds a turn and tens of
    microseconds an event. When that answer calls tools (or is empty), pydantic-ai's agent takes
    over from it: it runs the tools, feeds the results back, and owns the rest of the loop
    (argument retries, unknown tools, the step limit).
    """
    trimmed = trim_to_budget(request.history, request.history_token_budget)
    if trimmed.dropped:
        logger.info("dropped %d old messages to fit the history budget", trimmed.dropped)
    side_calls = ModelSideCalls(request.model, request.model_settings, request.redact, request.restore)
    if request.context.ask_model is None:
        request.context.ask_model = side_calls
    tools = [_as_pydantic_ai_tool(tool, request.redact, request.restore) for tool in request.tools]
    instructions = instructions_for(request)
    text = _TextSoFar()
    try:
        messages: list[ModelMessage] = [
            *to_model_messages(trimmed.messages),
            ModelRequest(parts=[UserPromptPart(request.user_prompt)], instructions=instructions),
        ]
        parameters = ModelRequestParameters(
            function_tools=[tool.tool_def for tool in tools],
            allow_text_output=True,
            instruction_parts=[InstructionPart(instructions)] if instructions else None,
        )
        async with model_request_stream(
            request.model, messages, model_settings=request.model_settings, model_request_parameters=parameters
        ) as stream:
            async for event in stream:
                if (delta := text.delta_of(event)) is not None:
                    yield TextDelta(delta)
        first = stream.get()
        answer = _final_text(first)
        if answer is not None:
            yield TurnFinished(
                text=answer,
                usage=_turn_usage(first.usage, None, side_calls.usage),
                rounds=[],
                references=request.context.references.cited_in(answer),
            )
            return
        if first.tool_calls:  # the agent runs the calls, then carries on
            prompt, history, kept = None, [*messages, first], [first]
        else:
            # No usable answer (empty, or thinking only): rare enough that the agent simply redoes
            # the turn with its own retry prompts; the wasted call still counts.
            prompt, history, kept = request.user_prompt, messages[:-1], []
        agent = Agent(request.model, deps_type=ToolContext, tools=tools)
        async with agent.run_stream_events(
            prompt,
            message_history=history,
            instructions=instructions,
            deps=request.context,
            usage_limits=UsageLimits(request_limit=request.step_limit - 1),  # the first call counts
            model_settings=request.model_settings,
        ) as events:
            async for step in events:
                if isinstance(step, FunctionToolCallEvent):
                    text.after_tool_round = True
                    yield ToolCallStarted(step.part.tool_call_id, step.part.tool_name, step.part.args_as_dict())
                elif isinstance(step, FunctionToolResultEvent):
                    part = step.part
                    content = part.model_response_str() if isinstance(part, ToolReturnPart) else part.model_response()
                    yield ToolCallFinished(part.tool_call_id, part.tool_name or "", content)
                elif isinstance(step, AgentRunResultEvent):
                    result = step.result
                    output = str(result.output)
                    yield TurnFinished(
                        text=output,
                        # what tools asked of the model (side calls) counts too
                        usage=_turn_usage(first.usage, result.usage, side_calls.usage),
                        rounds=rounds_from_run([*kept, *result.new_messages()]),
                        references=request.context.references.cited_in(output),
                    )
                    return
                elif (delta := text.delta_of(step)) is not None:
                    yield TextDelta(delta)
    except Exception as exc:
        message, status = describe_failure(exc, request.step_limit)
        if status >= 500:
            logger.warning("assistant turn failed: %s (%s)", message, type(exc).__name__, exc_info=exc)
        yield TurnFailed(message=message, status_code=status, text_so_far=text.joined())


class _TextSoFar:
    """The answer's text as streamed, across model calls: text written after a tool round starts
    a new paragraph."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.after_tool_round = False

    def delta_of(self, event: object) -> str | None:
        delta: str | None = None
        if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
            delta = event.part.content
            if delta and self.after_tool_round and self.parts:
                delta = "\n\n" + delta  # separate text written before and after tools
            self.after_tool_round = False
        elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
            delta = event.delta.content_delta
        if not delta:
            return None
        self.parts.append(delta)
        return delta

    def joined(self) -> str:
        return "".join(self.parts)


def _turn_usage(first: RequestUsage, rest: RunUsage | None, side: TokenUsage) -> TokenUsage:
    """The first model call, the agent's calls after it (if any) and the tools' side calls."""
    return TokenUsage(
        (first.input_tokens or 0) + ((rest.input_tokens or 0) if rest else 0) + side.prompt_tokens,
        (first.output_tokens or 0) + ((rest.output_tokens or 0) if rest else 0) + side.completion_tokens,
        1 + (rest.requests if rest else 0) + side.model_requests,
    )


def _final_text(response: ModelResponse) -> str | None:
    """The answer, when `response` is one the agent would end the run with: text (and maybe
    thinking), no tool calls. None when tools must run or the agent must ask again."""
    if not all(isinstance(part, TextPart | ThinkingPart) for part in response.parts):
        return None
    answer = "".join(part.content for part in response.parts if isinstance(part, TextPart))
    return answer or None
