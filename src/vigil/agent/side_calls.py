"""Side requests to the turn's model: a tool that needs the model's help (writing an ES|QL
query, say) asks here instead of building its own client, so the request goes to the same
connector, is anonymized the same way, and counts in the turn's usage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import Agent
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from vigil.agent.events import TokenUsage


@dataclass
class ModelSideCalls:
    """A `vigil.agent.tools.SideModel` over one model; `usage` adds up what the calls spent."""

    model: Model
    model_settings: ModelSettings | None = None
    redact: Callable[[str], str] = lambda text: text
    restore: Callable[[Any], Any] = lambda value: value
    usage: TokenUsage = field(default_factory=TokenUsage)

    async def __call__(self, instructions: str, prompt: str) -> str:
        agent: Agent[None, str] = Agent(self.model, instructions=self.redact(instructions))
        result = await agent.run(self.redact(prompt), model_settings=self.model_settings)
        spent = result.usage
        self.usage = TokenUsage(
            self.usage.prompt_tokens + (spent.input_tokens or 0),
            self.usage.completion_tokens + (spent.output_tokens or 0),
            self.usage.model_requests + spent.requests,
        )
        return str(self.restore(str(result.output)))
