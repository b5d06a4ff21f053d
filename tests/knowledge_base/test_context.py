"""What the knowledge base adds to a turn's context: required entries within their budget, and
the sources footer for the passages given to models without native tool calls."""

from __future__ import annotations

import time
import uuid

from vigil.agent.references import ReferenceStore
from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.knowledge_base import schemas, service
from vigil.knowledge_base.context import knowledge_history, shorten, sources_footer

OWNER = Principal(user_id="u-ctx", username="ctx", roles=("superuser",))
OTHER = Principal(user_id="u-other", username="other", roles=("editor",))


def add(database: Database, space: str, name: str, text: str, *, required: bool, shared: bool = False) -> None:
    props = schemas.DocumentEntryCreateFields(
        type="document",
        name=name,
        kbResource="user",
        source="t",
        text=text,
        required=required,
        **({"global": True} if shared else {}),
    )
    with database.session() as session:
        service.create(session, OWNER, space, props, "vigil-minilm")
    time.sleep(0.01)  # distinct update times: newest first is part of the contract


def test_required_entries_newest_first_within_the_budget_with_citations(database: Database) -> None:
    space = f"ctx-{uuid.uuid4().hex[:8]}"
    add(database, space, "old", "the oldest required note", required=True)
    add(database, space, "optional", "not required, never in context", required=False)
    add(database, space, "huge", "x " * 400, required=True)
    add(database, space, "team", "shared with the space", required=True, shared=True)
    references = ReferenceStore()
    with database.session(readonly=True) as session:
        history = knowledge_history(session, OWNER, space, references, max_chars=300)
    lines = history.splitlines()
    assert lines[0] == "Knowledge History:"
    assert lines[1].startswith("- team: shared with the space {reference(")
    assert lines[2].startswith("- old: the oldest required note {reference(")
    assert len(lines) == 3  # "huge" does not fit, "optional" is not required
    cited = references.cited_in(history)
    assert sorted(r["knowledgeBaseEntryName"] for r in cited.values()) == ["old", "team"]

    with database.session(readonly=True) as session:
        others = knowledge_history(session, OTHER, space, ReferenceStore(), max_chars=300)
    assert others == "Knowledge History:\n- team: shared with the space " + others.split("space ", 1)[1]
    with database.session(readonly=True) as session:
        assert knowledge_history(session, OTHER, f"{space}-empty", ReferenceStore(), max_chars=300) == ""


def test_sources_footer_only_when_the_answer_cites_none_of_the_given_passages() -> None:
    markers = ["{reference(a1)}", "{reference(b2)}"]
    assert sources_footer("PowerShell is T1059.001.", markers) == "\n\nSources: {reference(a1)} {reference(b2)}"
    assert sources_footer("It is T1059.001 {reference(b2)}.", markers) == ""
    assert sources_footer("anything", []) == ""


def test_shorten_cuts_at_a_word() -> None:
    assert shorten("one  two\nthree", 50) == "one two three"
    assert shorten("alpha beta gamma delta", 12) == "alpha beta…"
