"""Per-space knowledge base state: the embedding model, whether built-in content is searched, and
the revision every write bumps (how servers notice that their cached dense index is stale)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.db.base import utcnow
from vigil.knowledge_base.models import BUILTIN_NAMESPACE, KnowledgeBaseSpace


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def ensure_spaces(session: Session, namespaces: Iterable[str], default_model: str) -> None:
    """Creates the missing rows (race-safe: ON CONFLICT DO NOTHING)."""
    now = utcnow()
    rows = [
        {
            "namespace": namespace,
            "embedding_model_id": default_model,
            "builtin_enabled": True,
            "revision": 0,
            "set_up_at": None,
            "updated_at": now,
        }
        for namespace in dict.fromkeys(namespaces)
    ]
    if rows:
        session.execute(_insert(session)(KnowledgeBaseSpace).on_conflict_do_nothing(), rows)


def get_space(session: Session, namespace: str) -> KnowledgeBaseSpace | None:
    return session.get(KnowledgeBaseSpace, namespace)


def bump_revisions(session: Session, namespaces: Iterable[str], default_model: str) -> None:
    wanted = list(dict.fromkeys(namespaces))
    if not wanted:
        return
    ensure_spaces(session, wanted, default_model)
    session.execute(
        update(KnowledgeBaseSpace)
        .where(KnowledgeBaseSpace.namespace.in_(wanted))
        .values(revision=KnowledgeBaseSpace.revision + 1, updated_at=utcnow())
    )


def search_namespaces(space: KnowledgeBaseSpace | None, space_id: str) -> list[str]:
    """The namespaces a space's retrieval reads: its own, and the built-in content unless turned off."""
    if space is not None and not space.builtin_enabled:
        return [space_id]
    return [space_id, BUILTIN_NAMESPACE]


def model_of(space: KnowledgeBaseSpace | None, default_model: str) -> str:
    return space.embedding_model_id if space is not None else default_model


def spaces_by_model(session: Session, default_model: str) -> dict[str, list[str]]:
    """Embedding model name -> namespaces to embed for it (built-in content included when a space
    of that model searches it)."""
    result: dict[str, list[str]] = {default_model: [BUILTIN_NAMESPACE]}
    for space in session.scalars(select(KnowledgeBaseSpace).where(KnowledgeBaseSpace.namespace != BUILTIN_NAMESPACE)):
        namespaces = result.setdefault(space.embedding_model_id, [])
        namespaces.append(space.namespace)
        if space.builtin_enabled and BUILTIN_NAMESPACE not in namespaces:
            namespaces.append(BUILTIN_NAMESPACE)
    return result
