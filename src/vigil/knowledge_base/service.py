"""Knowledge base entries: storage and rules. Every function takes the caller and the space.

Who sees what, as in Kibana: an entry is private to its author (`users: [author]`) or global to
the space (`users: []`, `global: true`). Everyone with assistant read sees their own and the
global ones, plus the built-in reference content, which is read-only. Writing a global entry
(creating, changing or deleting one, or making one global) needs the assistant *customize*
privilege, Kibana's `manageGlobalKnowledgeBaseAIAssistant`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from vigil.auth.principal import Principal
from vigil.conversations.service import kibana_timestamp
from vigil.db.base import utcnow
from vigil.errors import Forbidden, NotFound
from vigil.knowledge_base import schemas
from vigil.knowledge_base.filters import compile_filter
from vigil.knowledge_base.indexing import replace_chunks
from vigil.knowledge_base.models import BUILTIN_NAMESPACE, GLOBAL_OWNER, KnowledgeBaseEntry
from vigil.knowledge_base.spaces import bump_revisions, get_space, search_namespaces
from vigil.paging import FindQuery, FindShape, find_page

BUILTIN_AUTHOR = "vigil"

# --- wire <-> rows -------------------------------------------------------------------------------


def is_global(entry: KnowledgeBaseEntry) -> bool:
    return entry.owner_id == GLOBAL_OWNER


def entry_document(entry: KnowledgeBaseEntry, space_id: str | None = None) -> dict[str, Any]:
    """Kibana's DocumentEntry / IndexEntry. Built-in entries show the space they are read from."""
    namespace = entry.namespace if entry.namespace != BUILTIN_NAMESPACE else (space_id or "default")
    document: dict[str, Any] = {
        "id": entry.id,
        "name": entry.name,
        "namespace": namespace,
        "global": is_global(entry),
        "users": list(entry.users or []),
        "type": entry.entry_type,
        "createdAt": kibana_timestamp(entry.created_at),
        "createdBy": entry.created_by or BUILTIN_AUTHOR,
        "updatedAt": kibana_timestamp(entry.updated_at),
        "updatedBy": entry.updated_by or BUILTIN_AUTHOR,
    }
    if entry.entry_type == "document":
        document.update(
            {
                "kbResource": entry.kb_resource or "user",
                "source": entry.source or "",
                "text": entry.text or "",
                "required": bool(entry.required),
            }
        )
        if entry.url:
            document["url"] = entry.url
    else:
        document.update(
            {
                "index": entry.index_name or "",
                "field": entry.field or "",
                "description": entry.description or "",
                "queryDescription": entry.query_description or "",
                "inputSchema": list(entry.input_schema or []),
                "outputFields": list(entry.output_fields or []),
            }
        )
    return document


def _wants_global(props: schemas.DocumentEntryCreateFields | schemas.IndexEntryCreateFields) -> bool:
    return bool(props.global_) or (props.users is not None and len(props.users) == 0)


def require_customize(principal: Principal, what: str) -> None:
    if not principal.grants.assistant_customize:
        raise Forbidden(
            f"{what} needs the AI Assistant customize privilege "
            "[securitySolution-aiAssistantCustomize] (Kibana: manageGlobalKnowledgeBaseAIAssistant)"
        )


def _apply(
    entry: KnowledgeBaseEntry, props: schemas.DocumentEntryCreateFields | schemas.IndexEntryCreateFields
) -> None:
    entry.entry_type = props.type
    entry.name = props.name
    if isinstance(props, schemas.DocumentEntryCreateFields):
        entry.kb_resource = props.kbResource
        entry.source = props.source
        entry.text = props.text
        entry.required = bool(props.required)
        entry.index_name = entry.field = entry.description = entry.query_description = None
        entry.input_schema = entry.output_fields = None
    else:
        entry.index_name = props.index
        entry.field = props.field
        entry.description = props.description
        entry.query_description = props.queryDescription
        entry.input_schema = [item.model_dump() for item in props.inputSchema or []]
        entry.output_fields = list(props.outputFields or [])
        entry.kb_resource = entry.source = entry.text = None
        entry.required = False


