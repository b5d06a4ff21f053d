"""One assistant turn: history in, a stream of events out, tools called as the model asks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_ai import Agent, RunContext, Tool
from pydantic_ai.exceptions import ModelRetry
from pydantic_ai.messages import (
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolReturnPart,
)
from pydantic_ai.models import Model
from pydantic_ai.run import AgentRunResultEvent
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import UsageLimits

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
        call, name=tool.name, description=tool.description, json_schema=tool.json_schema(), takes_ctx=True
    )


def instructions_for(request: TurnRequest) -> str:
    parts = [request.system_prompt.strip()]
    if request.response_language:
        parts.append(f"Always answer in {request.response_language}.")
    return "\n\n".join(p for p in parts if p)


async def run_turn(request: TurnRequest) -> AsyncIterator[AgentEvent]:
    """Runs the loop and yields events; ends with exactly one TurnFinished or TurnFailed."""
    trimmed = trim_to_budget(request.history, request.history_token_budget)
    if trimmed.dropped:
        logger.info("dropped %d old messages to fit the history budget", trimmed.dropped)
    agent = Agent(
        request.model,
        deps_type=ToolContext,
        tools=[_as_pydantic_ai_tool(tool, request.redact, request.restore) for tool in request.tools],
    )
    text_so_far: list[str] = []
    after_tool_round = False
    try:
        async with agent.run_stream_events(
            request.user_prompt,
            message_history=to_model_messages(trimmed.messages),
            instructions=instructions_for(request),
            deps=request.context,
            usage_limits=UsageLimits(request_limit=request.step_limit),
            model_settings=request.model_settings,
        ) as events:
            async for event in events:
                delta: str | None = None
                if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
                    delta = event.part.content
                    if delta and after_tool_round and text_so_far:
                        delta = "\n\n" + delta  # separate text written before and after tools
                    after_tool_round = False
                elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                    delta = event.delta.content_delta
                elif isinstance(event, FunctionToolCallEvent):
                    after_tool_round = True
                    yield ToolCallStarted(event.part.tool_call_id, event.part.tool_name, event.part.args_as_dict())
                elif isinstance(event, FunctionToolResultEvent):
                    part = event.part
                    content = part.model_response_str() if isinstance(part, ToolReturnPart) else part.model_response()
                    yield ToolCallFinished(event.part.tool_call_id, event.part.tool_name or "", content)
                elif isinstance(event, AgentRunResultEvent):
                    result = event.result
                    usage = result.usage
                    output = str(result.output)
                    yield TurnFinished(
                        text=output,
                        usage=TokenUsage(usage.input_tokens or 0, usage.output_tokens or 0, usage.requests),
                        rounds=rounds_from_run(result.new_messages()),
                        references=request.context.references.cited_in(output),
                    )
                    return
                if delta:
                    text_so_far.append(delta)
                    yield TextDelta(delta)
    except Exception as exc:
        message, status = describe_failure(exc, request.step_limit)
        if status >= 500:
            logger.warning("assistant turn failed: %s (%s)", message, type(exc).__name__, exc_info=exc)
        yield TurnFailed(message=message, status_code=status, text_so_far="".join(text_so_far))
