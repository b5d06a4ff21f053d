"""Prompt storage and rules. Every function takes the caller and the space.

Visibility follows Kibana: every prompt of a space is readable by everyone with assistant read
there (Kibana's `_find` has no user filter), while writes are scoped to the caller's own prompts
(Kibana filters updates and deletes on `users`). Default prompts (`isDefault`) are shared by the
space: updating one needs the assistant *customize* privilege, and none can be deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.auth.principal import Principal
from vigil.conversations.service import kibana_timestamp
from vigil.db.base import utcnow
from vigil.errors import BadRequest, Conflict, Forbidden, NotFound
from vigil.paging import FindQuery, FindShape, find_page
from vigil.prompts import schemas
from vigil.prompts.defaults import DEFAULT_PROMPTS, DEFAULT_PROMPTS_BY_ID, DefaultPrompt
from vigil.prompts.filters import compile_filter
from vigil.prompts.models import BUILTIN_OWNER, Prompt, PromptCategory

# --- wire <-> rows -------------------------------------------------------------------------------


def prompt_document(prompt: Prompt) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": prompt.id,
        "timestamp": kibana_timestamp(prompt.created_at),
        "name": prompt.name,
        "promptType": prompt.prompt_type,
        "content": prompt.content,
        "categories": [row.category for row in prompt.categories],
        "isDefault": prompt.is_default,
        "createdAt": kibana_timestamp(prompt.created_at),
        "updatedAt": kibana_timestamp(prompt.updated_at),
        "users": list(prompt.users or []),
        "namespace": prompt.namespace,
    }
    optional = {
        "color": prompt.color,
        "isNewConversationDefault": prompt.is_new_conversation_default,
        "consumer": prompt.consumer,
        "createdBy": prompt.created_by,
        "updatedBy": prompt.updated_by,
    }
    document.update({key: value for key, value in optional.items() if value is not None})
    return document


def _category_rows(space_id: str, prompt_id: str, categories: Sequence[str]) -> list[PromptCategory]:
    # Duplicates are dropped, order kept.
    unique = list(dict.fromkeys(categories))
    return [
        PromptCategory(namespace=space_id, prompt_id=prompt_id, position=i, category=c) for i, c in enumerate(unique)
    ]


# --- defaults ------------------------------------------------------------------------------------


def defaults_missing(session: Session, space_id: str) -> bool:
    """Whether the space still lacks some of the prompts Vigil ships (cheap: one indexed count)."""
    present = session.scalar(
        select(func.count())
        .select_from(Prompt)
        .where(Prompt.namespace == space_id, Prompt.id.in_(list(DEFAULT_PROMPTS_BY_ID)))
    )
    return (present or 0) < len(DEFAULT_PROMPTS)


def _default_row(space_id: str, prompt: DefaultPrompt, now: datetime) -> dict[str, Any]:
    return {
        "namespace": space_id,
        "id": prompt.id,
        "name": prompt.name,
        "prompt_type": prompt.prompt_type,
        "content": prompt.content,
        "color": prompt.color,
        "consumer": prompt.consumer,
        "is_default": True,
        "is_new_conversation_default": prompt.is_new_conversation_default,
        "owner_id": BUILTIN_OWNER,
        "users": [],
        "created_by": None,
        "updated_by": None,
        "created_at": now,
        "updated_at": now,
    }


def seed_defaults(session: Session, space_id: str) -> None:
    """Insert-if-absent of every shipped prompt: two first requests racing on a new space both
    succeed and leave exactly one copy (ON CONFLICT DO NOTHING on the (namespace, id) key)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    now = utcnow()
    session.execute(
        insert(Prompt).on_conflict_do_nothing(),
        [_default_row(space_id, prompt, now) for prompt in DEFAULT_PROMPTS],
    )
    categories = [
        {"namespace": space_id, "prompt_id": prompt.id, "position": position, "category": category}
        for prompt in DEFAULT_PROMPTS
        for position, category in enumerate(prompt.categories)
    ]
    if categories:
        session.execute(insert(PromptCategory).on_conflict_do_nothing(), categories)


