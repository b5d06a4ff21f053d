"""One BLAS thread per NumPy call of the knowledge base (query embedding, dense scoring).

The matrices are small or memory-bound, and OpenBLAS's spinning worker threads slow to a crawl
when the server's other threads (or other processes) hold the cores.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None


def single_thread() -> AbstractContextManager[Any]:
    """A context in which BLAS uses one thread."""
    # Built once: scanning the loaded libraries costs about a millisecond, as much as a query.
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
