"""Knowledge base index entries as tools: each entry the caller sees names an index of the
team's own data, a text field to search and the fields to return; the assistant gets one tool
per entry, as Kibana's `getStructuredToolForIndexEntry` makes them (the entry's name, its
description, a `query` described by its query description, and its input schema as filters).

Kibana searches the field semantically; Vigil's data plane has no vectors, so the search is
lexical: documents whose field contains the most words of the query first. It is an ES|QL
query run with the caller's rights, and what it returns is anonymized column by column.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy.orm import Session

from vigil.agent.tools import AssistantTool, ToolContext
from vigil.auth.principal import Principal
from vigil.esql.printer import name as field_name
from vigil.esql.printer import string as esql_string
from vigil.investigation.access import reads_data, require_data_read
from vigil.investigation.data_context import words
from vigil.investigation.esql_runner import require_parts, rows_of, run_authorized
from vigil.investigation.framing import frame
from vigil.investigation.nl_esql import visible_rows
from vigil.investigation.tables import render_table
from vigil.knowledge_base import service as knowledge_base
from vigil.knowledge_base.models import KnowledgeBaseEntry

MAX_HITS = 10  # Kibana's size
MAX_QUERY_TERMS = 8
_TYPES: dict[str, Any] = {"string": str, "number": float, "boolean": bool}


def tool_name(entry_name: str) -> str:
    """Kibana's rule: letters, digits and `_` only, starting with a letter."""
    cleaned = re.sub(r"[^a-zA-Z0-9_]", "", entry_name)
    return re.sub(r"^[^a-zA-Z]", "a", cleaned)[:64] or "index_entry"


def _arguments_model(entry: KnowledgeBaseEntry) -> type[BaseModel]:
    fields: dict[str, Any] = {
        "query": (str, Field(min_length=1, max_length=2000, description=entry.query_description or "")),
    }
    for position, item in enumerate(entry.input_schema or []):
        kind = _TYPES.get(str(item.get("fieldType")), str)
        # Field names are dotted ECS names: kept as the schema's property names through an alias.
        fields[f"filter_{position}"] = (
            kind | None,
            Field(None, alias=str(item["fieldName"]), description=str(item.get("description") or "")),
        )
    config = ConfigDict(populate_by_name=True, extra="ignore")
    return create_model(f"IndexEntry_{tool_name(entry.name)}", __config__=config, **fields)


def search_query(entry: KnowledgeBaseEntry, query: str, filters: dict[str, Any]) -> str | None:
    """The ES|QL of a search: every query word is a LIKE on the field; the hits with the most
    words first. None when the query has no word to look for."""
    terms = sorted(words(query), key=len, reverse=True)[:MAX_QUERY_TERMS]
    terms = [t for t in terms if len(t) >= 2]
    if not terms:
        return None
    text = f"TO_LOWER({field_name(entry.field or '')})"
    matches = [f"{text} LIKE {esql_string('*' + term + '*')}" for term in terms]
    conditions = [f"({' OR '.join(matches)})"]
    for name, value in filters.items():
        literal = esql_string(value) if isinstance(value, str) else str(value).lower()
        conditions.append(f"{field_name(name)} == {literal}")
    score = " + ".join(f"CASE({match}, 1, 0)" for match in matches)
    keep = entry.output_fields or [entry.field or ""]
    return (
        f"FROM {entry.index_name} METADATA _id"
        f" | WHERE {' AND '.join(conditions)}"
        f" | EVAL relevance = {score}"
        f" | SORT relevance DESC"
        f" | LIMIT {MAX_HITS}"
        f" | KEEP _id, {', '.join(field_name(f) for f in keep)}"
    )


def _tool_for(entry: KnowledgeBaseEntry) -> AssistantTool:
    arguments = _arguments_model(entry)
    aliases = {key: info.alias for key, info in arguments.model_fields.items() if info.alias}

    async def search(context: ToolContext, args: Any) -> str:
        parts = require_parts(context)
        require_data_read(context.principal)
        filters = {aliases[key]: value for key, value in args if key in aliases and value is not None}
        query = search_query(entry, args.query, filters)
        if query is None:
            return "The query has no word to search for."
        result = await run_authorized(context, parts.source, query)
        if not result.values:
            return f"No document of {entry.index_name} matches."
        visible = visible_rows(parts, query, result, MAX_HITS, omit=("_id",))
        rows = []
        for raw, shown in zip(rows_of(result), visible.rows, strict=False):
            # As Kibana: each hit is cited as the ES|QL query that finds it again.
            reference = context.references.add(
                "EsqlQuery",
                query=f"FROM {entry.index_name} METADATA _id | WHERE _id == {esql_string(str(raw['_id']))}",
                label=f"Index: {entry.index_name}",
            )
            rows.append({"citation": f"{{reference({reference})}}", **shown})
        note = f"{len(rows)} documents of {entry.index_name}, best match first; cite one by its citation."
        if visible.hidden:
            note += f" Columns hidden by the anonymization rules: {', '.join(visible.hidden)}."
        return frame(tool_name(entry.name), render_table(rows, ["citation", *visible.columns]), note=note)

    return AssistantTool(
        name=tool_name(entry.name),
        description=entry.description or f"Searches the {entry.index_name} index.",
        parameters=arguments,
        handler=search,
        available=reads_data,
    )


def index_entry_tools(session: Session, principal: Principal, space_id: str) -> list[AssistantTool]:
    """One tool per index entry the caller sees in the space (none without the data rights)."""
    if not reads_data(principal):
        return []
    return [_tool_for(entry) for entry in knowledge_base.index_entries(session, principal, space_id)]