# --- reads ---------------------------------------------------------------------------------------


def get_in_space(session: Session, space_id: str, prompt_id: str, *, lock: bool = False) -> Prompt:
    query = select(Prompt).where(Prompt.namespace == space_id, Prompt.id == prompt_id)
    if lock:
        query = query.with_for_update()
    prompt = session.scalar(query)
    if prompt is None:
        raise NotFound(f'prompt id: "{prompt_id}" not found')
    return prompt


def is_owner(prompt: Prompt, principal: Principal) -> bool:
    return prompt.owner_id == principal.user_id


_SORT_COLUMNS = {
    "created_at": Prompt.created_at,
    "updated_at": Prompt.updated_at,
    "name": Prompt.name,
    "is_default": Prompt.is_default,
}
_FIELD_ALIASES = {
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "created_by": "createdBy",
    "updated_by": "updatedBy",
    "@timestamp": "timestamp",
    "prompt_type": "promptType",
    "is_default": "isDefault",
    "is_new_conversation_default": "isNewConversationDefault",
}
# PromptResponse requires these, so they come back whatever `fields=` says.
_ALWAYS_RETURNED = ("id", "name", "promptType", "content")
_FIND_SHAPE = FindShape(Prompt, Prompt.id, _SORT_COLUMNS, _FIELD_ALIASES, _ALWAYS_RETURNED)


def find(session: Session, principal: Principal, space_id: str, query: FindQuery) -> tuple[int, list[dict[str, Any]]]:
    condition: ColumnElement[bool] = Prompt.namespace == space_id
    if query.filter:
        condition = and_(condition, compile_filter(query.filter))
    return find_page(session, _FIND_SHAPE, condition, query, prompt_document)


def resolve_system_prompt(session: Session, principal: Principal, space_id: str, prompt_id: str | None) -> str:
    """The content of the system prompt a chat should start with.

    `prompt_id` None picks the new-conversation default: the caller's own newest prompt marked
    `isNewConversationDefault`, else the space's shared one, else the one Vigil ships. Never
    writes, so it is safe in a read-only session; a space not seeded yet falls back to the
    shipped texts. Raises NotFound for an id that is not a system prompt of the space.
    """
    if prompt_id is None:
        own_or_default = and_(
            Prompt.namespace == space_id,
            Prompt.prompt_type == "system",
            Prompt.is_new_conversation_default.is_(True),
        )
        candidates = session.scalars(
            select(Prompt).where(own_or_default).order_by(Prompt.updated_at.desc(), Prompt.id)
        ).all()
        for wanted in (principal.user_id, BUILTIN_OWNER):
            for candidate in candidates:
                if candidate.owner_id == wanted:
                    return candidate.content
        for shipped in DEFAULT_PROMPTS:
            if shipped.prompt_type == "system" and shipped.is_new_conversation_default:
                return shipped.content
        raise NotFound("no default system prompt in this space")  # pragma: no cover (data bug)
    prompt = session.scalar(
        select(Prompt).where(Prompt.namespace == space_id, Prompt.id == prompt_id, Prompt.prompt_type == "system")
    )
    if prompt is not None:
        return prompt.content
    shipped_prompt = DEFAULT_PROMPTS_BY_ID.get(prompt_id)
    if shipped_prompt is not None and shipped_prompt.prompt_type == "system":
        exists_at_all = session.scalar(
            select(func.count()).select_from(Prompt).where(Prompt.namespace == space_id, Prompt.id == prompt_id)
        )
        if not exists_at_all:  # not seeded yet in this space
            return shipped_prompt.content
    raise NotFound(f'system prompt id: "{prompt_id}" not found')


# --- writes --------------------------------------------------------------------------------------


def _require_customize(principal: Principal, what: str) -> None:
    if not principal.grants.assistant_customize:
        raise Forbidden(f"{what} needs the AI Assistant customize privilege [securitySolution-aiAssistantCustomize]")


