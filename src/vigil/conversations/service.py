"""Conversation storage and rules. Every function takes the caller and the space: nothing here
reads or writes a conversation the caller may not touch."""

from __future__ import annotations

import operator
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache, reduce
from typing import Any

from sqlalchemy import Integer, Row, Select, String, and_, bindparam, delete, func, select, union_all
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


# A message's wire fields, as ORM rows or as the Core rows `_find` reads (`message_rows`).
MessageRow = ConversationMessage | Row[Any]


def message_document(row: MessageRow) -> dict[str, Any]:
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


def _users_documents(users: Iterable[ConversationUser | Row[Any]]) -> list[dict[str, str]]:
    documents = []
    for user in users:
        document = {}
        if user.user_id is not None:
            document["id"] = user.user_id
        if user.user_name is not None:
            document["name"] = user.user_name
        documents.append(document)
    return documents


def conversation_document(
    conversation: Conversation | Row[Any],
    messages: Sequence[MessageRow] | None,
    users: Sequence[ConversationUser | Row[Any]] | None = None,
) -> dict[str, Any]:
    """The wire document, from the ORM object or (`_find`) from plain rows with `users` given."""
    if users is None:
        assert isinstance(conversation, Conversation)
        users = conversation.users
    document: dict[str, Any] = {
        "id": conversation.id,
        "title": conversation.title,
        "category": conversation.category,
        "timestamp": kibana_timestamp(conversation.created_at),
        "createdAt": kibana_timestamp(conversation.created_at),
        "updatedAt": kibana_timestamp(conversation.updated_at),
        "createdBy": {"id": conversation.created_by_id, "name": conversation.created_by_name},
        "users": _users_documents(users),
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


# What `message_document` reads: not the chat-only extras (data, rounds, ...), JSON that can be
# large and that `_find` never returns. Read as plain rows: ORM objects cost ~20 us each.
MESSAGE_WIRE_COLUMNS = (
    ConversationMessage.conversation_id,
    ConversationMessage.timestamp,
    ConversationMessage.content,
    ConversationMessage.role,
    ConversationMessage.is_error,
    ConversationMessage.reader,
    ConversationMessage.trace_data,
    ConversationMessage.message_metadata,
)


def message_rows(session: Session, conversation_ids: Sequence[str]) -> dict[str, list[Row[Any]]]:
    """The wire fields of the conversations' messages, in order, for documents only."""
    if not conversation_ids:
        return {}
    query = (
        select(*MESSAGE_WIRE_COLUMNS)
        .where(ConversationMessage.conversation_id.in_(conversation_ids))
        .order_by(ConversationMessage.conversation_id, ConversationMessage.seq)
    )
    return _by_conversation(session.execute(query))


def _user_rows(session: Session, conversation_ids: Sequence[str]) -> dict[str, list[Row[Any]]]:
    if not conversation_ids:
        return {}
    query = (
        select(ConversationUser.conversation_id, ConversationUser.user_id, ConversationUser.user_name)
        .where(ConversationUser.conversation_id.in_(conversation_ids))
        .order_by(ConversationUser.conversation_id, ConversationUser.position)
    )
    return _by_conversation(session.execute(query))


def _by_conversation(rows: Iterable[Any]) -> dict[str, list[Row[Any]]]:
    grouped: dict[str, list[Row[Any]]] = defaultdict(list)
    for row in rows:
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
    count, page_ids, params = find_statements(principal, space_id, query)
    total = session.scalar(count, params) or 0
    if query.per_page == 0:
        return total, []
    ids = list(session.scalars(page_ids, params))
    # Plain rows, not ORM objects: these are only turned into documents.
    rows = session.execute(select(*Conversation.__table__.c).where(Conversation.id.in_(ids)))
    by_id = {row.id: row for row in rows}
    conversations = [by_id[i] for i in ids if i in by_id]
    users = _user_rows(session, ids)
    wants_messages = not query.fields or any(name == "messages" for name in query.fields)
    messages = message_rows(session, ids) if wants_messages else {}
    documents = [
        conversation_document(c, messages.get(c.id, []) if wants_messages else None, users.get(c.id, []))
        for c in conversations
    ]
    if query.fields:
        documents = [select_fields(d, query.fields, _FIELD_ALIASES, _ALWAYS_RETURNED) for d in documents]
    return total, documents


def find_statements(
    principal: Principal, space_id: str, query: FindQuery
) -> tuple[Select[Any], Select[Any], dict[str, Any]]:
    """`_find`'s SQL and the values to run it with: the total (the sum of a count per disjoint
    visibility branch, in one statement), and the ids of the requested page."""
    count, page_ids = _find_templates(query.filter, query.sort_field, query.sort_order, query.is_owner)
    params = {
        "find_user_id": principal.user_id,
        "find_username": principal.username,
        "find_space_id": space_id,
        "find_enough": query.page * query.per_page,
        "find_offset": (query.page - 1) * query.per_page,
        "find_per_page": query.per_page,
    }
    return count, page_ids, params


@lru_cache(maxsize=256)
def _find_templates(
    kql: str | None, sort_field: str, sort_order: str, owned_only: bool
) -> tuple[Select[Any], Select[Any]]:
    """`_find`'s statements with the caller, space and page as bound parameters: built once per
    filter and sort (building them took ~2 ms a call, more than running the count).

    The page: each branch contributes its first page*per_page rows in sort order (an index walk
    that stops early), and the merge keeps the requested slice.
    """
    branches = visibility_branches(
        bindparam("find_user_id", type_=String()),
        bindparam("find_username", type_=String()),
        bindparam("find_space_id", type_=String()),
        owned_only=owned_only,
    )
    if kql:
        condition = compile_filter(kql)
        branches = [and_(branch, condition) for branch in branches]
    counts = [select(func.count()).select_from(Conversation).where(branch).scalar_subquery() for branch in branches]
    total = select(reduce(operator.add, counts))
    column = _SORT_COLUMNS[sort_field]
    descending = sort_order == "desc"
    parts = [
        select(Conversation.id.label("id"), column.label("sort_key"))
        .where(branch)
        .order_by(column.desc() if descending else column.asc(), Conversation.id)
        .limit(bindparam("find_enough", type_=Integer()))
        .subquery()
        for branch in branches
    ]
    merged = union_all(*(select(part.c.id, part.c.sort_key) for part in parts)).subquery()
    page_ids = (
        select(merged.c.id)
        .order_by(merged.c.sort_key.desc() if descending else merged.c.sort_key.asc(), merged.c.id)
        .offset(bindparam("find_offset", type_=Integer()))
        .limit(bindparam("find_per_page", type_=Integer()))
    )
    return total, page_ids


# --- writes --------------------------------------------------------------------------------------


def _set_users(conversation: Conversation, users: Iterable[schemas.User | dict[str, Any]]) -> None:
    rows = []
    for position, user in enumerate(users):
        data = user.model_dump() if isinstance(user, schemas.User) else user
        if not data.get("id") and not data.get("name"):
            raise BadRequest("[request body]: users: every user needs an id or a name")
        user_id = data.get("id")
        rows.append(
            ConversationUser(
                position=position,
                user_id=user_id,
                user_name=data.get("name"),
                is_owner=user_id is not None and user_id == conversation.created_by_id,
            )
        )
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
        before = sharing_state(
            _users_documents(conversation.users), conversation.created_by_id, conversation.created_by_name
        )
        _set_users(conversation, props.users)
        after_users = _users_documents(conversation.users)
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
