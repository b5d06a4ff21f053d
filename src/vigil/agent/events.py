"""What a running turn reports, in Vigil's terms (the chat layer streams and stores these)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallStarted:
    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolCallFinished:
    call_id: str
    name: str
    content: str


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_requests: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "promptTokens": self.prompt_tokens,
            "completionTokens": self.completion_tokens,
            "modelRequests": self.model_requests,
        }


@dataclass(frozen=True)
class TurnFinished:
    text: str
    usage: TokenUsage
    rounds: list[dict[str, Any]]
    references: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnFailed:
    """The provider or the loop failed; `message` is safe to show and to store."""

    message: str
    status_code: int
    text_so_far: str = ""


AgentEvent = TextDelta | ToolCallStarted | ToolCallFinished | TurnFinished | TurnFailed
