"""Pure parts of retrieval: passages from documents, and rank fusion."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.knowledge_base.chunking import chunk_text, sections
from vigil.knowledge_base.fusion import reciprocal_rank_fusion

pytestmark = pytest.mark.backend_independent

words = st.text(alphabet=st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=12)
paragraphs = st.lists(words, min_size=1, max_size=120).map(" ".join)
documents = st.lists(paragraphs, min_size=1, max_size=12).map("\n\n".join)


@settings(max_examples=200, deadline=None)
@given(text=documents, max_words=st.integers(min_value=20, max_value=200))
def test_passages_cover_every_word_and_respect_the_size(text: str, max_words: int) -> None:
    passages = chunk_text("Title", text, max_words=max_words, overlap_words=10)
    assert passages
    body_words = [p.split("\n", 1)[1].split() for p in passages]
    assert all(p.startswith("Title\n") for p in passages)
    assert all(len(b) <= max_words for b in body_words)
    covered = {w for b in body_words for w in b}
    assert set(text.split()) <= covered


def test_headings_give_each_passage_its_context() -> None:
    text = "# Guide\nIntro words.\n\n## Install\nRun make.\n\n### Offline\nNo network needed.\n\n## Run\nServe it."
    assert [s.headings for s in sections(text)] == [
        ("Guide",),
        ("Guide", "Install"),
        ("Guide", "Install", "Offline"),
        ("Guide", "Run"),
    ]
    passages = chunk_text("Vigil docs", text)
    assert passages[2] == "Vigil docs > Guide > Install > Offline\nNo network needed."


def test_code_blocks_are_not_read_as_headings_or_split_at_blank_lines() -> None:
    text = "Intro.\n\n```sh\n# not a heading\n\nmake run\n```"
    (passage,) = chunk_text("T", text)
    assert "# not a heading\n\nmake run" in passage


def test_long_sentences_become_overlapping_windows() -> None:
    sentence = " ".join(f"w{i}" for i in range(100))
    passages = chunk_text("", sentence, max_words=40, overlap_words=10)
    assert [p.split()[0] for p in passages] == ["w0", "w30", "w60"]
    assert passages[-1].split()[-1] == "w99"


def test_a_title_without_text_is_one_passage() -> None:
    assert chunk_text("Only a name", "") == ["Only a name"]
    assert chunk_text("", "   ") == []


def test_fusion_prefers_items_both_rankings_agree_on() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "d", "a"]])
    assert [item for item, _ in fused] == ["a", "c", "b", "d"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 63)


def test_fusion_weights_and_duplicates() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "a", "b"], ["b"]], weights=[1.0, 3.0]))
    assert fused["a"] == pytest.approx(1 / 61)  # counted once, at its best rank
    assert fused["b"] == pytest.approx(1 / 62 + 3 / 61)
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])


@given(st.lists(st.lists(st.integers(0, 30), max_size=20), max_size=4))
def test_fusion_ranks_every_item_once_best_first(rankings: list[list[int]]) -> None:
    fused = reciprocal_rank_fusion(rankings)
    items = [item for item, _ in fused]
    assert sorted(items) == sorted({i for r in rankings for i in r})
    scores = [score for _, score in fused]
    assert scores == sorted(scores, reverse=True)
