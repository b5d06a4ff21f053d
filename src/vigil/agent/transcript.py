"""A conversation as the agent replays it, in Vigil's own neutral shape (stored as JSON on
assistant messages), and its conversion to and from pydantic-ai messages.

An assistant turn keeps its tool rounds: each round is the text the model wrote, the tool calls
it made and the results it got. Replaying them lets a later turn see what earlier tools returned.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

# Rough and provider-neutral: about four characters a token for English and JSON.
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class TranscriptMessage:
    role: str  # system | user | assistant
    content: str
    rounds: tuple[dict[str, Any], ...] = ()
    is_error: bool = False

    def estimated_tokens(self) -> int:
        size = len(self.content) + sum(len(json.dumps(r, default=str)) for r in self.rounds)
        return size // CHARS_PER_TOKEN + 4


@dataclass
class TrimmedHistory:
    messages: list[TranscriptMessage]
    dropped: int = 0
    estimated_tokens: int = 0
    notes: list[str] = field(default_factory=list)


def trim_to_budget(history: Sequence[TranscriptMessage], budget_tokens: int) -> TrimmedHistory:
    """Keeps the most recent messages that fit the budget, dropping the oldest first, so a long
    conversation keeps working instead of failing on the provider's context limit."""
    kept: list[TranscriptMessage] = []
    used = 0
    for message in reversed([m for m in history if not m.is_error]):
        cost = message.estimated_tokens()
        if used + cost > budget_tokens:
            break
        kept.append(message)
        used += cost
    kept.reverse()
    usable = [m for m in history if not m.is_error]
    return TrimmedHistory(messages=kept, dropped=len(usable) - len(kept), estimated_tokens=used)


def to_model_messages(history: Sequence[TranscriptMessage]) -> list[ModelMessage]:
    messages: list[ModelMessage] = []
    for message in history:
        if message.is_error:
            continue  # an error shown to the user is not something the model said
        if message.role == "system":
            messages.append(ModelRequest(parts=[SystemPromptPart(content=message.content)]))
        elif message.role == "user":
            messages.append(ModelRequest(parts=[UserPromptPart(content=message.content)]))
        else:
            for round_ in message.rounds:
                parts: list[Any] = [TextPart(content=round_["text"])] if round_.get("text") else []
                parts += [
                    ToolCallPart(tool_name=c["name"], args=c.get("arguments") or {}, tool_call_id=c["id"])
                    for c in round_.get("calls", [])
                ]
                if parts:
                    messages.append(ModelResponse(parts=parts))
                results = [
                    ToolReturnPart(tool_name=r["name"], content=r["content"], tool_call_id=r["id"])
                    for r in round_.get("results", [])
                ]
                if results:
                    messages.append(ModelRequest(parts=results))
            messages.append(ModelResponse(parts=[TextPart(content=message.content)]))
    return messages


def rounds_from_run(new_messages: Sequence[ModelMessage]) -> list[dict[str, Any]]:
    """The tool rounds of one run (the final text answer is stored as the message content)."""
    rounds: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for message in new_messages:
        if isinstance(message, ModelResponse):
            calls = [p for p in message.parts if isinstance(p, ToolCallPart)]
            if not calls:
                continue
            text = "".join(p.content for p in message.parts if isinstance(p, TextPart))
            current = {
                "text": text,
                "calls": [{"id": c.tool_call_id, "name": c.tool_name, "arguments": c.args_as_dict()} for c in calls],
                "results": [],
            }
            rounds.append(current)
        elif isinstance(message, ModelRequest) and current is not None:
            for part in message.parts:
                if isinstance(part, ToolReturnPart):
                    current["results"].append(
                        {
                            "id": part.tool_call_id,
                            "name": part.tool_name,
                            "content": part.model_response_str(),
                        }
                    )
                elif isinstance(part, RetryPromptPart) and part.tool_name:
                    current["results"].append(
                        {"id": part.tool_call_id, "name": part.tool_name, "content": part.model_response()}
                    )
    return rounds
