"""Conversation storage and rules. Every function takes the caller and the space: nothing here
reads or writes a conversation the caller may not touch."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, select, union_all
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from vigil.anonymization import Anonymizer, DetectorSet
from vigil.auth.principal import Principal
from vigil.conversations import schemas
from vigil.conversations.access import SharingState, is_owner, sharing_state, visibility_branches, visible_to
from vigil.conversations.filters import compile_filter
from vigil.conversations.models import Conversation, ConversationMessage, ConversationUser
from vigil.db.base import utcnow
from vigil.errors import BadRequest, Conflict, Forbidden, NotFound
from vigil.paging import check_result_window, select_fields

DEFAULT_TITLE = "New chat"


def kibana_timestamp(value: datetime) -> str:
    """`2024-09-06T08:01:14.586Z`, the format Kibana writes."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- wire <-> rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageExtras:
    """What Vigil itself keeps beside a message (never part of Kibana's wire shape)."""

    data: dict[str, Any] | None = None
    fields_to_anonymize: list[str] | None = None
    rounds: list[dict[str, Any]] | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def _message_row(
    conversation_id: str, seq: int, message: schemas.Message, extras: MessageExtras | None = None
) -> ConversationMessage:
    extras = extras or MessageExtras()
    return ConversationMessage(
        data=extras.data,
        fields_to_anonymize=extras.fields_to_anonymize,
        rounds=extras.rounds,
        prompt_tokens=extras.prompt_tokens,
        completion_tokens=extras.completion_tokens,
        conversation_id=conversation_id,
        seq=seq,
        role=message.role,
        content=message.content,
        timestamp=message.timestamp,
        is_error=message.isError,
        reader=message.reader,
        trace_data=message.traceData.model_dump(exclude_none=True) if message.traceData else None,
        message_metadata=message.metadata.model_dump(exclude_none=True) if message.metadata else None,
    )


def message_document(row: ConversationMessage) -> dict[str, Any]:
    document: dict[str, Any] = {"timestamp": row.timestamp, "content": row.content, "role": row.role}
    if row.is_error is not None:
        document["isError"] = row.is_error
    if row.reader is not None:
        document["reader"] = row.reader
    if row.trace_data is not None:
        document["traceData"] = row.trace_data
    if row.message_metadata is not None:
        document["metadata"] = row.message_metadata
    return document


def _users_documents(conversation: Conversation) -> list[dict[str, str]]:
    documents = []
    for user in conversation.users:
        document = {}
        if user.user_id is not None:
            document["id"] = user.user_id
        if user.user_name is not None:
            document["name"] = user.user_name
        documents.append(document)
    return documents


def conversation_document(conversation: Conversation, messages: Sequence[ConversationMessage] | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": conversation.id,
        "title": conversation.title,
        "category": conversation.category,
        "timestamp": kibana_timestamp(conversation.created_at),
        "createdAt": kibana_timestamp(conversation.created_at),
        "updatedAt": kibana_timestamp(conversation.updated_at),
        "createdBy": {"id": conversation.created_by_id, "name": conversation.created_by_name},
        "users": _users_documents(conversation),
        "replacements": conversation.replacements or {},
        "isDefault": conversation.is_default,
        "namespace": conversation.namespace,
    }
    if messages is not None:
        document["messages"] = [message_document(row) for row in messages]
    if conversation.api_config is not None:
        document["apiConfig"] = conversation.api_config
    if conversation.summary is not None:
        document["summary"] = conversation.summary
    if conversation.exclude_from_last_conversation_storage is not None:
        document["excludeFromLastConversationStorage"] = conversation.exclude_from_last_conversation_storage
    return document


def load_messages(session: Session, conversation_ids: Sequence[str]) -> dict[str, list[ConversationMessage]]:
    grouped: dict[str, list[ConversationMessage]] = defaultdict(list)
    if not conversation_ids:
        return grouped
    query = (
        select(ConversationMessage)
        .where(ConversationMessage.conversation_id.in_(conversation_ids))
        .order_by(ConversationMessage.conversation_id, ConversationMessage.seq)
    )
    for row in session.scalars(query):
        grouped[row.conversation_id].append(row)
    return grouped


