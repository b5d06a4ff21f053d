"""Reciprocal rank fusion: one ranking from several, using ranks only (pure).

Full-text scores (BM25) and cosine similarities are on unrelated scales; fusing by rank needs no
calibration. Each list contributes ``weight / (k + rank)`` for every item it ranks (rank 1 first);
``k = 60`` is the constant of Cormack, Clarke and Büttcher (2009), which damps the difference
between the very top ranks so one list alone cannot decide.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

DEFAULT_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], *, k: int = DEFAULT_K, weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Items of all rankings, best fused score first; ties keep the order of first appearance."""
    if k < 0:
        raise ValueError("k must not be negative")
    if weights is not None and len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[K, float] = {}
    for index, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[index]
        # A list that repeats an item counts it once, at its best rank.
        for rank, item in enumerate(dict.fromkeys(ranking), start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: position for position, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))
