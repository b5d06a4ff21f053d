"""KQL over conversations: the fields a `filter=` may name and how they map to columns."""

from __future__ import annotations

from functools import cache

from sqlalchemy import ColumnElement, exists, select

from vigil.conversations.models import Conversation, ConversationMessage, ConversationUser
from vigil.kql import FieldSpec, NestedSpec
from vigil.paging import kql_condition


def _users_exist(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(
        select(ConversationUser.conversation_id).where(ConversationUser.conversation_id == Conversation.id, condition)
    )


def _messages_exist(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(
        select(ConversationMessage.conversation_id).where(
            ConversationMessage.conversation_id == Conversation.id, condition
        )
    )


@cache
def conversation_fields() -> dict[str, FieldSpec | NestedSpec]:
    """Kibana's stored field names (snake_case) and the API's camelCase ones both work."""
    created_at = FieldSpec(Conversation.created_at.expression, "date")
    updated_at = FieldSpec(Conversation.updated_at.expression, "date")
    is_default = FieldSpec(Conversation.is_default.expression, "boolean")
    exclude = FieldSpec(Conversation.exclude_from_last_conversation_storage.expression, "boolean")
    connector = FieldSpec(Conversation.api_config["connectorId"].as_string(), "keyword")
    action_type = FieldSpec(Conversation.api_config["actionTypeId"].as_string(), "keyword")
    users = NestedSpec(
        fields={
            "id": FieldSpec(ConversationUser.user_id.expression, "keyword"),
            "name": FieldSpec(ConversationUser.user_name.expression, "keyword"),
        },
        exists=_users_exist,
    )
    messages = NestedSpec(
        fields={
            "content": FieldSpec(ConversationMessage.content.expression, "text"),
            "role": FieldSpec(ConversationMessage.role.expression, "keyword"),
            "is_error": FieldSpec(ConversationMessage.is_error.expression, "boolean"),
            "isError": FieldSpec(ConversationMessage.is_error.expression, "boolean"),
        },
        exists=_messages_exist,
    )
    return {
        "id": FieldSpec(Conversation.id.expression, "keyword"),
        "title": FieldSpec(Conversation.title.expression, "text"),
        "category": FieldSpec(Conversation.category.expression, "keyword"),
        "namespace": FieldSpec(Conversation.namespace.expression, "keyword"),
        "created_at": created_at,
        "createdAt": created_at,
        "@timestamp": created_at,
        "timestamp": created_at,
        "updated_at": updated_at,
        "updatedAt": updated_at,
        "is_default": is_default,
        "isDefault": is_default,
        "exclude_from_last_conversation_storage": exclude,
        "excludeFromLastConversationStorage": exclude,
        "created_by.id": FieldSpec(Conversation.created_by_id.expression, "keyword"),
        "created_by.name": FieldSpec(Conversation.created_by_name.expression, "keyword"),
        "createdBy.id": FieldSpec(Conversation.created_by_id.expression, "keyword"),
        "createdBy.name": FieldSpec(Conversation.created_by_name.expression, "keyword"),
        "api_config.connector_id": connector,
        "apiConfig.connectorId": connector,
        "api_config.action_type_id": action_type,
        "apiConfig.actionTypeId": action_type,
        "users": users,
        "messages": messages,
    }


def compile_filter(kql: str) -> ColumnElement[bool]:
    return kql_condition(kql, conversation_fields(), ("title",))