def with_original_values(document: dict[str, Any]) -> dict[str, Any]:
    """Messages with placeholders replaced by the real values of the conversation's
    `replacements` ("show anonymized" off in Kibana's UI). Only for callers who may read it."""
    replacements = document.get("replacements") or {}
    if not replacements or not document.get("messages"):
        return document
    anonymizer = Anonymizer(replacements, DetectorSet(()))
    messages = [{**m, "content": anonymizer.deanonymize_text(m["content"])} for m in document["messages"]]
    return {**document, "messages": messages}


def full_document(session: Session, conversation: Conversation) -> dict[str, Any]:
    return conversation_document(conversation, load_messages(session, [conversation.id])[conversation.id])


# --- reads ---------------------------------------------------------------------------------------


def get_visible(session: Session, principal: Principal, space_id: str, conversation_id: str) -> Conversation:
    conversation = session.scalar(
        select(Conversation).where(Conversation.id == conversation_id, visible_to(principal, space_id))
    )
    if conversation is None:
        raise NotFound(f'conversation id: "{conversation_id}" not found')
    return conversation


def get_owned(
    session: Session, principal: Principal, space_id: str, conversation_id: str, *, lock: bool = False
) -> Conversation:
    """The conversation if the caller owns it: 404 when they cannot see it, 403 when only shared."""
    conversation = get_visible(session, principal, space_id, conversation_id)
    if not is_owner(conversation, principal):
        raise Forbidden(f"conversation {conversation_id} is owned by another user; duplicate it to continue it")
    if lock:
        session.refresh(conversation, with_for_update=True)
    return conversation


@dataclass(frozen=True)
class FindQuery:
    page: int = 1
    per_page: int = 20
    sort_field: str = "updated_at"
    sort_order: str = "desc"
    filter: str | None = None
    fields: Sequence[str] | None = None
    is_owner: bool = False


_SORT_COLUMNS = {
    "created_at": Conversation.created_at,
    "updated_at": Conversation.updated_at,
    "title": Conversation.title,
}

# `fields=` accepts Kibana's stored (snake_case) names and the API's camelCase ones.
_FIELD_ALIASES = {
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "@timestamp": "timestamp",
    "api_config": "apiConfig",
    "is_default": "isDefault",
    "exclude_from_last_conversation_storage": "excludeFromLastConversationStorage",
    "created_by": "createdBy",
}
_ALWAYS_RETURNED = ("id", "title", "category", "createdAt", "users", "namespace")


def find(session: Session, principal: Principal, space_id: str, query: FindQuery) -> tuple[int, list[dict[str, Any]]]:
    check_result_window(query.page, query.per_page)
    counts, page_ids = find_statements(principal, space_id, query)
    total = sum(session.scalar(count) or 0 for count in counts)
    if query.per_page == 0:
        return total, []
    ids = list(session.scalars(page_ids))
    by_id = {c.id: c for c in session.scalars(select(Conversation).where(Conversation.id.in_(ids)))}
    conversations = [by_id[i] for i in ids if i in by_id]
    wants_messages = not query.fields or any(name == "messages" for name in query.fields)
    messages = load_messages(session, [c.id for c in conversations]) if wants_messages else {}
    documents = [conversation_document(c, messages.get(c.id, []) if wants_messages else None) for c in conversations]
    if query.fields:
        documents = [select_fields(d, query.fields, _FIELD_ALIASES, _ALWAYS_RETURNED) for d in documents]
    return total, documents


