"""The tool registry: each capability registers the tools it gives the assistant.

A tool sees the caller (`ToolContext.principal`) and space, and must never act beyond the
caller's rights: the registry also filters tools by what the caller may use at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from vigil.agent.references import ReferenceStore
from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.settings import Settings


@dataclass
class ToolContext:
    principal: Principal
    space_id: str
    conversation_id: str | None
    database: Database
    settings: Settings
    references: ReferenceStore = field(default_factory=ReferenceStore)


ToolHandler = Callable[[ToolContext, Any], Awaitable[str]]


@dataclass(frozen=True)
class AssistantTool:
    """A capability the model may call. `parameters` validates the model's arguments."""

    name: str
    description: str
    parameters: type[BaseModel]
    handler: ToolHandler
    available: Callable[[Principal], bool] = lambda _principal: True

    def json_schema(self) -> dict[str, Any]:
        return self.parameters.model_json_schema()


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, AssistantTool] = {}

    def register(self, tool: AssistantTool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"tool [{tool.name}] is registered twice")
        self._tools[tool.name] = tool

    def register_all(self, tools: Iterable[AssistantTool]) -> None:
        for tool in tools:
            self.register(tool)

    def for_principal(self, principal: Principal) -> list[AssistantTool]:
        return [tool for tool in self._tools.values() if tool.available(principal)]

    @property
    def names(self) -> list[str]:
        return sorted(self._tools)