# --- visibility ----------------------------------------------------------------------------------


def owners_for(principal: Principal) -> list[str]:
    """The owners whose entries the caller sees: the whole space's, and their own."""
    return [GLOBAL_OWNER, principal.user_id]


def _visible(principal: Principal, space_id: str) -> ColumnElement[bool]:
    return and_(
        KnowledgeBaseEntry.namespace == space_id,
        KnowledgeBaseEntry.owner_id.in_(owners_for(principal)),
    )


def get_visible(session: Session, principal: Principal, space_id: str, entry_id: str) -> KnowledgeBaseEntry:
    """An entry of the space the caller may read, or a built-in one; 404 otherwise (whether another
    user's private entry exists is not revealed)."""
    entry = session.scalar(
        select(KnowledgeBaseEntry).where(_visible(principal, space_id), KnowledgeBaseEntry.id == entry_id)
    )
    if entry is None and BUILTIN_NAMESPACE in search_namespaces(get_space(session, space_id), space_id):
        entry = session.get(KnowledgeBaseEntry, (BUILTIN_NAMESPACE, entry_id))
    if entry is None:
        raise NotFound(f'Knowledge Base Entry id: "{entry_id}" not found')
    return entry


def _get_writable(session: Session, principal: Principal, space_id: str, entry_id: str) -> KnowledgeBaseEntry:
    entry = get_visible(session, principal, space_id, entry_id)
    if entry.namespace == BUILTIN_NAMESPACE:
        raise Forbidden(
            f"Knowledge Base Entry {entry_id} is built-in reference content and read-only; "
            "knowledge base setup updates it"
        )
    if is_global(entry):
        require_customize(principal, "changing a global knowledge base entry")
    return entry


# --- writes --------------------------------------------------------------------------------------


def create(
    session: Session,
    principal: Principal,
    space_id: str,
    props: schemas.DocumentEntryCreateFields | schemas.IndexEntryCreateFields,
    default_model: str,
) -> KnowledgeBaseEntry:
    shared = _wants_global(props)
    if shared:
        require_customize(principal, "creating a global knowledge base entry")
    now = utcnow()
    entry = KnowledgeBaseEntry(
        namespace=space_id,
        id=str(uuid.uuid4()),
        owner_id=GLOBAL_OWNER if shared else principal.user_id,
        users=[] if shared else [principal.as_kibana_user],
        collection=None,
        created_by=principal.username,
        updated_by=principal.username,
        created_at=now,
        updated_at=now,
    )
    _apply(entry, props)
    session.add(entry)
    session.flush()
    replace_chunks(session, [entry])
    bump_revisions(session, [space_id], default_model)
    return entry


def update(
    session: Session,
    principal: Principal,
    space_id: str,
    entry_id: str,
    props: schemas.DocumentEntryUpdateFields | schemas.IndexEntryUpdateFields,
    default_model: str,
) -> KnowledgeBaseEntry:
    entry = _get_writable(session, principal, space_id, entry_id)
    if props.global_ is not None or props.users is not None:
        shared = _wants_global(props)
        if shared != is_global(entry):
            require_customize(principal, "changing whether a knowledge base entry is global")
            entry.owner_id = GLOBAL_OWNER if shared else principal.user_id
            entry.users = [] if shared else [principal.as_kibana_user]
    _apply(entry, props)
    entry.updated_by = principal.username
    entry.updated_at = utcnow()
    session.flush()
    replace_chunks(session, [entry])
    bump_revisions(session, [space_id], default_model)
    return entry


def delete_one(
    session: Session, principal: Principal, space_id: str, entry_id: str, default_model: str
) -> KnowledgeBaseEntry:
    entry = _get_writable(session, principal, space_id, entry_id)
    session.delete(entry)
    session.flush()
    bump_revisions(session, [space_id], default_model)
    return entry