def find_statements(principal: Principal, space_id: str, query: FindQuery) -> tuple[list[Select[Any]], Select[Any]]:
    """`_find`'s SQL: one count per disjoint visibility branch, and the ids of the requested page.

    The page: each branch contributes its first page*per_page rows in sort order (an index walk
    that stops early), and the merge keeps the requested slice.
    """
    branches = visibility_branches(principal, space_id, owned_only=query.is_owner)
    if query.filter:
        kql = compile_filter(query.filter)
        branches = [and_(branch, kql) for branch in branches]
    counts = [select(func.count()).select_from(Conversation).where(branch) for branch in branches]
    column = _SORT_COLUMNS[query.sort_field]
    descending = query.sort_order == "desc"
    enough = query.page * query.per_page
    parts = [
        select(Conversation.id.label("id"), column.label("sort_key"))
        .where(branch)
        .order_by(column.desc() if descending else column.asc(), Conversation.id)
        .limit(enough)
        .subquery()
        for branch in branches
    ]
    merged = union_all(*(select(part.c.id, part.c.sort_key) for part in parts)).subquery()
    page_ids = (
        select(merged.c.id)
        .order_by(merged.c.sort_key.desc() if descending else merged.c.sort_key.asc(), merged.c.id)
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page)
    )
    return counts, page_ids


# --- writes --------------------------------------------------------------------------------------


def _set_users(conversation: Conversation, users: Iterable[schemas.User | dict[str, Any]]) -> None:
    rows = []
    for position, user in enumerate(users):
        data = user.model_dump() if isinstance(user, schemas.User) else user
        if not data.get("id") and not data.get("name"):
            raise BadRequest("[request body]: users: every user needs an id or a name")
        rows.append(ConversationUser(position=position, user_id=data.get("id"), user_name=data.get("name")))
    conversation.users = rows
    conversation.is_shared_globally = not rows


def create(
    session: Session,
    principal: Principal,
    space_id: str,
    props: schemas.ConversationCreateProps,
    *,
    extras: Sequence[MessageExtras | None] | None = None,
) -> Conversation:
    # Only an id the caller chose can be taken already (a fresh uuid4 cannot): one read less.
    conversation_id = props.id or str(uuid.uuid4())
    if props.id and session.get(Conversation, conversation_id) is not None:
        raise Conflict(f'conversation id: "{conversation_id}" already exists')
    now = utcnow()
    messages = props.messages or []
    conversation = Conversation(
        id=conversation_id,
        namespace=space_id,
        title=props.title,
        category=props.category or "assistant",
        created_by_id=principal.user_id,
        created_by_name=principal.username,
        api_config=props.apiConfig.model_dump(exclude_none=True) if props.apiConfig else None,
        replacements=props.replacements or {},
        is_default=bool(props.isDefault),
        exclude_from_last_conversation_storage=props.excludeFromLastConversationStorage,
        message_count=len(messages),
        created_at=now,
        updated_at=now,
    )
    _set_users(conversation, [principal.as_kibana_user])
    session.add(conversation)
    session.flush()
    extras = extras or [None] * len(messages)
    session.add_all(
        _message_row(conversation_id, seq, message, extra)
        for seq, (message, extra) in enumerate(zip(messages, extras, strict=True))
    )
    session.flush()
    return conversation


@dataclass(frozen=True)
class SharingChange:
    state: SharingState
    users: list[dict[str, str]]


def update(
    session: Session,
    principal: Principal,
    space_id: str,
    conversation_id: str,
    props: schemas.ConversationUpdateProps,
) -> tuple[Conversation, SharingChange | None]:
    conversation = get_owned(session, principal, space_id, conversation_id, lock=True)
    sharing: SharingChange | None = None
    if props.title is not None:
        conversation.title = props.title
    if props.category is not None:
        conversation.category = props.category
    if props.apiConfig is not None:
        conversation.api_config = props.apiConfig.model_dump(exclude_none=True)
    if props.summary is not None:
        conversation.summary = props.summary.model_dump(exclude_none=True)
    if props.excludeFromLastConversationStorage is not None:
        conversation.exclude_from_last_conversation_storage = props.excludeFromLastConversationStorage
    if props.replacements is not None:
        conversation.replacements = dict(props.replacements)
    if props.users is not None:
        before = sharing_state(_users_documents(conversation), conversation.created_by_id, conversation.created_by_name)
        _set_users(conversation, props.users)
        after_users = _users_documents(conversation)
        after = sharing_state(after_users, conversation.created_by_id, conversation.created_by_name)
        if after != before or after == SharingState.RESTRICTED:
            sharing = SharingChange(state=after, users=after_users)
    if props.messages is not None:
        session.execute(delete(ConversationMessage).where(ConversationMessage.conversation_id == conversation.id))
        session.add_all(_message_row(conversation.id, seq, m) for seq, m in enumerate(props.messages))
        conversation.message_count = len(props.messages)
    conversation.updated_at = utcnow()
    session.flush()
    return conversation, sharing


