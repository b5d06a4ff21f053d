"""What the generators produce: documents bound for an index, with stable ids and ECS times."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DemoDocument:
    index: str
    id: str
    source: dict[str, Any]

    @property
    def timestamp(self) -> str:
        return str(self.source["@timestamp"])


def iso(moment: datetime) -> str:
    """Elasticsearch's date format: UTC, milliseconds, `Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class DocumentSink:
    """Collects documents and gives each a stable id: the same seed and anchor give the same ids,
    so loading the same data set twice creates nothing new."""

    seed: int
    anchor: datetime
    documents: list[DemoDocument] = field(default_factory=list)
    _counters: dict[str, int] = field(default_factory=dict)

    def new_id(self, index: str) -> str:
        number = self._counters.get(index, 0)
        self._counters[index] = number + 1
        key = f"{self.seed}|{iso(self.anchor)}|{index}|{number}"
        return hashlib.sha256(key.encode()).hexdigest()[:20]

    def add(self, index: str, source: dict[str, Any], document_id: str | None = None) -> DemoDocument:
        document = DemoDocument(index, document_id or self.new_id(index), source)
        self.documents.append(document)
        return document
