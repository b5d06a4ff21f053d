"""Vigil's NumPy all-MiniLM-L6-v2 gives the vectors sentence-transformers gives.

`data/minilm_reference.json` holds sentence-transformers' own output for ten sentences (accents,
CJK, emoji, a text past the 256-token limit, a one-letter text), produced with the
`minilm-reference` extra installed; the live comparison runs where that extra is installed.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from vigil.knowledge_base.embeddings.minilm import DIMENSIONS, MAX_TOKENS, MiniLMEncoder

pytestmark = pytest.mark.backend_independent

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return MiniLMEncoder()


def test_matches_the_recorded_sentence_transformers_output(encoder: MiniLMEncoder) -> None:
    ours = encoder.encode(REFERENCE["sentences"])
    theirs = np.asarray(REFERENCE["vectors"], dtype=np.float32)
    assert ours.shape == theirs.shape == (len(REFERENCE["sentences"]), DIMENSIONS)
    assert np.abs(ours - theirs).max() < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_batching_and_order_do_not_change_vectors(encoder: MiniLMEncoder) -> None:
    sentences = REFERENCE["sentences"]
    one_by_one = np.vstack([encoder.encode([s]) for s in sentences])
    reversed_batch = encoder.encode(list(reversed(sentences)))[::-1]
    assert np.abs(one_by_one - reversed_batch).max() < 1e-5


def test_long_texts_are_truncated_at_the_model_limit(encoder: MiniLMEncoder) -> None:
    long_text = "credential dumping " * 400
    assert encoder.token_count(long_text) == MAX_TOKENS
    # Words past the limit do not change the vector.
    assert np.abs(encoder.encode([long_text]) - encoder.encode([long_text + " ransomware" * 50])).max() < 1e-6


def test_similar_meanings_are_closer_than_unrelated_ones(encoder: MiniLMEncoder) -> None:
    query, related, unrelated = encoder.encode(
        [
            "dumping passwords from LSASS memory",
            "Adversaries may access credential material stored in the memory of the LSASS process.",
            "The quarterly marketing budget was approved by the board.",
        ]
    )
    assert float(query @ related) > float(query @ unrelated) + 0.2


def test_empty_input_gives_an_empty_matrix(encoder: MiniLMEncoder) -> None:
    assert encoder.encode([]).shape == (0, DIMENSIONS)


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None,
    reason="the minilm-reference extra (sentence-transformers, torch) is not installed",
)
def test_matches_sentence_transformers_live(encoder: MiniLMEncoder) -> None:
    from sentence_transformers import SentenceTransformer

    from vigil.knowledge_base.embeddings.minilm import model_directory

    model = SentenceTransformer(str(model_directory()), device="cpu")
    sentences = [*REFERENCE["sentences"], "Which group uses Cobalt Strike for lateral movement?"]
    theirs = model.encode(sentences, convert_to_numpy=True)
    assert np.abs(encoder.encode(sentences) - theirs).max() < 1e-5
