"""What the knowledge base adds to a turn's context before the model runs.

- `required` entries, always (Kibana's "Knowledge History" section of the system prompt), each
  with its citation marker, newest first within a character budget.
- For models without native tool calls (the embedded model), the passages retrieved for the
  user's question, also with citation markers: such small models rarely manage to call a tool.
  Their answers rarely cite either, so the passages they were given are listed as the answer's
  sources (`sources_footer`).

Both texts are part of the system prompt, so the turn's anonymization applies to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from vigil.agent.references import ReferenceStore
from vigil.auth.principal import Principal
from vigil.knowledge_base import service
from vigil.knowledge_base.runtime import KnowledgeBase

KNOWLEDGE_HISTORY_PREFIX = "Knowledge History:"
RETRIEVED_PREFIX = (
    "Knowledge base passages that may answer the user's question. Use them when relevant and put "
    "the citation marker shown after a passage right after the sentence that uses it:"
)
# Connector types whose models get tools through the prompt rather than natively.
PROMPTED_TOOL_CONNECTORS = frozenset({".vigil-local"})


@dataclass
class TurnKnowledge:
    """The knowledge-base part of a turn's system prompt, and the citations it made available."""

    text: str = ""
    source_markers: list[str] = field(default_factory=list)  # retrieved passages, for the footer


@dataclass(frozen=True)
class RequiredEntry:
    """What a turn needs of a `required` entry (a snapshot: turns may share it)."""

    id: str
    name: str
    text: str


def required_entries(session: Session, principal: Principal, space_id: str) -> tuple[RequiredEntry, ...]:
    """The caller's and the space's `required` document entries, newest first."""
    return tuple(
        RequiredEntry(entry.id, entry.name, entry.text or "")
        for entry in service.required_entries(session, principal, space_id)
    )


def history_text(entries: Iterable[RequiredEntry], references: ReferenceStore, max_chars: int) -> str:
    """The "Knowledge History" section: each entry that fits the budget, with its citation."""
    lines: list[str] = []
    budget = max_chars
    for entry in entries:
        body = " ".join(entry.text.split())
        candidate = f"- {entry.name}: {body}"
        if len(candidate) + 20 > budget:
            continue
        reference_id = references.add(
            "KnowledgeBaseEntry", knowledgeBaseEntryId=entry.id, knowledgeBaseEntryName=entry.name
        )
        line = f"{candidate} {{reference({reference_id})}}"
        lines.append(line)
        budget -= len(line) + 1
    return f"{KNOWLEDGE_HISTORY_PREFIX}\n" + "\n".join(lines) if lines else ""


def knowledge_history(
    session: Session, principal: Principal, space_id: str, references: ReferenceStore, max_chars: int
) -> str:
    return history_text(required_entries(session, principal, space_id), references, max_chars)


def shorten(text: str, max_chars: int) -> str:
    """At most `max_chars`, cut at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0]
    return cut + "…"


def retrieved_passages(
    kb: KnowledgeBase,
    principal: Principal,
    space_id: str,
    question: str,
    references: ReferenceStore,
    limit: int,
    max_chars: int,
) -> tuple[str, list[str]]:
    found = kb.retrieve(principal, space_id, question, limit=limit)
    lines: list[str] = []
    markers: list[str] = []
    share = max(80, max_chars // max(1, len(found.passages)))
    for number, passage in enumerate(found.passages, start=1):
        reference_id = references.add(
            "KnowledgeBaseEntry", knowledgeBaseEntryId=passage.entry_id, knowledgeBaseEntryName=passage.name
        )
        marker = f"{{reference({reference_id})}}"
        markers.append(marker)
        text = shorten(passage.text, share)
        lines.append(f"[{number}] {passage.name} ({passage.source}): {text} {marker}")
    return (f"{RETRIEVED_PREFIX}\n" + "\n".join(lines) if lines else ""), markers


def turn_knowledge(
    kb: KnowledgeBase,
    required: Iterable[RequiredEntry],
    principal: Principal,
    space_id: str,
    question: str,
    references: ReferenceStore,
    *,
    prompted_tools: bool,
) -> TurnKnowledge:
    """`required`: the caller's `required` entries (`required_entries`)."""
    settings = kb.settings
    parts = [history_text(required, references, settings.knowledge_base_required_max_chars)]
    markers: list[str] = []
    if prompted_tools and settings.knowledge_base_context_passages > 0 and question.strip():
        retrieved, markers = retrieved_passages(
            kb,
            principal,
            space_id,
            question,
            references,
            settings.knowledge_base_context_passages,
            settings.knowledge_base_context_max_chars,
        )
        parts.append(retrieved)
    return TurnKnowledge("\n\n".join(part for part in parts if part), markers)


def sources_footer(answer: str, markers: Iterable[str]) -> str:
    """`\\n\\nSources: {reference(a)} {reference(b)}` for given passages the answer does not cite
    already; empty when the answer cites one of them itself."""
    markers = list(markers)
    if not markers or any(marker in answer for marker in markers):
        return ""
    return "\n\nSources: " + " ".join(markers)