def delete_targets(
    session: Session, principal: Principal, space_id: str, kql: str | None, ids: Sequence[str] | None
) -> list[tuple[str, str]]:
    """(id, name) of what a bulk delete names: among the entries the caller sees (built-in ones
    included when named by id, so their refusal is reported)."""
    condition: ColumnElement[bool] = _visible(principal, space_id)
    if kql:
        condition = and_(condition, compile_filter(kql))
    if ids:
        condition = and_(condition, KnowledgeBaseEntry.id.in_(list(ids)))
    rows = [
        (row.id, row.name)
        for row in session.execute(select(KnowledgeBaseEntry.id, KnowledgeBaseEntry.name).where(condition))
    ]
    if ids:
        found = {entry_id for entry_id, _ in rows}
        builtin = session.execute(
            select(KnowledgeBaseEntry.id, KnowledgeBaseEntry.name).where(
                KnowledgeBaseEntry.namespace == BUILTIN_NAMESPACE,
                KnowledgeBaseEntry.id.in_([i for i in ids if i not in found]),
            )
        )
        rows.extend((row.id, row.name) for row in builtin)
    return sorted(rows)


# --- reads ---------------------------------------------------------------------------------------


_SORT_COLUMNS = {
    "created_at": KnowledgeBaseEntry.created_at,
    "updated_at": KnowledgeBaseEntry.updated_at,
    "title": KnowledgeBaseEntry.name,
    "name": KnowledgeBaseEntry.name,
    "is_default": KnowledgeBaseEntry.required,
}
_FIELD_ALIASES = {
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "created_by": "createdBy",
    "updated_by": "updatedBy",
    "kb_resource": "kbResource",
    "query_description": "queryDescription",
    "input_schema": "inputSchema",
    "output_fields": "outputFields",
}
_ALWAYS_RETURNED = ("id", "type", "name")
_FIND_SHAPE = FindShape(KnowledgeBaseEntry, KnowledgeBaseEntry.id, _SORT_COLUMNS, _FIELD_ALIASES, _ALWAYS_RETURNED)


def find(session: Session, principal: Principal, space_id: str, query: FindQuery) -> tuple[int, list[dict[str, Any]]]:
    """The space's entries the caller sees (built-in content is not listed entry by entry; the
    status route and `builtin_summaries` describe it), paged, sorted and filtered with KQL."""
    condition: ColumnElement[bool] = _visible(principal, space_id)
    if query.filter:
        condition = and_(condition, compile_filter(query.filter))
    return find_page(session, _FIND_SHAPE, condition, query, entry_document)


def required_entries(session: Session, principal: Principal, space_id: str) -> list[KnowledgeBaseEntry]:
    """The caller's and the space's `required` document entries, newest first."""
    return list(
        session.scalars(
            select(KnowledgeBaseEntry)
            .where(
                _visible(principal, space_id),
                KnowledgeBaseEntry.entry_type == "document",
                KnowledgeBaseEntry.required.is_(True),
            )
            .order_by(KnowledgeBaseEntry.updated_at.desc(), KnowledgeBaseEntry.id)
        )
    )


def index_entries(session: Session, principal: Principal, space_id: str) -> list[KnowledgeBaseEntry]:
    """Index entries the caller sees: for the data plane's search tools (one tool per index)."""
    return list(
        session.scalars(
            select(KnowledgeBaseEntry)
            .where(_visible(principal, space_id), KnowledgeBaseEntry.entry_type == "index")
            .order_by(KnowledgeBaseEntry.name, KnowledgeBaseEntry.id)
        )
    )


def user_data_exists(session: Session, principal: Principal, space_id: str) -> bool:
    return session.scalar(select(KnowledgeBaseEntry.id).where(_visible(principal, space_id)).limit(1)) is not None
