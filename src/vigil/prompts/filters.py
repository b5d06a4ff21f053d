"""KQL over prompts: the fields a `filter=` may name and how they map to columns.

`categories` is multi-valued: `categories:alert` means "one of its categories is alert", as in
Elasticsearch. vigil.kql queries child rows as nested fields, so such a clause is rewritten into
the nested form `categories:{ value: alert }` before compiling.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import ColumnElement, exists, select

from vigil.kql import And, FieldSpec, Match, Nested, NestedSpec, Node, Not, Or, Range
from vigil.paging import kql_condition
from vigil.prompts.models import Prompt, PromptCategory

_MULTI_VALUED = {"categories": "value"}


def _categories_exist(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(
        select(PromptCategory.prompt_id).where(
            PromptCategory.namespace == Prompt.namespace,
            PromptCategory.prompt_id == Prompt.id,
            condition,
        )
    )


@cache
def prompt_fields() -> dict[str, FieldSpec | NestedSpec]:
    """Kibana's stored names (snake_case) and the API's camelCase ones both work."""
    prompt_type = FieldSpec(Prompt.prompt_type.expression, "keyword")
    is_default = FieldSpec(Prompt.is_default.expression, "boolean")
    new_default = FieldSpec(Prompt.is_new_conversation_default.expression, "boolean")
    created_at = FieldSpec(Prompt.created_at.expression, "date")
    updated_at = FieldSpec(Prompt.updated_at.expression, "date")
    created_by = FieldSpec(Prompt.created_by.expression, "keyword")
    updated_by = FieldSpec(Prompt.updated_by.expression, "keyword")
    return {
        "id": FieldSpec(Prompt.id.expression, "keyword"),
        "name": FieldSpec(Prompt.name.expression, "keyword"),
        "content": FieldSpec(Prompt.content.expression, "text"),
        "color": FieldSpec(Prompt.color.expression, "keyword"),
        "consumer": FieldSpec(Prompt.consumer.expression, "keyword"),
        "namespace": FieldSpec(Prompt.namespace.expression, "keyword"),
        "prompt_type": prompt_type,
        "promptType": prompt_type,
        "is_default": is_default,
        "isDefault": is_default,
        "is_new_conversation_default": new_default,
        "isNewConversationDefault": new_default,
        "created_at": created_at,
        "createdAt": created_at,
        "@timestamp": created_at,
        "timestamp": created_at,
        "updated_at": updated_at,
        "updatedAt": updated_at,
        "created_by": created_by,
        "createdBy": created_by,
        "updated_by": updated_by,
        "updatedBy": updated_by,
        "categories": NestedSpec(
            fields={"value": FieldSpec(PromptCategory.category.expression, "keyword")},
            exists=_categories_exist,
        ),
    }


def _rewrite(node: Node) -> Node:
    if isinstance(node, Match) and node.field in _MULTI_VALUED:
        return Nested(node.field, Match(_MULTI_VALUED[node.field], node.value))
    if isinstance(node, Range) and node.field in _MULTI_VALUED:
        return Nested(node.field, Range(_MULTI_VALUED[node.field], node.op, node.value))
    if isinstance(node, Not):
        return Not(_rewrite(node.item))
    if isinstance(node, And):
        return And(tuple(_rewrite(item) for item in node.items))
    if isinstance(node, Or):
        return Or(tuple(_rewrite(item) for item in node.items))
    return node  # MatchAll, Exists (`categories:*` works on the nested path), Nested


def compile_filter(kql: str) -> ColumnElement[bool]:
    return kql_condition(kql, prompt_fields(), ("name", "content"), rewrite=_rewrite)
