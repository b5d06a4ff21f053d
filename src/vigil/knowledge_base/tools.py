"""The assistant's knowledge base tools: retrieval (passages with citations) and write ("remember ...").

What the retrieval tool returns goes back to the model through the turn's anonymization like any
tool result; what the write tool stores is what the user meant (the runner restores anonymized
values in tool arguments before the tool runs).
"""

from __future__ import annotations

import json
from typing import Any

from anyio import to_thread
from pydantic import BaseModel, Field

from vigil.agent.tools import AssistantTool, ToolContext
from vigil.auth.privileges import Level
from vigil.knowledge_base import schemas, service
from vigil.knowledge_base.retrieval import Passage
from vigil.knowledge_base.runtime import KnowledgeBase

RETRIEVAL = "knowledge_base_retrieval"
WRITE = "knowledge_base_write"

RETRIEVAL_DESCRIPTION = (
    "Search the knowledge base: what the user and their team asked you to remember, runbooks and "
    "notes they wrote, and reference content (MITRE ATT&CK techniques, groups, software and "
    "mitigations; the ES|QL reference; Vigil's documentation). Call it for questions about the "
    "user's environment ('where is host X', 'what is our policy on Y') and for reference questions. "
    "The query is free text; rephrase it as the things to look for. Each result has a `citation`: "
    "put it right after the sentence that uses the result, exactly as given. If nothing relevant "
    "comes back, say you could not find it."
)
WRITE_DESCRIPTION = (
    "Save a fact to the user's knowledge base so it is known in later conversations, when the user "
    "asks you to remember something. The entry is private to the user."
)


def reference_for(context: ToolContext, passage: Passage) -> str:
    """Registers the passage's entry as a Kibana `KnowledgeBaseEntry` content reference; the
    marker to put in the answer."""
    reference_id = context.references.add(
        "KnowledgeBaseEntry", knowledgeBaseEntryId=passage.entry_id, knowledgeBaseEntryName=passage.name
    )
    return f"{{reference({reference_id})}}"


def passage_result(passage: Passage, citation: str) -> dict[str, Any]:
    result: dict[str, Any] = {"id": passage.entry_id, "name": passage.name, "source": passage.source}
    if passage.url:
        result["url"] = passage.url
    result["text"] = passage.text
    result["citation"] = citation
    return result


class RetrievalArgs(BaseModel):
    query: str = Field(
        min_length=1, max_length=2000, description="Summary of items/things to search for in the knowledge base."
    )


class WriteArgs(BaseModel):
    name: str = Field(min_length=1, max_length=255, description="A short name the user will use to refer to the entry.")
    query: str = Field(min_length=1, max_length=10_000, description="The knowledge to save, as a clear statement.")
    required: bool = Field(
        False,
        description="True only if the user wants it in every conversation; false: retrieved when relevant.",
    )


def knowledge_base_tools(kb: KnowledgeBase) -> list[AssistantTool]:
    async def retrieve(context: ToolContext, args: RetrievalArgs) -> str:
        found = await to_thread.run_sync(lambda: kb.retrieve(context.principal, context.space_id, args.query))
        if not found.passages:
            return json.dumps({"results": [], "message": "No knowledge base entry matches this query."})
        results = [passage_result(p, reference_for(context, p)) for p in found.passages]
        return json.dumps({"results": results}, ensure_ascii=False)

    async def write(context: ToolContext, args: WriteArgs) -> str:
        props = schemas.DocumentEntryCreateFields(
            type="document",
            name=args.name,
            kbResource="user",
            source="conversation" if context.conversation_id is None else f"conversation {context.conversation_id}",
            text=args.query,
            required=args.required,
        )

        def create() -> tuple[str, str]:
            with kb.database.session() as session:
                entry = service.create(session, context.principal, context.space_id, props, kb.default_model)
                return entry.id, entry.name

        entry_id, name = await to_thread.run_sync(create)
        await to_thread.run_sync(kb.after_write, context.space_id)
        when = "in every conversation" if args.required else "when relevant in later conversations"
        return f'Saved to the knowledge base as "{name}" (id {entry_id}), private to this user; it will be used {when}.'

    return [
        AssistantTool(
            name=RETRIEVAL,
            description=RETRIEVAL_DESCRIPTION,
            parameters=RetrievalArgs,
            handler=retrieve,
            available=lambda principal: principal.grants.assistant >= Level.READ,
        ),
        AssistantTool(
            name=WRITE,
            description=WRITE_DESCRIPTION,
            parameters=WriteArgs,
            handler=write,
            available=lambda principal: principal.grants.assistant >= Level.ALL,
        ),
    ]
