"""Kibana's placeholders: random UUID v4 strings, made from random bytes fetched in blocks.

`uuid.uuid4()` asks the kernel for 16 random bytes each time; that system call cost more than
everything else a new placeholder needs (a first chat turn with 100 alerts creates ~2,000 of
them). The bytes come from the same source (`os.urandom`), 4 KiB at a time.
"""

from __future__ import annotations

import os
import threading

__all__ = ["uuid_placeholder"]

_BLOCK_SIZE = 4096


class _RandomBlocks:
    """Sixteen random bytes at a time out of `os.urandom` blocks; thread-safe, and a forked
    child starts with a new block (it must not repeat its parent's bytes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._block = b""
        self._position = 0
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._block = b""
        self._position = 0

    def take16(self) -> bytes:
        with self._lock:
            if self._position + 16 > len(self._block):
                self._block = os.urandom(_BLOCK_SIZE)
                self._position = 0
            start = self._position
            self._position = start + 16
            return self._block[start : start + 16]


_random = _RandomBlocks()


def uuid_placeholder() -> str:
    """A random UUID v4 string, as `str(uuid.uuid4())` writes it."""
    digits = _random.take16().hex()
    variant = "89ab"[int(digits[16], 16) & 3]  # RFC 4122: the two top bits of byte 8 are 10
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"
