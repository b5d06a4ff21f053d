"""The tool registry: each capability registers the tools it gives the assistant.

A tool sees the caller (`ToolContext.principal`) and space, and must never act beyond the
caller's rights: the registry also filters tools by what the caller may use at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from vigil.agent.references import ReferenceStore
from vigil.anonymization import FieldPolicy
from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vigil.datasource import DataSource


class ToolPrivacy(Protocol):
    """The turn's anonymization, as tools use it (vigil.chat.redaction.TurnRedactor): documents
    a tool returns are anonymized field by field with the space's field rules before the text
    leaves the tool."""

    @property
    def policy(self) -> FieldPolicy: ...

    def anonymize_documents(
        self, documents: Sequence[Mapping[str, Any]], policy: FieldPolicy | None = None
    ) -> list[dict[str, list[Any]]]: ...


class SideModel(Protocol):
    """One extra request to the turn's model, outside the conversation (for example to write a
    query); counted in the turn's usage. Text in and out is anonymized like the turn's."""

    async def __call__(self, instructions: str, prompt: str) -> str: ...


@dataclass
class ToolContext:
    principal: Principal
    space_id: str
    conversation_id: str | None
    database: Database
    settings: Settings
    references: ReferenceStore = field(default_factory=ReferenceStore)
    # Where data is read (indices, fields, ES|QL): the embedded store or a cluster
    # (docs/datasource.md); None where a server has none (some unit tests).
    data_source: DataSource | None = None
    # None: tools that return data refuse to run, rather than return it un-anonymized.
    privacy: ToolPrivacy | None = None
    # Set by the agent runner for the turn's model.
    ask_model: SideModel | None = None
    # "Alerts to analyze" (Kibana's latestAlerts): how many alerts the alert tools may return.
    alerts_to_analyze: int = 100


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


# Tools that exist per space and caller (one per knowledge base index entry, say), made when a
# turn is prepared, inside its database session.
ToolFactory = Callable[["Session", Principal, str], Iterable[AssistantTool]]


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, AssistantTool] = {}
        self._factories: list[ToolFactory] = []

    def register(self, tool: AssistantTool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"tool [{tool.name}] is registered twice")
        self._tools[tool.name] = tool

    def register_all(self, tools: Iterable[AssistantTool]) -> None:
        for tool in tools:
            self.register(tool)

    def register_factory(self, factory: ToolFactory) -> None:
        self._factories.append(factory)

    def for_principal(self, principal: Principal) -> list[AssistantTool]:
        return [tool for tool in self._tools.values() if tool.available(principal)]

    def for_turn(self, session: Session, principal: Principal, space_id: str) -> list[AssistantTool]:
        """The registered tools plus the factories' tools for this caller and space; a made tool
        whose name is taken is left out (registered tools win)."""
        tools = self.for_principal(principal)
        taken = {tool.name for tool in tools}
        for factory in self._factories:
            for tool in factory(session, principal, space_id):
                if tool.name not in taken and tool.available(principal):
                    tools.append(tool)
                    taken.add(tool.name)
        return tools

    @property
    def names(self) -> list[str]:
        return sorted(self._tools)
