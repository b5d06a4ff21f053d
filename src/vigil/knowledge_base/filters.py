"""KQL over knowledge base entries: the fields a `filter=` may name and the columns behind them.

Kibana's stored names (snake_case, as in its `.kibana-elastic-ai-assistant-knowledge-base` index)
and the API's camelCase names both work. `global` is derived: an entry without an owner.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import ColumnElement

from vigil.knowledge_base.models import GLOBAL_OWNER, KnowledgeBaseEntry
from vigil.kql import FieldSpec
from vigil.paging import kql_condition


@cache
def entry_fields() -> dict[str, FieldSpec]:
    entry = KnowledgeBaseEntry
    kb_resource = FieldSpec(entry.kb_resource.expression, "keyword")
    created_at = FieldSpec(entry.created_at.expression, "date")
    updated_at = FieldSpec(entry.updated_at.expression, "date")
    created_by = FieldSpec(entry.created_by.expression, "keyword")
    updated_by = FieldSpec(entry.updated_by.expression, "keyword")
    query_description = FieldSpec(entry.query_description.expression, "text")
    return {
        "id": FieldSpec(entry.id.expression, "keyword"),
        "_id": FieldSpec(entry.id.expression, "keyword"),
        "name": FieldSpec(entry.name.expression, "text"),
        "title": FieldSpec(entry.name.expression, "text"),
        "text": FieldSpec(entry.text.expression, "text"),
        "type": FieldSpec(entry.entry_type.expression, "keyword"),
        "source": FieldSpec(entry.source.expression, "keyword"),
        "required": FieldSpec(entry.required.expression, "boolean"),
        "global": FieldSpec((entry.owner_id == GLOBAL_OWNER).expression, "boolean"),
        "namespace": FieldSpec(entry.namespace.expression, "keyword"),
        "index": FieldSpec(entry.index_name.expression, "keyword"),
        "field": FieldSpec(entry.field.expression, "keyword"),
        "description": FieldSpec(entry.description.expression, "text"),
        "kb_resource": kb_resource,
        "kbResource": kb_resource,
        "query_description": query_description,
        "queryDescription": query_description,
        "created_at": created_at,
        "createdAt": created_at,
        "@timestamp": created_at,
        "updated_at": updated_at,
        "updatedAt": updated_at,
        "created_by": created_by,
        "createdBy": created_by,
        "updated_by": updated_by,
        "updatedBy": updated_by,
    }


def compile_filter(kql: str) -> ColumnElement[bool]:
    return kql_condition(kql, entry_fields(), ("name", "text"))