def append_messages(
    session: Session,
    principal: Principal,
    space_id: str,
    conversation_id: str,
    messages: Sequence[schemas.Message],
    *,
    replacements: dict[str, str] | None = None,
    extras: Sequence[MessageExtras | None] | None = None,
    refresh: bool = True,
) -> Conversation:
    """Adds messages at the end. The counter is bumped first: on PostgreSQL that row lock makes
    concurrent appends queue up instead of colliding on sequence numbers. `refresh=False`: the
    returned conversation's counter and `updated_at` are stale (one read less, for callers that
    do not look at it)."""
    conversation = get_owned(session, principal, space_id, conversation_id)
    new_count = session.scalar(
        sql_update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(message_count=Conversation.message_count + len(messages), updated_at=utcnow())
        .returning(Conversation.message_count)
    )
    assert new_count is not None
    first_seq = new_count - len(messages)
    extras = extras or [None] * len(messages)
    session.add_all(
        _message_row(conversation.id, first_seq + i, m, extra)
        for i, (m, extra) in enumerate(zip(messages, extras, strict=True))
    )
    if replacements:
        session.refresh(conversation)
        conversation.replacements = {**(conversation.replacements or {}), **replacements}
    session.flush()
    if refresh:
        session.refresh(conversation)
    return conversation


def delete_one(session: Session, principal: Principal, space_id: str, conversation_id: str) -> Conversation:
    conversation = get_owned(session, principal, space_id, conversation_id)
    if conversation.is_default:
        raise BadRequest(f"conversation {conversation_id} is a default conversation and cannot be deleted")
    session.delete(conversation)
    session.flush()
    return conversation


def delete_all(session: Session, principal: Principal, space_id: str, excluded_ids: Sequence[str]) -> int:
    """Deletes the caller's own conversations in the space, keeping default and excluded ones."""
    condition = visible_to(principal, space_id, owned_only=True) & Conversation.is_default.is_(False)
    if excluded_ids:
        condition = condition & Conversation.id.not_in(list(excluded_ids))
    ids = list(session.scalars(select(Conversation.id).where(condition)))
    if ids:
        session.execute(delete(ConversationMessage).where(ConversationMessage.conversation_id.in_(ids)))
        session.execute(delete(ConversationUser).where(ConversationUser.conversation_id.in_(ids)))
        session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    return len(ids)


def owned_matching(
    session: Session, principal: Principal, space_id: str, kql: str | None, ids: Sequence[str] | None
) -> list[Conversation]:
    """The caller's own conversations matching a bulk action's `query` (KQL) and/or `ids`."""
    condition = visible_to(principal, space_id, owned_only=True)
    if kql:
        condition = condition & compile_filter(kql)
    if ids:
        condition = condition & Conversation.id.in_(list(ids))
    return list(session.scalars(select(Conversation).where(condition)))


def duplicate(session: Session, principal: Principal, space_id: str, source: Conversation) -> Conversation:
    """A private copy the caller owns, so a conversation shared with them can be continued."""
    messages = load_messages(session, [source.id])[source.id]
    props = schemas.ConversationCreateProps(
        title=f"{source.title} (copy)",
        category=source.category,  # type: ignore[arg-type]
        apiConfig=schemas.ApiConfig(**source.api_config) if source.api_config else None,
        replacements=source.replacements or {},
        excludeFromLastConversationStorage=source.exclude_from_last_conversation_storage,
        messages=[schemas.Message.model_validate(message_document(row)) for row in messages],
    )
    return create(session, principal, space_id, props)