def create(session: Session, principal: Principal, space_id: str, props: schemas.PromptCreateProps) -> Prompt:
    if props.isDefault:
        _require_customize(principal, "creating a default prompt")
    clash = session.scalar(
        select(Prompt.id).where(
            Prompt.namespace == space_id,
            Prompt.prompt_type == props.promptType,
            Prompt.name == props.name,
            (Prompt.owner_id == principal.user_id) | Prompt.is_default.is_(True),
        )
    )
    if clash is not None:
        raise Conflict(f'prompt with name: "{props.name}" already exists (id: "{clash}")')
    now = utcnow()
    prompt_id = str(uuid.uuid4())
    prompt = Prompt(
        namespace=space_id,
        id=prompt_id,
        name=props.name,
        prompt_type=props.promptType,
        content=props.content,
        color=props.color,
        consumer=props.consumer,
        is_default=bool(props.isDefault),
        is_new_conversation_default=props.isNewConversationDefault,
        owner_id=principal.user_id,
        users=[principal.as_kibana_user],
        created_by=principal.user_id,
        updated_by=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    prompt.categories = _category_rows(space_id, prompt_id, props.categories or [])
    session.add(prompt)
    session.flush()
    return prompt


def _get_writable(session: Session, principal: Principal, space_id: str, prompt_id: str) -> Prompt:
    """404 when the space has no such prompt, 403 when the caller may not change it."""
    prompt = get_in_space(session, space_id, prompt_id, lock=True)
    if prompt.is_default:
        _require_customize(principal, f"changing the default prompt {prompt_id}")
    elif not is_owner(prompt, principal):
        raise Forbidden(f"prompt {prompt_id} belongs to another user")
    return prompt


def update(session: Session, principal: Principal, space_id: str, props: schemas.PromptUpdateProps) -> Prompt:
    prompt = _get_writable(session, principal, space_id, props.id)
    if props.isDefault is not None and props.isDefault != prompt.is_default:
        _require_customize(principal, "changing whether a prompt is a default")
        prompt.is_default = props.isDefault
    if props.content is not None:
        prompt.content = props.content
    if props.color is not None:
        prompt.color = props.color
    if props.consumer is not None:
        prompt.consumer = props.consumer
    if props.isNewConversationDefault is not None:
        prompt.is_new_conversation_default = props.isNewConversationDefault
    if props.categories is not None:
        prompt.categories = []
        session.flush()
        prompt.categories = _category_rows(space_id, prompt.id, props.categories)
    prompt.updated_by = principal.user_id
    prompt.updated_at = utcnow()
    session.flush()
    return prompt


def delete_one(session: Session, principal: Principal, space_id: str, prompt_id: str) -> Prompt:
    prompt = get_in_space(session, space_id, prompt_id, lock=True)
    if prompt.is_default:
        raise BadRequest(f"prompt {prompt_id} is a default prompt and cannot be deleted")
    if not is_owner(prompt, principal):
        raise Forbidden(f"prompt {prompt_id} belongs to another user")
    session.delete(prompt)
    session.flush()
    return prompt


def delete_targets(
    session: Session, principal: Principal, space_id: str, kql: str | None, ids: Sequence[str] | None
) -> list[tuple[str, str]]:
    """(id, name) of the prompts a bulk delete names. A query alone only ever reaches the
    caller's own non-default prompts; ids are returned as matched so each refusal is reported."""
    condition: ColumnElement[bool] = Prompt.namespace == space_id
    if kql:
        condition = and_(condition, compile_filter(kql))
    if ids:
        condition = and_(condition, Prompt.id.in_(list(ids)))
    else:
        condition = and_(condition, Prompt.owner_id == principal.user_id, Prompt.is_default.is_(False))
    rows = session.execute(select(Prompt.id, Prompt.name).where(condition).order_by(Prompt.id))
    return [(row.id, row.name) for row in rows]
