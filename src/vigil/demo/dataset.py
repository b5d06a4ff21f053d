"""The whole demo data set: the same seed and end time always give the same documents."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from vigil.demo.documents import DemoDocument, DocumentSink
from vigil.demo.observability import generate_observability
from vigil.demo.security import generate_security

DEFAULT_SEED = 2024
DEFAULT_DAYS = 7


def default_end() -> datetime:
    """Now, to the minute: data sets generated within the same minute are identical."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def generate(
    seed: int = DEFAULT_SEED, end: datetime | None = None, days: int = DEFAULT_DAYS, space: str = "default"
) -> list[DemoDocument]:
    """Security and observability documents for the `days` before `end`, grouped by index and
    ordered by time within each index (the order a shipper would send them in)."""
    end = (end or default_end()).astimezone(UTC)
    sink = DocumentSink(seed=seed, anchor=end)
    # Separate streams, so a change to one generator leaves the other's data as it was.
    generate_security(sink, random.Random(f"{seed}-security"), end, days, space)
    generate_observability(sink, random.Random(f"{seed}-observability"), end, days, space)
    return sorted(sink.documents, key=lambda document: (document.index, document.timestamp))


def counts_by_index(documents: list[DemoDocument]) -> dict[str, int]:
    return dict(sorted(Counter(document.index for document in documents).items()))
