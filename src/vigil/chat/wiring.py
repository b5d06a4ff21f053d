"""Builds the chat engine from Vigil's real parts: connectors, the LLM factory, prompts, tools."""

from __future__ import annotations

from pydantic_ai.settings import ModelSettings
from sqlalchemy.orm import Session

from vigil.agent.builtin_tools import BUILTIN_TOOLS
from vigil.agent.tools import ToolRegistry
from vigil.chat.engine import ChatEngine, ModelResolver, ResolvedModel
from vigil.connectors import service as connectors
from vigil.crypto import SecretBox
from vigil.datasource import DataSource
from vigil.db.engine import Database
from vigil.investigation.index_entries import index_entry_tools
from vigil.investigation.tools import INVESTIGATION_TOOLS
from vigil.knowledge_base.runtime import KnowledgeBase
from vigil.knowledge_base.tools import knowledge_base_tools
from vigil.llm.cache import ModelCache
from vigil.llm.config import LlmSettings
from vigil.prompts.service import resolve_system_prompt
from vigil.settings import Settings

# Of a model's context window, the share history may use; the rest is for the system prompt,
# tool descriptions and results, and the answer.
HISTORY_SHARE_OF_CONTEXT = 0.5


def llm_settings(settings: Settings) -> LlmSettings:
    return LlmSettings(
        request_timeout_seconds=settings.llm_request_timeout_seconds,
        max_retries=settings.llm_max_retries,
    )


def connector_model_resolver(settings: Settings, secret_box: SecretBox, models: ModelCache) -> ModelResolver:
    def resolve(session: Session, space_id: str, connector_id: str, model_override: str | None) -> ResolvedModel:
        runtime = connectors.get_runtime(session, space_id, connector_id, secret_box, settings)
        model = models.get(runtime.id, runtime.type_id, runtime.config, runtime.secrets, model_override)
        window = runtime.config.get("contextWindowLength") or runtime.config.get("contextWindow")
        budget = int(window * HISTORY_SHARE_OF_CONTEXT) if isinstance(window, int) else None
        temperature = runtime.config.get("temperature")
        return ResolvedModel(
            model=model,
            connector_id=runtime.id,
            action_type_id=runtime.type_id,
            history_token_budget=budget or settings.agent_history_token_budget,
            # The connector's temperature applies to chat turns too, not only to `_execute`.
            model_settings=ModelSettings(temperature=float(temperature))
            if isinstance(temperature, int | float)
            else None,
        )

    return resolve


def default_tool_registry(knowledge_base: KnowledgeBase | None = None) -> ToolRegistry:
    registry = ToolRegistry()
    registry.register_all(BUILTIN_TOOLS)
    registry.register_all(INVESTIGATION_TOOLS)
    registry.register_factory(index_entry_tools)
    if knowledge_base is not None:
        registry.register_all(knowledge_base_tools(knowledge_base))
    return registry


def build_chat_engine(
    database: Database,
    settings: Settings,
    secret_box: SecretBox,
    models: ModelCache,
    data_source: DataSource | None = None,
    knowledge_base: KnowledgeBase | None = None,
) -> ChatEngine:
    return ChatEngine(
        database=database,
        settings=settings,
        tools=default_tool_registry(knowledge_base),
        resolve_model=connector_model_resolver(settings, secret_box, models),
        resolve_system_prompt=resolve_system_prompt,
        data_source=data_source,
        knowledge=knowledge_base,
    )
